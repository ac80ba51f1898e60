/// @file lenet.hpp
/// LeNet as in Caffe's MNIST prototxt (seed 001): conv 20 5×5, max pool 2,
/// conv 50 5×5, max pool 2, ip 500, ReLU, ip 10, softmax loss. As in the
/// prototxt there is no nonlinearity after the convolutions.
///
///   [1, 28, 28] → conv1 [20, 24, 24] → pool [20, 12, 12] → conv2 [50, 8, 8]
///   → pool [50, 4, 4] → flatten [800] → ip1 [500] + ReLU → ip2 [10]
///
/// Parameters: 20·25 + 20 = 520; 50·20·25 + 50 = 25,050; 800·500 + 500 =
/// 400,500; 500·10 + 10 = 5,010; in all 431,080.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::lenet {

inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;
/// LeNet's layers on any [1, 28, 28] image (the STN-LeNet of stn_lenet.hpp
/// puts them after its spatial transformer): the features and the logits.
template <ctnn::graph_value X>
constexpr auto features_of(const X& x) {
  return ctnn::max_pool<2>(ctnn::conv2d<"conv2", 50, 5>(ctnn::max_pool<2>(ctnn::conv2d<"conv1", 20, 5>(x))));
}
template <ctnn::graph_value X>
constexpr auto logits_of(const X& x) {
  return ctnn::dense<"ip2", 10>(ctnn::relu(ctnn::dense<"ip1", 500>(ctnn::flatten(features_of(x)))));
}
inline constexpr auto features = features_of(image);
inline constexpr auto logits = logits_of(image);
using network =
    decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>), ctnn::outputs(logits)));

/// The variant with batch norm after each convolution (the main job's
/// --batch-norm): conv1 and conv2 lose their biases (the norm removes any
/// shift) and gain "bn1" and "bn2": 431,080 − 70 + 2·70 = 431,150 parameters.
inline constexpr auto features_bn = ctnn::max_pool<2>(ctnn::batch_norm<"bn2">(ctnn::conv2d<"conv2", 50, 5, ctnn::no_bias>(
    ctnn::max_pool<2>(ctnn::batch_norm<"bn1">(ctnn::conv2d<"conv1", 20, 5, ctnn::no_bias>(image))))));
inline constexpr auto logits_bn =
    ctnn::dense<"ip2", 10>(ctnn::relu(ctnn::dense<"ip1", 500>(ctnn::flatten(features_bn))));
using network_bn = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits_bn, ctnn::label<"class", 10>),
                                          ctnn::outputs(logits_bn)));

static_assert(std::is_same_v<decltype(features)::out_shape, ctnn::shape<50, 4, 4>>);
static_assert(std::is_same_v<decltype(logits)::out_shape, ctnn::shape<10>>);
static_assert(network::param_count == 431'080);
static_assert(network_bn::param_count == 431'150);

}  // namespace ctnn::models::lenet
