/// @file alexnet.hpp
/// AlexNet (Krizhevsky, Sutskever and Hinton 2012) as Caffe's bvlc_alexnet,
/// the network of seed 003, on [3, 227, 227] images (the seed's figure note:
/// the paper's 224 does not give the later volumes; 227 does).
///
///   [3, 227, 227] → conv1 96 11×11/4 + ReLU [96, 55, 55] → pool1 3/2 [96, 27, 27]
///   → conv2 256 5×5 p2 g2 + ReLU [256, 27, 27] → pool2 3/2 [256, 13, 13]
///   → conv3 384 3×3 p1 + ReLU → conv4 384 3×3 p1 g2 + ReLU
///   → conv5 256 3×3 p1 g2 + ReLU [256, 13, 13] → pool5 3/2 [256, 6, 6]
///   → fc6 4096 + ReLU → dropout 0.5 → fc7 4096 + ReLU → dropout 0.5 → fc8 1000
///
/// Caffe's norm1 and norm2 (local response normalization after pool1 and
/// pool2) are left out: ctnn has no LRN op. They have no parameters, so the
/// count is Caffe's: conv1 34,944; conv2 307,456; conv3 885,120; conv4
/// 663,936; conv5 442,624; fc6 37,752,832; fc7 16,781,312; fc8 4,097,000;
/// in all 60,965,224.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::alexnet {

using ctnn::groups, ctnn::padding, ctnn::stride;

inline constexpr auto image = ctnn::input<"data", ctnn::shape<3, 227, 227>>;
inline constexpr auto pool1 = ctnn::max_pool<3, stride<2>>(ctnn::relu(ctnn::conv2d<"conv1", 96, 11, stride<4>>(image)));
inline constexpr auto pool2 =
    ctnn::max_pool<3, stride<2>>(ctnn::relu(ctnn::conv2d<"conv2", 256, 5, padding<2>, groups<2>>(pool1)));
inline constexpr auto conv3 = ctnn::relu(ctnn::conv2d<"conv3", 384, 3, padding<1>>(pool2));
inline constexpr auto conv4 = ctnn::relu(ctnn::conv2d<"conv4", 384, 3, padding<1>, groups<2>>(conv3));
inline constexpr auto conv5 = ctnn::relu(ctnn::conv2d<"conv5", 256, 3, padding<1>, groups<2>>(conv4));
inline constexpr auto pool5 = ctnn::max_pool<3, stride<2>>(conv5);
inline constexpr auto fc7 = ctnn::dropout<0.5>(ctnn::relu(ctnn::dense<"fc7", 4096>(
    ctnn::dropout<0.5>(ctnn::relu(ctnn::dense<"fc6", 4096>(ctnn::flatten(pool5)))))));
inline constexpr auto logits = ctnn::dense<"fc8", 1000>(fc7);
using network =
    decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"label", 1000>), ctnn::outputs(logits)));

static_assert(std::is_same_v<decltype(pool1)::out_shape, ctnn::shape<96, 27, 27>>);
static_assert(std::is_same_v<decltype(pool2)::out_shape, ctnn::shape<256, 13, 13>>);
static_assert(std::is_same_v<decltype(pool5)::out_shape, ctnn::shape<256, 6, 6>>);
static_assert(std::is_same_v<decltype(logits)::out_shape, ctnn::shape<1000>>);
static_assert(network::param_count == 60'965'224);

}  // namespace ctnn::models::alexnet
