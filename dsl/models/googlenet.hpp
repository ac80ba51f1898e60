/// @file googlenet.hpp
/// GoogLeNet (Szegedy et al. 2014) as Caffe's bvlc_googlenet and seed 003's
/// table, with its two auxiliary classifiers. Every convolution has a bias
/// and a ReLU.
///
///   [3, 224, 224] → conv1/7x7_s2 64 7×7/2 p3 [64, 112, 112] → pool1 3/2 [64, 56, 56]
///   → conv2/3x3_reduce 64 1×1 → conv2/3x3 192 3×3 p1 [192, 56, 56] → pool2 3/2 [192, 28, 28]
///   → inception 3a [256, 28, 28], 3b [480, 28, 28] → pool3 3/2 [480, 14, 14]
///   → 4a [512], 4b [512], 4c [512], 4d [528], 4e [832, 14, 14] → pool4 3/2 [832, 7, 7]
///   → 5a [832], 5b [1024, 7, 7] → avg pool 7/1 [1024, 1, 1] → dropout 0.4
///   → loss3/classifier 1000
///
/// The windows of conv1 and of the four 3×3/2 pools do not tile their
/// inputs; they round as Caffe does: conv1 down (`floor_mode`: 111.5 → 112),
/// the pools up (`ceil_mode`: 112 → 56, 56 → 28, 28 → 14, 14 → 7).
///
/// The auxiliary classifiers loss1 (on 4a) and loss2 (on 4d): avg pool 5/3
/// [C, 4, 4] → conv 128 1×1 + ReLU → fc 1024 + ReLU → dropout 0.7 → fc 1000,
/// each a softmax loss weighted 0.3 in the network's loss; predict() gives
/// the main classifier's scores.
///
/// Caffe's pool1/norm1 and conv2/norm2 (local response normalization) are
/// left out: ctnn has no LRN op, and they have no parameters.
///
/// Parameters, as the Caffe layer list gives them (weights + biases): stem
/// 124,416 (conv1 9,472; conv2 reduce 4,160; conv2 110,784), inception 3a
/// 163,696, 3b 388,736, 4a 376,176, 4b 449,160, 4c 510,104, 4d 605,376, 4e
/// 868,352, 5a 1,043,456, 5b 1,444,080, classifier 1,025,000: the main
/// network 6,998,552; loss1 3,188,840 and loss2 3,190,888; 13,378,280 in all.
/// Seed 003's "params" column (the paper's, weights only, K = 1024) agrees
/// for 3a (163,328 weights = 159.5K: "159K") and 3b (379.0K: "380K") and
/// not for the rest (4c: 497.5K, printed 463K); see docs/guide.md, 14.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::googlenet {

using ctnn::ceil_mode, ctnn::floor_mode, ctnn::padding, ctnn::stride;

/// A convolution with bias and ReLU, as every one of GoogLeNet's.
template <fixed_string Name, std::size_t C, std::size_t F, class... Options, class X>
constexpr auto conv(X x) {
  return ctnn::relu(ctnn::conv2d<Name, C, F, Options...>(x));
}

/// An inception module: four branches over the same input x (bind it and
/// pass ref<>), stacked by channels: 1×1 (A); 1×1 (R3) → 3×3 p1 (C3); 1×1
/// (R5) → 5×5 p2 (C5); max pool 3×3/1 p1 → 1×1 (Proj). Layers are named
/// as Caffe's: "<P>/1x1", "<P>/3x3_reduce", ..., "<P>/pool_proj".
template <fixed_string P, std::size_t A, std::size_t R3, std::size_t C3, std::size_t R5, std::size_t C5,
          std::size_t Proj, class X>
constexpr auto inception(X x) {
  return ctnn::concat(conv<P + "/1x1", A, 1>(x),
                      conv<P + "/3x3", C3, 3, padding<1>>(conv<P + "/3x3_reduce", R3, 1>(x)),
                      conv<P + "/5x5", C5, 5, padding<2>>(conv<P + "/5x5_reduce", R5, 1>(x)),
                      conv<P + "/pool_proj", Proj, 1>(ctnn::max_pool<3, stride<1>, padding<1>>(x)));
}

/// An auxiliary classifier's scores: avg pool 5×5/3 → 1×1 conv 128 + ReLU →
/// fc 1024 + ReLU → dropout 0.7 → fc 1000 (layers "<P>/conv", "<P>/fc",
/// "<P>/classifier").
template <fixed_string P, class X>
constexpr auto auxiliary(X x) {
  const auto pooled = ctnn::avg_pool<5, stride<3>>(x);
  const auto fc = ctnn::relu(ctnn::dense<P + "/fc", 1024>(ctnn::flatten(conv<P + "/conv", 128, 1>(pooled))));
  return ctnn::dense<P + "/classifier", 1000>(ctnn::dropout<0.7>(fc));
}

