/// @file batch_norm.hpp
/// Batch normalization (Ioffe & Szegedy): each feature of a flat layer, or
/// each channel of an image [C, H, W] (over the batch and all H·W positions,
/// the paper's §3.2), is normalized by the batch's mean and variance in
/// training and by running averages at inference, then scaled by γ and
/// shifted by β.
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/real.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// Parameters "<name>.gamma" (ones) and "<name>.beta" (zeros), one per
/// feature or channel; non-trainable state "<name>.running_mean" (zeros) and
/// "<name>.running_var" (ones), updated as r ← momentum·r + (1 − momentum)·
/// batch value, the variance unbiased (× m/(m − 1) for the m = B values of a
/// feature, or the m = B·H·W values of a channel).
template <fixed_string Name, real Momentum = 0.9, real Epsilon = 1e-5>
struct batch_norm_op {
  static constexpr auto name = Name;
  static constexpr auto gamma_name = Name + ".gamma";
  static constexpr auto beta_name = Name + ".beta";
  static constexpr auto mean_name = Name + ".running_mean";
  static constexpr auto var_name = Name + ".running_var";

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::batch_norm_input_is_not_flat_or_image<Name, In>>);
    static constexpr std::string_view kind = "batch_norm";
    using out_shape = In;
    static constexpr std::size_t n = In::size;
    /// An image is normalized per channel: C channels of HW values each.
    static constexpr bool spatial = In::rank == 3;
    static constexpr std::size_t C = [] {
      if constexpr (spatial) return In::dims[0];
      else return n;
    }();
    static constexpr std::size_t HW = n / C;
    static constexpr std::array<param_decl, 4> params{
        param_decl{gamma_name.view(), info_of<shape<C>>(), init_kind::ones, C, C, true, false},
        param_decl{beta_name.view(), info_of<shape<C>>(), init_kind::zeros, C, C, true, false},
        param_decl{mean_name.view(), info_of<shape<C>>(), init_kind::zeros, C, C, false, false},
        param_decl{var_name.view(), info_of<shape<C>>(), init_kind::ones, C, C, false, false}};
    // Flat: x̂ for every sample, then 1/sqrt(var + ε) once (the per-sample
    // area is doubled so that the batch-wide vector always fits). Spatial:
    // only each channel's mean and 1/σ; backward recomputes x̂ from the
    // input, which training keeps, rather than storing a second copy of
    // every feature map.
    static constexpr std::size_t scratch_size = spatial ? 2 * C : 2 * n;
    static constexpr double flops = 8.0 * n;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      if constexpr (spatial) forward_spatial<B>(a);
      else forward_flat<B>(a);
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (spatial) backward_spatial<B, Mode>(a);
      else backward_flat<B, Mode>(a);
    }
    static constexpr std::size_t temp_size = spatial ? 0 : 2 * n;

    // Per channel c, over the m = B·HW values x of the batch's planes:
    // μ = Σx/m, σ² = Σ(x − μ)²/m (two passes, as the flat case), then
    // y = γ(x − μ)/sqrt(σ² + ε) + β, one vectorized pass per plane.
    template <std::size_t B, class T>
    static void forward_spatial(const forward_args<T>& a) {
      using kernels::fixed;
      const T* gamma = a.param[0];
      const T* beta = a.param[1];
      T* running_mean = a.param[2];
      T* running_var = a.param[3];
      const T eps = T(Epsilon.value());
      auto normalize = [&](std::size_t c, T mu, T inv_std) {
        const T g = gamma[c] * inv_std, be = beta[c];
        for (std::size_t b = 0; b < B; ++b) {
          const std::size_t o = (b * C + c) * HW;
          kernels::map<HW>(a.out + o, [mu, g, be](auto v) { return (v - mu) * g + be; }, a.in[0] + o);
        }
      };
      if (!a.training) {
        for (std::size_t c = 0; c < C; ++c) normalize(c, running_mean[c], T(1) / std::sqrt(running_var[c] + eps));
        return;
      }
      constexpr std::size_t m = B * HW;
      T* mean = a.scratch;
      T* inv_std = a.scratch + C;
      const T momentum = T(Momentum.value());
      for (std::size_t c = 0; c < C; ++c) {
        T s = 0;
        for (std::size_t b = 0; b < B; ++b)
          s += kernels::map_sum(fixed<HW>{}, [](auto v) { return v; }, a.in[0] + (b * C + c) * HW);
        const T mu = s / T(m);
        T q = 0;
        for (std::size_t b = 0; b < B; ++b)
          q += kernels::map_sum(
              fixed<HW>{}, [mu](auto v) { return (v - mu) * (v - mu); }, a.in[0] + (b * C + c) * HW);
        const T var = q / T(m);
        running_mean[c] = momentum * running_mean[c] + (T(1) - momentum) * mu;
        running_var[c] = momentum * running_var[c] + (T(1) - momentum) * (m > 1 ? var * T(m) / T(m - 1) : var);
        mean[c] = mu;
        inv_std[c] = T(1) / std::sqrt(var + eps);
        normalize(c, mu, inv_std[c]);
      }
    }

    // The flat case's formulas with the sums over all m = B·HW values of a
    // channel: dβ = Σ dy, dγ = Σ dy·x̂ = Σ dy·(x − μ)/σ, and
    // dx = γ/σ · (dy − dβ/m − x̂·dγ/m).
    template <std::size_t B, unsigned Mode, class T>
    static void backward_spatial(const backward_args<T>& a) {
      using kernels::fixed;
      constexpr std::size_t m = B * HW;
      const T* mean = a.scratch;
      const T* inv_std = a.scratch + C;
      const T* gamma = a.param[0];
      for (std::size_t c = 0; c < C; ++c) {
        const T mu = mean[c], is = inv_std[c];
        T dbeta = 0, dxc = 0;  // Σ dy and Σ dy·(x − μ)
        for (std::size_t b = 0; b < B; ++b) {
          const std::size_t o = (b * C + c) * HW;
          dbeta += kernels::map_sum(fixed<HW>{}, [](auto d) { return d; }, a.dout + o);
          dxc += kernels::map_sum(fixed<HW>{}, [mu](auto d, auto v) { return d * (v - mu); }, a.dout + o, a.in[0] + o);
        }
        const T dgamma = dxc * is;
        if constexpr (grad_mode::wants_param(Mode, 0))
          a.dparam[0][c] = grad_mode::adds_to_param(Mode, 0) ? a.dparam[0][c] + dgamma : dgamma;
        if constexpr (grad_mode::wants_param(Mode, 1))
          a.dparam[1][c] = grad_mode::adds_to_param(Mode, 1) ? a.dparam[1][c] + dbeta : dbeta;
        if constexpr (grad_mode::wants_input(Mode, 0)) {
          constexpr bool acc = grad_mode::adds_to_input(Mode, 0);
          const T g = gamma[c] * is, mb = dbeta / T(m), mg = is * dgamma / T(m);
          auto dx = [mu, g, mb, mg](auto d, auto v) { return g * (d - mb - (v - mu) * mg); };
          for (std::size_t b = 0; b < B; ++b) {
            const std::size_t o = (b * C + c) * HW;
            kernels::map_into<acc, HW>(a.din[0] + o, dx, a.dout + o, a.in[0] + o);
          }
        }
      }
    }

    template <std::size_t B, class T>
    static void forward_flat(const forward_args<T>& a) {
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
    static void backward_flat(const backward_args<T>& a) {
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
      if constexpr (grad_mode::wants_param(Mode, 0))
        for (std::size_t j = 0; j < n; ++j) store(a.dparam[0], j, dgamma[j], grad_mode::adds_to_param(Mode, 0));
      if constexpr (grad_mode::wants_param(Mode, 1))
        for (std::size_t j = 0; j < n; ++j) store(a.dparam[1], j, dbeta[j], grad_mode::adds_to_param(Mode, 1));
      if constexpr (grad_mode::wants_input(Mode, 0)) {
        constexpr bool acc = grad_mode::adds_to_input(Mode, 0);
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t j = 0; j < n; ++j) {
            const std::size_t k = b * n + j;
            const T g = gamma[j] * inv_std[j] / T(B) * (T(B) * dy[k] - dbeta[j] - xhat[k] * dgamma[j]);
            a.din[0][k] = acc ? a.din[0][k] + g : g;
          }
      }
    }
  };
};

template <fixed_string Name, real Momentum, real Epsilon>
struct batch_norm_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<batch_norm_op<Name, Momentum, Epsilon>>(x); }
};
/// `batch_norm<"bn1">(dense<"fc1", 256, no_bias>(x))` or
/// `batch_norm<"bn1">(conv2d<"conv1", 64, 3, padding<1>, no_bias>(x))`, then
/// the activation.
template <fixed_string Name, real Momentum = 0.9, real Epsilon = 1e-5>
inline constexpr batch_norm_fn<Name, Momentum, Epsilon> batch_norm{};

}  // namespace ctnn
