/// @file gaussian_kl.hpp
/// The VAE's regularizer in closed form: the KL divergence of a diagonal
/// Gaussian N(μ, σ²), given by its mean and log-variance, from N(0, I),
///
///   KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_i (1 + log σ_i² − μ_i² − σ_i²),
///
/// one value per sample (Kingma and Welling, appendix B). A loss: it is a
/// root of the network, or added to the reconstruction loss.
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/loss_options.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
/// out[b] = −½ Σ_i (1 + lv − μ² − e^lv) over sample b's n elements.
template <class T>
inline void gaussian_kl_forward(std::size_t batch, std::size_t n, const T* mean, const T* log_var, T* out,
                                const loss_reduction& r) {
  for (std::size_t b = 0; b < batch; ++b) {
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const T m = mean[b * n + i], lv = log_var[b * n + i];
      sum += T(1) + lv - m * m - std::exp(lv);
    }
    out[b] = reduce_sample(T(-0.5) * sum, n, r);
  }
}
/// d/dμ = μ, d/dlv = ½(e^lv − 1), times the sample's upstream gradient; a
/// null pointer is a gradient not wanted.
template <class T>
inline void gaussian_kl_backward(std::size_t batch, std::size_t n, const T* mean, const T* log_var, const T* dout,
                                 T* dmean, bool accumulate_mean, T* dlog_var, bool accumulate_log_var,
                                 const loss_reduction& r) {
  for (std::size_t b = 0; b < batch; ++b) {
    const T d = reduce_sample(dout[b], n, r);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = b * n + i;
      if (dmean) {
        const T g = d * mean[k];
        dmean[k] = accumulate_mean ? dmean[k] + g : g;
      }
      if (dlog_var) {
        const T g = d * T(0.5) * (std::exp(log_var[k]) - T(1));
        dlog_var[k] = accumulate_log_var ? dlog_var[k] + g : g;
      }
    }
  }
}
}  // namespace detail

template <loss_reduction R = loss_reduction{}>
struct gaussian_kl_op {
  static constexpr auto name = no_name;
  template <class Mean, class LogVar>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::gaussian_kl_shapes_differ<Mean, LogVar>>);
    static constexpr std::string_view kind = "gaussian_kl";
    using out_shape = shape<>;
    static constexpr node_role role = node_role::loss;
    static constexpr bool batch_sum = R.batch == batch_reduction::sum;
    static constexpr std::size_t n = Mean::size;
    static constexpr double flops = 6.0 * n;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      detail::gaussian_kl_forward(B, n, a.in[0], a.in[1], a.out, R);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      detail::gaussian_kl_backward(B, n, a.in[0], a.in[1], a.dout,
                                   grad_mode::wants_input(Mode, 0) ? a.din[0] : nullptr,
                                   grad_mode::adds_to_input(Mode, 0),
                                   grad_mode::wants_input(Mode, 1) ? a.din[1] : nullptr,
                                   grad_mode::adds_to_input(Mode, 1), R);
    }
  };
};

struct gaussian_kl_fn {
  /// `gaussian_kl(mean, log_variance, options...)`: options from
  /// ctnn/ops/loss_options.hpp (`reduce::sample_mean` divides by the latent
  /// size, `reduce::batch_sum` sums over the batch).
  template <graph_value M, graph_value V, class... Options>
  constexpr auto operator()(const M& mean, const V& log_variance, const Options&...) const {
    constexpr loss_reduction r =
        detail::loss_options<"gaussian_kl", detail::sample_sum_over::elements, false, false, Options...>::value;
    return make_node<gaussian_kl_op<r>>(mean, log_variance);
  }
};

/// KL(N(mean, e^log_variance) ‖ N(0, I)), summed over the latent dimensions.
inline constexpr gaussian_kl_fn gaussian_kl{};

}  // namespace ctnn
