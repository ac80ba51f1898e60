/// @file clipping.hpp
/// Gradient clipping over the whole flat gradient buffer, the remedy the seeds
/// give for exploding gradients (001: "clip the gradients"; 003, RNNs:
/// "Exploding is controlled with gradient clipping"):
///   by value:        g ← min(max(g, −c), c), element by element;
///   by global norm:  g ← g·c/‖g‖ when ‖g‖ > c, ‖g‖ the L2 norm of all
///                    trainable gradients together (one pass for the norm,
///                    one for the scale, and the second only when needed).
/// The buffer's alignment padding holds zeros, which both leave at zero, so
/// the passes run over the whole aligned buffer as vectors.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/train/optim/common.hpp"

namespace ctnn {

/// Clamps each of the N gradients (64-byte aligned) to [−c, c]; c > 0.
template <std::size_t N, class T>
void clip_gradients_by_value(T* g, T c) {
  optim::detail::fused_pass<N, T>([&]<class X>(std::size_t i) {
    const X gi = optim::detail::load<X>(g + i);
    if constexpr (std::is_same_v<X, T>) optim::detail::store(g + i, std::fmin(std::fmax(gi, -c), c));
    else optim::detail::store(g + i, xsimd::min(xsimd::max(gi, X(-c)), X(c)));
  });
}

/// ‖g‖₂ over N values (64-byte aligned), accumulated in T across the vector
/// lanes, then summed.
template <std::size_t N, class T>
T gradient_norm(const T* g) {
  kernels::vec<T> acc(T(0));
  T tail = 0;
  optim::detail::fused_pass<N, T>([&]<class X>(std::size_t i) {
    const X gi = optim::detail::load<X>(g + i);
    if constexpr (std::is_same_v<X, T>) tail += gi * gi;
    else acc = optim::detail::fma(gi, gi, acc);
  });
  return std::sqrt(xsimd::hadd(acc) + tail);
}

/// Scales the N gradients by c/‖g‖ if ‖g‖ > c (c > 0); returns ‖g‖ before
/// clipping.
template <std::size_t N, class T>
T clip_gradients_by_norm(T* g, T c) {
  const T norm = gradient_norm<N>(g);
  if (norm > c) {
    const T s = c / norm;
    optim::detail::fused_pass<N, T>([&]<class X>(std::size_t i) {
      optim::detail::store(g + i, optim::detail::load<X>(g + i) * X(s));
    });
  }
  return norm;
}

}  // namespace ctnn
