// The networks the ONNX export test writes out (export_write.cpp) and reads
// back through tools/onnx_export.py and tools/onnx_import.py
// (onnx_export.cpp): between them the ops ctnn exports, and parts of the
// main models' shapes: an MLP with batch norm, dropout and each activation;
// a LeNet-like conv net with padded, strided, floor- and ceil-rounded
// windows, channel dropout, spatial batch norm, both poolings and a branch;
// dense layers on a sequence.
#pragma once

#include <ctnn/ctnn.hpp>

namespace export_mlp {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<20>>;
inline constexpr auto hidden = ctnn::dropout<0.25>(
    ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::dense<"fc1", 16, ctnn::no_bias>(image))));
// tanh, leaky ReLU and ELU fused into their dense layers; a sigmoid that
// cannot fuse (its input already applies ELU) is a node of its own.
inline constexpr auto features = ctnn::sigmoid(ctnn::elu<1.0>(ctnn::dense<"fc4", 8>(
    ctnn::leaky_relu<0.1>(ctnn::dense<"fc3", 12>(ctnn::tanh(ctnn::dense<"fc2", 12>(hidden)))))));
inline constexpr auto logits = ctnn::dense<"fc5", 5>(features);
inline constexpr auto probabilities = ctnn::softmax(ctnn::ref<logits>);
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::ref<logits>, ctnn::label<"class", 5>),
                                       ctnn::outputs(ctnn::ref<logits>, probabilities)));
inline constexpr std::size_t classes = 5;
}  // namespace export_mlp

namespace export_lenet {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 12, 12>>;
// 12 → (12 + 2 − 3)/2 + 1 = 6 rounded down; 6 → 3 by a 3×3/2 window that
// overhangs (ceil_mode); channel dropout; spatial batch norm; 3 → 2 by a
// 2×2/1 average.
inline constexpr auto pooled = ctnn::avg_pool<2, ctnn::stride<1>>(ctnn::relu(ctnn::batch_norm<"bn1">(
    ctnn::conv2d<"conv2", 6, 3, ctnn::padding<1>, ctnn::no_bias>(ctnn::channel_dropout<0.1>(
        ctnn::max_pool<3, ctnn::stride<2>, ctnn::ceil_mode>(ctnn::relu(
            ctnn::conv2d<"conv1", 4, 3, ctnn::stride<2>, ctnn::padding<1>, ctnn::floor_mode>(image))))))));
inline constexpr auto logits =
    ctnn::dense<"ip2", 5>(ctnn::relu(ctnn::dense<"ip1", 10>(ctnn::flatten(ctnn::ref<pooled>))));
inline constexpr auto log_probabilities = ctnn::log_softmax(ctnn::ref<logits>);
inline constexpr auto channel_means = ctnn::global_avg_pool(ctnn::ref<pooled>);
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::ref<logits>, ctnn::label<"class", 5>),
                                       ctnn::outputs(ctnn::ref<logits>, log_probabilities, channel_means)));
inline constexpr std::size_t classes = 5;
static_assert(std::is_same_v<decltype(pooled)::out_shape, ctnn::shape<6, 2, 2>>);
}  // namespace export_lenet

// Dense layers on a sequence [T, D] (MatMul, then Add of the bias when there
// is one) and log-softmax over each step; not trained (no loss): its
// initial parameters.
namespace export_sequence {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<4, 6>>;
inline constexpr auto log_probabilities = ctnn::log_softmax(
    ctnn::dense<"out", 5, ctnn::no_bias>(ctnn::tanh(ctnn::dense<"proj", 8>(image))));
using network = decltype(ctnn::network(ctnn::outputs(log_probabilities)));
inline constexpr std::size_t classes = 0;
}  // namespace export_sequence

/// The batch the test trains with and predicts on.
inline constexpr std::size_t export_batch = 8;
