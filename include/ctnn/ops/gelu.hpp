/// @file gelu.hpp
/// GELU (Hendrycks & Gimpel 2016), PyTorch's default exact form:
/// gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)). Its derivative Φ(x) + x·φ(x) is
/// not a function of the output, so GELU is a node of its own that keeps
/// nothing and reads its input in backward (it does not fuse into dense).
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
template <class V>
V erf_of(V x) {
  if constexpr (std::is_floating_point_v<V>) return std::erf(x);
  else return xsimd::erf(x);
}
}  // namespace detail

struct gelu_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "gelu";
    using out_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr double flops = 10.0 * n;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::map<B * n>(a.out, [](auto x) {
        using V = decltype(x);
        return V(T(0.5)) * x * (V(T(1)) + detail::erf_of(x * V(T(0.70710678118654752440))));
      }, a.in[0]);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * n>(a.din[0], [](auto d, auto x) {
          using V = decltype(x);
          const V cdf = V(T(0.5)) * (V(T(1)) + detail::erf_of(x * V(T(0.70710678118654752440))));
          const V pdf = V(T(0.39894228040143267794)) * act::detail::exp(V(T(-0.5)) * x * x);
          return d * (cdf + x * pdf);
        }, a.dout, a.in[0]);
    }
  };
};

struct gelu_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<gelu_op>(x); }
};
/// `gelu(x)`: elementwise x·Φ(x), any shape.
inline constexpr gelu_fn gelu{};

}  // namespace ctnn
