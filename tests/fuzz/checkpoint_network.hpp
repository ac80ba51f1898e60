// The small network the checkpoint fuzz target loads into, and the seed
// corpus is saved from: a dense layer without bias, batch norm (so that the
// checkpoint holds state tensors too), ReLU, and a dense head.
#pragma once

#include <ctnn/graph/network.hpp>
#include <ctnn/ops/activation.hpp>
#include <ctnn/ops/batch_norm.hpp>
#include <ctnn/ops/dense.hpp>
#include <ctnn/ops/io.hpp>
#include <ctnn/ops/loss.hpp>
#include <ctnn/train/checkpoint.hpp>
#include <ctnn/train/model.hpp>

namespace ctnn_fuzz::checkpoint_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto features = ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::dense<"fc1", 3, ctnn::no_bias>(x)));
inline constexpr auto logits = ctnn::dense<"head", 2>(features);
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 2>), ctnn::outputs(logits)));
using model = ctnn::model<network, 1>;
}  // namespace ctnn_fuzz::checkpoint_net
