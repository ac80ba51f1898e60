/// @file vae.hpp
/// The variational autoencoder of Fashion-MNIST (Kingma and Welling): an
/// encoder 784 → 256 ReLU → the mean and log-variance of a 16-dimensional
/// Gaussian code; a sample z = μ + e^(½ log σ²)·ε with ε ~ N(0, I) fed as the
/// input "eps" (the reparameterization trick: the noise is an input, so the
/// gradient reaches μ and σ); a decoder z → 256 ReLU → 784 Bernoulli logits.
/// The loss is the negative ELBO of each image: the sigmoid cross-entropy of
/// the logits against the image plus KL(q(z|x) ‖ N(0, I)) in closed form.
/// `decoder` is the decoder alone, its layers named as in `network`, so that
/// it takes the trained parameters by name and turns codes into images.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::vae {

inline constexpr std::size_t pixels = 784, hidden = 256, latent = 16;

inline constexpr auto image = ctnn::input<"image", ctnn::shape<pixels>>;
inline constexpr auto eps = ctnn::input<"eps", ctnn::shape<latent>>;
inline constexpr auto stats = ctnn::dense<"stats", 2 * latent>(ctnn::relu(ctnn::dense<"enc", hidden>(image)));
inline constexpr auto mean = ctnn::chunk<0, 2>(ctnn::ref<stats>);
inline constexpr auto log_var = ctnn::chunk<1, 2>(ctnn::ref<stats>);
inline constexpr auto z =
    ctnn::add(ctnn::ref<mean>, ctnn::multiply(ctnn::exp(ctnn::scale<0.5>(ctnn::ref<log_var>)), eps));

/// The decoder's layers on any code.
template <class Z>
constexpr auto decode(Z code) {
  return ctnn::dense<"dec2", pixels>(ctnn::relu(ctnn::dense<"dec1", hidden>(code)));
}

inline constexpr auto logits = decode(z);
/// Outputs: 0 the mean, 1 the log-variance, 2 the logits.
using network = decltype(ctnn::network(
    ctnn::add(ctnn::sigmoid_cross_entropy(ctnn::ref<logits>, image), ctnn::gaussian_kl(ctnn::ref<mean>, ctnn::ref<log_var>)),
    ctnn::outputs(ctnn::ref<mean>, ctnn::ref<log_var>, ctnn::ref<logits>)));

inline constexpr auto code = ctnn::input<"z", ctnn::shape<latent>>;
/// Codes to pixel probabilities.
using decoder = decltype(ctnn::network(ctnn::outputs(ctnn::sigmoid(decode(code)))));

static_assert(network::param_count == pixels * hidden + hidden + hidden * 2 * latent + 2 * latent +
                                          latent * hidden + hidden + hidden * pixels + pixels);
static_assert(decoder::param_count == latent * hidden + hidden + hidden * pixels + pixels);

}  // namespace ctnn::models::vae
