/// @file mlp.hpp
/// The Fashion-MNIST multilayer perceptron: 784 → 256 → 128 → 10 with ReLU,
/// trained with softmax cross-entropy; and its variants with batch
/// normalization and dropout on the two hidden layers.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::mlp {

inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto label = ctnn::label<"class", 10>;
inline constexpr auto logits =
    ctnn::dense<"fc3", 10>(ctnn::relu(ctnn::dense<"fc2", 128>(ctnn::relu(ctnn::dense<"fc1", 256>(image)))));
using network =
    decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, label), ctnn::outputs(logits)));

static_assert(network::param_count == 235'146);

/// One hidden layer: dense → [batch norm] → ReLU → [dropout P]. With batch
/// norm the dense layer has no bias (β takes its place): parameters
/// `<Fc>.weight`, `<Bn>.gamma`, `<Bn>.beta`, state `<Bn>.running_mean`,
/// `<Bn>.running_var`; without it `<Fc>.weight`, `<Fc>.bias`.
template <fixed_string Fc, fixed_string Bn, std::size_t N, bool BatchNorm, real P, class X>
constexpr auto hidden_layer(X x) {
  const auto activated = [&] {
    if constexpr (BatchNorm) return ctnn::relu(ctnn::batch_norm<Bn>(ctnn::dense<Fc, N, ctnn::no_bias>(x)));
    else return ctnn::relu(ctnn::dense<Fc, N>(x));
  }();
  if constexpr (P.value() > 0) return ctnn::dropout<P>(activated);
  else return activated;
}

/// The MLP with batch normalization after fc1 and fc2 (layers bn1, bn2) when
/// BatchNorm, and dropout with drop probability P after each hidden ReLU when
/// P > 0. fc3 is the same in every variant, so a checkpoint of one variant
/// can initialize another's fc3 (and its fc1/fc2 weights: same shapes).
template <bool BatchNorm, real P>
struct variant {
  static constexpr auto logits = ctnn::dense<"fc3", 10>(
      hidden_layer<"fc2", "bn2", 128, BatchNorm, P>(hidden_layer<"fc1", "bn1", 256, BatchNorm, P>(image)));
  using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, label), ctnn::outputs(logits)));
};

/// Batch norm after fc1 and fc2 and dropout P after each hidden ReLU.
template <real P>
using mlp_dropout_bn = typename variant<true, P>::network;
/// Dropout P after each hidden ReLU.
template <real P>
using mlp_dropout = typename variant<false, P>::network;
/// Batch norm after fc1 and fc2.
using mlp_bn = typename variant<true, 0.0>::network;

static_assert(mlp_bn::param_count == 784 * 256 + 2 * 256 + 256 * 128 + 2 * 128 + 128 * 10 + 10);
static_assert(mlp_dropout<0.2>::param_count == network::param_count);

}  // namespace ctnn::models::mlp
