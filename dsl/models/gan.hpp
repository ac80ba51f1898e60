/// @file gan.hpp
/// A DCGAN (Radford et al.) for Fashion-MNIST, as two networks trained
/// against each other.
///
/// The generator turns a code z of 64 values, fed as an image of 64 channels
/// and 1×1 pixels (so no reshape is needed), into a 28×28 picture:
///
///   z [64, 1, 1] → project, 7×7 filters [128, 7, 7] + batch norm + ReLU
///   → up14, 4×4 stride 2 padding 1 [64, 14, 14] + batch norm + ReLU
///   → up28, 4×4 stride 2 padding 1 [1, 28, 28] + sigmoid
///
/// (a transposed convolution gives (H − 1)·S − 2P + F rows: 0 + 7, 6·2 − 2 + 4
/// and 13·2 − 2 + 4). The sigmoid puts the pixels in [0, 1], as the data set
/// is read. The two layers before a batch norm have no bias (the norm removes
/// any shift). The network has no loss: its output "up28" is where the
/// training loop starts the backward pass with the gradient the discriminator
/// hands back.
///
/// The discriminator scores an image as real (logit > 0) or generated:
///
///   image [1, 28, 28] → down14, 4×4 stride 2 padding 1 [64, 14, 14] + leaky ReLU 0.2
///   → down7, 4×4 stride 2 padding 1 [128, 7, 7] + leaky ReLU 0.2 → logit [1]
///
/// with the sigmoid cross-entropy against a target fed as 1 (real) or 0
/// (generated). It has no batch norm: a norm would see the real and the
/// generated batches apart, and the generator's step, which runs the
/// discriminator in training mode to get the gradient, would move its running
/// statistics. The image is declared requires_grad: dLoss/dimage is what the
/// generator learns from.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::gan {

inline constexpr std::size_t code_size = 64, side = 28, pixels = side * side;

namespace generator_layers {
inline constexpr auto z = ctnn::input<"z", ctnn::shape<code_size, 1, 1>>;
inline constexpr auto projected = ctnn::relu(ctnn::batch_norm<"project_bn">(
    ctnn::conv2d_transpose<"project", 128, 7, ctnn::no_bias>(z)));
inline constexpr auto up14 = ctnn::relu(ctnn::batch_norm<"up14_bn">(
    ctnn::conv2d_transpose<"up14", 64, 4, ctnn::stride<2>, ctnn::padding<1>, ctnn::no_bias>(projected)));
inline constexpr auto image =
    ctnn::sigmoid(ctnn::conv2d_transpose<"up28", 1, 4, ctnn::stride<2>, ctnn::padding<1>>(up14));
}  // namespace generator_layers

/// z → pixels in [0, 1]; output "up28".
using generator = decltype(ctnn::network(ctnn::outputs(generator_layers::image)));

namespace discriminator_layers {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, side, side>, ctnn::requires_grad>;
inline constexpr auto target = ctnn::input<"target", ctnn::shape<1>>;
inline constexpr auto down14 =
    ctnn::leaky_relu<0.2>(ctnn::conv2d<"down14", 64, 4, ctnn::stride<2>, ctnn::padding<1>>(image));
inline constexpr auto down7 =
    ctnn::leaky_relu<0.2>(ctnn::conv2d<"down7", 128, 4, ctnn::stride<2>, ctnn::padding<1>>(down14));
inline constexpr auto logit = ctnn::dense<"logit", 1>(ctnn::flatten(down7));
}  // namespace discriminator_layers

/// image, target (1 real, 0 generated) → the sigmoid cross-entropy; output "logit".
using discriminator = decltype(ctnn::network(
    ctnn::sigmoid_cross_entropy(ctnn::ref<discriminator_layers::logit>, discriminator_layers::target),
    ctnn::outputs(ctnn::ref<discriminator_layers::logit>)));

static_assert(std::is_same_v<decltype(generator_layers::image)::out_shape, ctnn::shape<1, side, side>>);
static_assert(std::is_same_v<decltype(discriminator_layers::down7)::out_shape, ctnn::shape<128, 7, 7>>);
static_assert(generator::param_count == code_size * 128 * 7 * 7 + 2 * 128 + 128 * 64 * 4 * 4 + 2 * 64 +
                                            64 * 1 * 4 * 4 + 1);
static_assert(discriminator::param_count == 64 * 1 * 4 * 4 + 64 + 128 * 64 * 4 * 4 + 128 + 128 * 7 * 7 + 1);

}  // namespace ctnn::models::gan
