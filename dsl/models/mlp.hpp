/// @file mlp.hpp
/// The Fashion-MNIST multilayer perceptron: 784 → 256 → 128 → 10 with ReLU,
/// trained with softmax cross-entropy.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::mlp {

inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto logits =
    ctnn::dense<"fc3", 10>(ctnn::relu(ctnn::dense<"fc2", 128>(ctnn::relu(ctnn::dense<"fc1", 256>(image)))));
using network =
    decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>), ctnn::outputs(logits)));

static_assert(network::param_count == 235'146);

}  // namespace ctnn::models::mlp
