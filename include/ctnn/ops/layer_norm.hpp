/// @file layer_norm.hpp
/// Layer normalization (Ba et al. 2016) over the last axis, PyTorch's
/// nn.LayerNorm(D): each vector x of [D] (or each row of [T, D]) becomes
/// γ ⊙ (x − μ)/√(σ² + ε) + β with μ and σ² its own mean and (biased)
/// variance, ε = 1e-5. Parameters "<name>.weight" (γ, ones) and
/// "<name>.bias" (β, zeros) [D]. Unlike batch norm it uses no batch
/// statistics, so training and inference compute the same thing.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace diagnostic {
/// layer_norm normalizes each vector of [D] or each row of [T, D].
template <fixed_string Layer, class InputShape>
struct layer_norm_input {
  static_assert(InputShape::rank == 1 || InputShape::rank == 2,
                "CTNN_LAYER_NORM_INPUT: layer_norm normalizes a vector [D] or each row of a sequence [T, D]; the "
                "arguments are <layer, input shape>");
};
}  // namespace diagnostic

template <fixed_string Name>
struct layer_norm_op {
  static constexpr auto name = Name;
  static constexpr auto weight_name = Name + ".weight";
  static constexpr auto bias_name = Name + ".bias";
  static constexpr double epsilon = 1e-5;

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::layer_norm_input<Name, In>>);
    static constexpr std::size_t D = In::rank == 2 ? In::dims[1] : In::size, rows = In::size / D;
    static constexpr std::string_view kind = "layer_norm";
    using out_shape = In;
    static constexpr std::array<param_decl, 2> params{
        param_decl{weight_name.view(), info_of<shape<D>>(), init::ones::value, D, D, true, false},
        param_decl{bias_name.view(), info_of<shape<D>>(), init::zeros::value, D, D, true, false}};
    static constexpr std::size_t scratch_size = 2 * rows;  // each row's mean and 1/√(σ² + ε)
    static constexpr std::size_t temp_size = D;            // one row's γ ⊙ dy
    static constexpr double flops = 8.0 * In::size;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t r = 0; r < B * rows; ++r) {
        const T* x = a.in[0] + r * D;
        const T mean = kernels::map_sum(kernels::fixed<D>{}, [](auto v) { return v; }, x) / T(D);
        const T var =
            kernels::map_sum(kernels::fixed<D>{}, [mean](auto v) { return (v - mean) * (v - mean); }, x) / T(D);
        const T rstd = T(1) / std::sqrt(var + T(epsilon));
        a.scratch[2 * r] = mean;
        a.scratch[2 * r + 1] = rstd;
        kernels::map<D>(a.out + r * D, [mean, rstd](auto v, auto g, auto b) { return (v - mean) * rstd * g + b; }, x,
                        a.param[0], a.param[1]);
      }
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      // dγ = Σ dy ⊙ x̂, dβ = Σ dy over the rows; dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)) with g = γ ⊙ dy.
      for (std::size_t r = 0; r < B * rows; ++r) {
        const T* x = a.in[0] + r * D;
        const T* dy = a.dout + r * D;
        const T mean = a.scratch[2 * r], rstd = a.scratch[2 * r + 1];
        const auto xhat = [mean, rstd](auto v) { return (v - mean) * rstd; };
        const bool first = r == 0;
        if constexpr (grad_mode::wants_param(Mode, 0)) {
          if (first && !grad_mode::adds_to_param(Mode, 0))
            kernels::map<D>(a.dparam[0], [xhat](auto d, auto v) { return d * xhat(v); }, dy, x);
          else
            kernels::map_add<D>(a.dparam[0], [xhat](auto d, auto v) { return d * xhat(v); }, dy, x);
        }
        if constexpr (grad_mode::wants_param(Mode, 1)) {
          if (first && !grad_mode::adds_to_param(Mode, 1)) kernels::map<D>(a.dparam[1], [](auto d) { return d; }, dy);
          else kernels::map_add<D>(a.dparam[1], [](auto d) { return d; }, dy);
        }
        if constexpr (grad_mode::wants_input(Mode, 0)) {
          T* g = a.temp;
          kernels::map<D>(g, [](auto d, auto gamma) { return d * gamma; }, dy, a.param[0]);
          const T mean_g = kernels::map_sum(kernels::fixed<D>{}, [](auto v) { return v; }, g) / T(D);
          const T mean_gx =
              kernels::map_sum(kernels::fixed<D>{}, [xhat](auto gv, auto v) { return gv * xhat(v); }, g, x) / T(D);
          kernels::map_into<grad_mode::adds_to_input(Mode, 0), D>(
              a.din[0] + r * D, [xhat, mean_g, mean_gx, rstd](auto gv, auto v) {
                return rstd * (gv - mean_g - xhat(v) * mean_gx);
              },
              g, x);
        }
      }
    }
  };
};

template <fixed_string Name>
struct layer_norm_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<layer_norm_op<Name>>(x); }
};

/// `layer_norm<"ln1">(x)`: x [D] or [T, D], normalized over D.
template <fixed_string Name>
inline constexpr layer_norm_fn<Name> layer_norm{};

}  // namespace ctnn
