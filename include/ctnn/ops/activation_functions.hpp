/// @file activation_functions.hpp
/// Pointwise activations as function objects that run on a scalar or a SIMD
/// vector, each with its derivative expressed through its *output*: the
/// backward pass then needs only what forward stored, and a dense layer can
/// apply the activation in its GEMM epilogue without keeping the pre-activation.
#pragma once

#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/real.hpp"
#include "ctnn/kernels/math.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::act {

namespace detail {
template <class V>
inline constexpr bool is_scalar = std::is_floating_point_v<V>;

template <class V>
V exp(V x) {
  if constexpr (is_scalar<V>) return std::exp(x); else return xsimd::exp(x);
}
template <class V, class S>
V where_positive(V x, V if_pos, V otherwise) {
  if constexpr (is_scalar<V>) return x > V(0) ? if_pos : otherwise;
  else return xsimd::select(x > V(S(0)), if_pos, otherwise);
}
template <class V>
struct scalar_type {
  using type = typename V::value_type;
};
template <class V>
  requires std::is_floating_point_v<V>
struct scalar_type<V> {
  using type = V;
};
template <class V>
using scalar_of = typename scalar_type<V>::type;
}  // namespace detail

struct identity {
  static constexpr fixed_string tag = "identity";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) { return x; }
  template <class V> static V derivative(V) { return V(1); }
};

/// The perceptron's Heaviside step. Its derivative is zero almost everywhere.
struct step {
  static constexpr fixed_string tag = "step";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    return detail::where_positive<V, detail::scalar_of<V>>(x, V(1), V(0));
  }
  template <class V> static V derivative(V) { return V(0); }
};

/// 1 / (1 + e^-x): e^-x overflows to inf for very negative x, giving exactly
/// 0 rather than NaN, and underflows to 0 for large x, giving 1.
struct sigmoid {
  static constexpr fixed_string tag = "sigmoid";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) { return V(1) / (V(1) + detail::exp(-x)); }
  template <class V> static V derivative(V y) { return y * (V(1) - y); }
};

struct tanh {
  static constexpr fixed_string tag = "tanh";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    if constexpr (detail::is_scalar<V>) return std::tanh(x);
    else if constexpr (std::is_same_v<V, kernels::vec<float>>) return kernels::tanh(x);
    else return xsimd::tanh(x);  // double: gradient checks keep xsimd's full precision
  }
  template <class V> static V derivative(V y) { return V(1) - y * y; }
  /// Several vectors at once (a small layer's outputs in registers): the
  /// same bits as apply on each, the float kernel's constants loaded once.
  template <class V, std::size_t N> static void apply_each(V (&v)[N]) {
    if constexpr (std::is_same_v<V, kernels::vec<float>>) kernels::tanh_each(v);
    else for (auto& x : v) x = apply(x);
  }
};

struct relu {
  static constexpr fixed_string tag = "relu";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    if constexpr (detail::is_scalar<V>) return x > V(0) ? x : V(0); else return xsimd::max(x, V(0));
  }
  template <class V> static V derivative(V y) {
    return detail::where_positive<V, detail::scalar_of<V>>(y, V(1), V(0));
  }
};

/// max(x, slope·x) for 0 < slope < 1; the sign of the output tells the side.
template <real Slope>
struct leaky_relu {
  static_assert(Slope.value() > 0 && Slope.value() < 1,
                "ctnn::leaky_relu: the slope must lie in (0, 1)");
  static constexpr fixed_string tag = "leaky_relu";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    using S = detail::scalar_of<V>;
    return detail::where_positive<V, S>(x, x, V(S(Slope.value())) * x);
  }
  template <class V> static V derivative(V y) {
    using S = detail::scalar_of<V>;
    return detail::where_positive<V, S>(y, V(1), V(S(Slope.value())));
  }
};

/// x for x > 0, alpha·(e^x − 1) otherwise; for x ≤ 0 the derivative
/// alpha·e^x equals y + alpha.
template <real Alpha>
struct elu {
  static_assert(Alpha.value() > 0, "ctnn::elu: alpha must be positive");
  static constexpr fixed_string tag = "elu";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    using S = detail::scalar_of<V>;
    const V a(S(Alpha.value()));
    if constexpr (detail::is_scalar<V>) return x > V(0) ? x : a * (std::expm1(x));
    else return xsimd::select(x > V(S(0)), x, a * (xsimd::exp(xsimd::min(x, V(S(0)))) - V(S(1))));
  }
  template <class V> static V derivative(V y) {
    using S = detail::scalar_of<V>;
    return detail::where_positive<V, S>(y, V(1), y + V(S(Alpha.value())));
  }
};

template <class F>
inline constexpr bool is_identity_v = std::is_same_v<F, identity>;

}  // namespace ctnn::act
