/// @file lenet_aux.hpp
/// LeNet (lenet.hpp) with an auxiliary classifier on its first pooled
/// features: deep supervision as in seed 001's "Deeply Supervised CNN"
/// prototxt. The side branch "ip1_side" (an inner product of 10 on pool1,
/// flattened) has its own softmax loss l1, and the network's loss is
/// L + α·l1 (seed 001: L_new = L + Σ_j α_j l_j), so conv1 learns from both
/// classifiers. predict() returns the main logits; predict<1>() the side's.
///
///   [1, 28, 28] → conv1 [20, 24, 24] → pool1 [20, 12, 12] ─┬→ conv2 … ip2 [10]  (loss L)
///                                                          └→ flatten [2880] → ip1_side [10]  (loss α·l1)
///
/// Parameters: LeNet's 431,080 plus ip1_side's 2,880·10 + 10 = 28,810; in
/// all 459,890.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::lenet_aux {

inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;
inline constexpr auto label = ctnn::label<"class", 10>;
inline constexpr auto pool1 = ctnn::max_pool<2>(ctnn::conv2d<"conv1", 20, 5>(image));
inline constexpr auto features = ctnn::max_pool<2>(ctnn::conv2d<"conv2", 50, 5>(ctnn::ref<pool1>));
inline constexpr auto logits = ctnn::dense<"ip2", 10>(ctnn::relu(ctnn::dense<"ip1", 500>(ctnn::flatten(features))));
inline constexpr auto side_logits = ctnn::dense<"ip1_side", 10>(ctnn::flatten(ctnn::ref<pool1>));

/// The network with the auxiliary loss weighted by Alpha (a compile-time
/// constant: each weight is a network type of its own).
template <ctnn::real Alpha = 0.3>
using network_with = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, label),
                                            ctnn::scale<Alpha>(ctnn::softmax_cross_entropy(side_logits, label)),
                                            ctnn::outputs(logits, side_logits)));
using network = network_with<>;

static_assert(std::is_same_v<decltype(pool1)::out_shape, ctnn::shape<20, 12, 12>>);
static_assert(std::is_same_v<decltype(side_logits)::out_shape, ctnn::shape<10>>);
static_assert(network::param_count == 431'080 + 28'810);
static_assert(network::param_count == 459'890);

}  // namespace ctnn::models::lenet_aux
