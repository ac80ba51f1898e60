// ctnn_explain's view of LeNet: the network of dsl/models/lenet.hpp, layer
// for layer and name for name (so a checkpoint of ctnn_train --model lenet
// loads into it), with the image declared requires_grad (saliency, FGSM,
// gradient ascent on the image) and conv1 and conv2 as outputs besides the
// logits (their activation maps, and DeepDream's backward_from a layer).
#pragma once

#include <cstddef>

#include <ctnn/ctnn.hpp>

namespace ctnn_explain {

inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>, ctnn::requires_grad>;
inline constexpr auto conv1 = ctnn::conv2d<"conv1", 20, 5>(image);
inline constexpr auto conv2 = ctnn::conv2d<"conv2", 50, 5>(ctnn::max_pool<2>(ctnn::ref<conv1>));
inline constexpr auto logits =
    ctnn::dense<"ip2", 10>(ctnn::relu(ctnn::dense<"ip1", 500>(ctnn::flatten(ctnn::max_pool<2>(ctnn::ref<conv2>)))));
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::ref<logits>, ctnn::label<"class", 10>),
                                       ctnn::outputs(ctnn::ref<logits>, ctnn::ref<conv1>, ctnn::ref<conv2>)));

// Indices in outputs(...): backward_from<K> and predict<K> take them.
inline constexpr std::size_t logits_output = 0, conv1_output = 1, conv2_output = 2;
inline constexpr std::size_t height = 28, width = 28, channels = 1, pixels = channels * height * width, classes = 10;

static_assert(network::param_count == 431'080, "the same parameters as ctnn::models::lenet::network");

}  // namespace ctnn_explain
