/// @file exp_log.hpp
/// exp, log and softplus as pointwise ops. Like the activations, each has its
/// derivative expressed through its output, so `exp(dense<...>(x))` fuses
/// into the layer's GEMM epilogue and a separate node keeps only its output.
#pragma once

#include <algorithm>
#include <cmath>

#include "ctnn/core/fixed_string.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/activation.hpp"
#include "ctnn/ops/activation_functions.hpp"

namespace ctnn {

namespace act {

/// e^x; its derivative is the output itself.
struct exp {
  static constexpr fixed_string tag = "exp";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    if constexpr (detail::is_scalar<V>) return std::exp(x); else return xsimd::exp(x);
  }
  template <class V> static V derivative(V y) { return y; }
};

/// The natural logarithm (−inf at 0, NaN below); its derivative 1/x is e^−y.
struct log {
  static constexpr fixed_string tag = "log";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    if constexpr (detail::is_scalar<V>) return std::log(x); else return xsimd::log(x);
  }
  template <class V> static V derivative(V y) {
    if constexpr (detail::is_scalar<V>) return std::exp(-y); else return xsimd::exp(-y);
  }
};

/// log(1 + e^x), computed as log1p(e^−|x|) + max(x, 0): e^x never overflows
/// and large negative x keeps its tiny positive value. The derivative, the
/// sigmoid of x, is 1 − e^−y = −expm1(−y): exact where y is tiny.
struct softplus {
  static constexpr fixed_string tag = "softplus";
  static constexpr std::string_view name = tag.view();
  template <class V> static V apply(V x) {
    if constexpr (detail::is_scalar<V>) return std::log1p(std::exp(-std::abs(x))) + std::max(x, V(0));
    else return xsimd::log1p(xsimd::exp(-xsimd::abs(x))) + xsimd::max(x, V(0));
  }
  template <class V> static V derivative(V y) {
    if constexpr (detail::is_scalar<V>) return -std::expm1(-y); else return -xsimd::expm1(-y);
  }
};

}  // namespace act

/// `exp(x)`, elementwise.
inline constexpr activation_fn<act::exp> exp{};
/// `log(x)`, elementwise; the input must be positive.
inline constexpr activation_fn<act::log> log{};
/// `softplus(x)` = log(1 + e^x), elementwise and stable for any x (a positive
/// standard deviation or rate from an unconstrained output).
inline constexpr activation_fn<act::softplus> softplus{};

}  // namespace ctnn