inline constexpr auto image = ctnn::input<"data", ctnn::shape<3, 224, 224>>;
inline constexpr auto label = ctnn::label<"label", 1000>;

inline constexpr auto pool1 =
    ctnn::max_pool<3, stride<2>, ceil_mode>(conv<"conv1/7x7_s2", 64, 7, stride<2>, padding<3>, floor_mode>(image));
inline constexpr auto pool2 = ctnn::max_pool<3, stride<2>, ceil_mode>(
    conv<"conv2/3x3", 192, 3, padding<1>>(conv<"conv2/3x3_reduce", 64, 1>(pool1)));
inline constexpr auto i3a = inception<"inception_3a", 64, 96, 128, 16, 32, 32>(ctnn::ref<pool2>);
inline constexpr auto i3b = inception<"inception_3b", 128, 128, 192, 32, 96, 64>(ctnn::ref<i3a>);
inline constexpr auto pool3 = ctnn::max_pool<3, stride<2>, ceil_mode>(ctnn::ref<i3b>);
inline constexpr auto i4a = inception<"inception_4a", 192, 96, 208, 16, 48, 64>(ctnn::ref<pool3>);
inline constexpr auto i4b = inception<"inception_4b", 160, 112, 224, 24, 64, 64>(ctnn::ref<i4a>);
inline constexpr auto i4c = inception<"inception_4c", 128, 128, 256, 24, 64, 64>(ctnn::ref<i4b>);
inline constexpr auto i4d = inception<"inception_4d", 112, 144, 288, 32, 64, 64>(ctnn::ref<i4c>);
inline constexpr auto i4e = inception<"inception_4e", 256, 160, 320, 32, 128, 128>(ctnn::ref<i4d>);
inline constexpr auto pool4 = ctnn::max_pool<3, stride<2>, ceil_mode>(ctnn::ref<i4e>);
inline constexpr auto i5a = inception<"inception_5a", 256, 160, 320, 32, 128, 128>(ctnn::ref<pool4>);
inline constexpr auto i5b = inception<"inception_5b", 384, 192, 384, 48, 128, 128>(ctnn::ref<i5a>);
inline constexpr auto pool5 = ctnn::avg_pool<7, stride<1>>(ctnn::ref<i5b>);
inline constexpr auto logits = ctnn::dense<"loss3/classifier", 1000>(ctnn::dropout<0.4>(ctnn::flatten(pool5)));
inline constexpr auto aux1 = auxiliary<"loss1">(ctnn::ref<i4a>);
inline constexpr auto aux2 = auxiliary<"loss2">(ctnn::ref<i4d>);

using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, label),
                                       ctnn::scale<0.3>(ctnn::softmax_cross_entropy(aux1, label)),
                                       ctnn::scale<0.3>(ctnn::softmax_cross_entropy(aux2, label)),
                                       ctnn::outputs(logits)));

static_assert(std::is_same_v<decltype(pool1)::out_shape, ctnn::shape<64, 56, 56>>);
static_assert(std::is_same_v<decltype(pool2)::out_shape, ctnn::shape<192, 28, 28>>);
static_assert(std::is_same_v<decltype(i3a)::out_shape, ctnn::shape<256, 28, 28>>);
static_assert(std::is_same_v<decltype(i3b)::out_shape, ctnn::shape<480, 28, 28>>);
static_assert(std::is_same_v<decltype(pool3)::out_shape, ctnn::shape<480, 14, 14>>);
static_assert(std::is_same_v<decltype(i4d)::out_shape, ctnn::shape<528, 14, 14>>);
static_assert(std::is_same_v<decltype(i4e)::out_shape, ctnn::shape<832, 14, 14>>);
static_assert(std::is_same_v<decltype(pool4)::out_shape, ctnn::shape<832, 7, 7>>);
static_assert(std::is_same_v<decltype(i5b)::out_shape, ctnn::shape<1024, 7, 7>>);
static_assert(std::is_same_v<decltype(logits)::out_shape, ctnn::shape<1000>>);
static_assert(std::is_same_v<decltype(aux1)::out_shape, ctnn::shape<1000>>);
static_assert(network::param_count == 6'998'552 + 3'188'840 + 3'190'888);

}  // namespace ctnn::models::googlenet
