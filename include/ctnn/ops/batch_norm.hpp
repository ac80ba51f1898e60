/// @file batch_norm.hpp
/// Batch normalization of a flat layer (Ioffe & Szegedy): each feature is
/// normalized by the batch's mean and variance in training and by running
/// averages at inference, then scaled by γ and shifted by β.
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/real.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// Parameters "<name>.gamma" (ones) and "<name>.beta" (zeros); non-trainable
/// state "<name>.running_mean" (zeros) and "<name>.running_var" (ones),
/// updated as r ← momentum·r + (1 − momentum)·batch value, the variance
/// unbiased (× B/(B − 1)).
template <fixed_string Name, real Momentum = 0.9, real Epsilon = 1e-5>
struct batch_norm_op {
  static constexpr auto name = Name;
  static constexpr auto gamma_name = Name + ".gamma";
  static constexpr auto beta_name = Name + ".beta";
  static constexpr auto mean_name = Name + ".running_mean";
  static constexpr auto var_name = Name + ".running_var";

  template <class In>
  struct spec : spec_defaults {
    static_assert(In::rank == 1, "ctnn::batch_norm: the input must be flat [features]; use a spatial batch norm "
                                 "for feature maps");
    static constexpr std::string_view kind = "batch_norm";
    using out_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr std::array<param_decl, 4> params{
        param_decl{gamma_name.view(), info_of<shape<n>>(), init_kind::ones, n, n, true, false},
        param_decl{beta_name.view(), info_of<shape<n>>(), init_kind::zeros, n, n, true, false},
        param_decl{mean_name.view(), info_of<shape<n>>(), init_kind::zeros, n, n, false, false},
        param_decl{var_name.view(), info_of<shape<n>>(), init_kind::ones, n, n, false, false}};
    // x̂ for every sample, then 1/sqrt(var + ε) once (the per-sample area is
    // doubled so that the batch-wide vector always fits).
    static constexpr std::size_t scratch_size = 2 * n;
    static constexpr double flops = 8.0 * n;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      const T* x = a.in[0];
      const T* gamma = a.param[0];
      const T* beta = a.param[1];
      T* running_mean = a.param[2];
      T* running_var = a.param[3];
      const T eps = T(Epsilon.value());
      if (!a.training) {
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t j = 0; j < n; ++j)
            a.out[b * n + j] =
                gamma[j] * (x[b * n + j] - running_mean[j]) / std::sqrt(running_var[j] + eps) + beta[j];
        return;
      }
      T* xhat = a.scratch;
      T* inv_std = a.scratch + B * n;
      T* mean = a.out;  // the first output row holds the mean until it is overwritten last
      for (std::size_t j = 0; j < n; ++j) inv_std[j] = 0;
      for (std::size_t j = 0; j < n; ++j) xhat[j] = 0;
      // mean (in xhat's first row), then variance (in inv_std)
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t j = 0; j < n; ++j) xhat[j] += x[b * n + j];
      for (std::size_t j = 0; j < n; ++j) xhat[j] /= T(B);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t j = 0; j < n; ++j) {
          const T d = x[b * n + j] - xhat[j];
          inv_std[j] += d * d;
        }
      const T m = T(Momentum.value());
      for (std::size_t j = 0; j < n; ++j) {
        const T var = inv_std[j] / T(B);
        running_mean[j] = m * running_mean[j] + (T(1) - m) * xhat[j];
        running_var[j] = m * running_var[j] + (T(1) - m) * (B > 1 ? var * T(B) / T(B - 1) : var);
        inv_std[j] = T(1) / std::sqrt(var + eps);
        mean[j] = xhat[j];
      }
      for (std::size_t b = B; b-- > 0;)  // last to first: row 0 still holds the mean
        for (std::size_t j = 0; j < n; ++j) {
          const T h = (x[b * n + j] - mean[j]) * inv_std[j];
          xhat[b * n + j] = h;
          a.out[b * n + j] = gamma[j] * h + beta[j];
        }
    }

    // With x̂ and 1/σ from forward: dβ = Σ dy, dγ = Σ dy·x̂, and
    // dx = γ/(Bσ) · (B·dy − dβ − x̂·dγ), the full chain through the batch
    // mean and variance (seed 001's derivation, collected).
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      const T* xhat = a.scratch;
      const T* inv_std = a.scratch + B * n;
      const T* gamma = a.param[0];
      const T* dy = a.dout;
      T* temp = a.temp;  // dβ then dγ, n each
      T* dbeta = temp;
      T* dgamma = temp + n;
      for (std::size_t j = 0; j < n; ++j) dbeta[j] = dgamma[j] = 0;
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t j = 0; j < n; ++j) {
          dbeta[j] += dy[b * n + j];
          dgamma[j] += dy[b * n + j] * xhat[b * n + j];
        }
      auto store = [](T* dst, std::size_t j, T v, bool accumulate) { dst[j] = accumulate ? dst[j] + v : v; };
      if constexpr (bool(Mode & grad_mode::param(0)))
        for (std::size_t j = 0; j < n; ++j) store(a.dparam[0], j, dgamma[j], Mode & grad_mode::param_accumulate(0));
      if constexpr (bool(Mode & grad_mode::param(1)))
        for (std::size_t j = 0; j < n; ++j) store(a.dparam[1], j, dbeta[j], Mode & grad_mode::param_accumulate(1));
      if constexpr (bool(Mode & grad_mode::input(0))) {
        constexpr bool acc = Mode & grad_mode::input_accumulate(0);
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t j = 0; j < n; ++j) {
            const std::size_t k = b * n + j;
            const T g = gamma[j] * inv_std[j] / T(B) * (T(B) * dy[k] - dbeta[j] - xhat[k] * dgamma[j]);
            a.din[0][k] = acc ? a.din[0][k] + g : g;
          }
      }
    }
    static constexpr std::size_t temp_size = 2 * n;
  };
};

template <fixed_string Name, real Momentum, real Epsilon>
struct batch_norm_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<batch_norm_op<Name, Momentum, Epsilon>>(x); }
};
/// `batch_norm<"bn1">(dense<"fc1", 256, no_bias>(x))`, then the activation.
template <fixed_string Name, real Momentum = 0.9, real Epsilon = 1e-5>
inline constexpr batch_norm_fn<Name, Momentum, Epsilon> batch_norm{};

}  // namespace ctnn
