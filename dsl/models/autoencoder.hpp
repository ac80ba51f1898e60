/// @file autoencoder.hpp
/// The tied-weight autoencoder of Fashion-MNIST: 784 → 128 sigmoid code →
/// the encoder's weight transposed → 784 Bernoulli logits, trained with the
/// sigmoid cross-entropy against a target image. The plain autoencoder feeds
/// the same image as input and target; the denoising one feeds a corrupted
/// image (a share of its pixels zeroed) and the clean one as the target.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::autoencoder {

inline constexpr std::size_t pixels = 784, code_size = 128;

inline constexpr auto image = ctnn::input<"image", ctnn::shape<pixels>>;
inline constexpr auto target = ctnn::input<"target", ctnn::shape<pixels>>;
inline constexpr auto code = ctnn::sigmoid(ctnn::dense<"enc", code_size>(image));
// The decoder owns only its bias: its weight is enc.weight [784, 128], read transposed.
inline constexpr auto logits = ctnn::dense_transposed<"dec", "enc.weight", pixels>(code);
inline constexpr auto reconstruction = ctnn::sigmoid(ctnn::ref<logits>);
using network = decltype(ctnn::network(ctnn::sigmoid_cross_entropy(ctnn::ref<logits>, target),
                                       ctnn::outputs(reconstruction)));

static_assert(network::param_count == pixels * code_size + code_size + pixels);

}  // namespace ctnn::models::autoencoder
