/// @file dense_chain.hpp
/// A chain of small dense layers, x → act(x·W₁ + b₁) → act(·W₂ + b₂) → …,
/// for one sample in one function: each layer's outputs are accumulated in
/// registers (its width is a few vectors), its activation applied there, and
/// only the 16–128 values the next layer broadcasts go through a buffer on
/// the stack. The layered path runs the same arithmetic one GEMM call per
/// layer, with a call, a loop set-up and a store and reload in between; for
/// a network like the 16-64-64-1 embedded MLP that overhead is a tenth of
/// its time. The sums are taken in another order, so results agree with the
/// layered path within float rounding, not bit for bit.
#pragma once

#include <cstddef>

#include "ctnn/kernels/gemm_detail.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

/// One layer of a chain: In inputs, Out outputs, activation Act (an act::
/// function object, applied to a vector or a scalar).
template <std::size_t In, std::size_t Out, class Act>
struct chain_layer {
  static constexpr std::size_t in = In, out = Out;
  using activation = Act;
};

/// Outputs of a layer the chain keeps in registers: whole vectors, up to half
/// the register file as accumulators (16 of AVX-512's 32, 8 of AVX2's 16).
template <class T>
inline constexpr std::size_t chain_max_vectors = sizeof(vec<T>) >= 64 ? 16 : 8;

/// Whether a layer of Out outputs fits the fused chain: whole vectors within
/// the register budget, or one output (a dot product) as the last layer.
template <class T>
constexpr bool chain_width_fits(std::size_t out, bool last) {
  return (out % lanes<T> == 0 && out / lanes<T> <= chain_max_vectors<T>) || (last && out == 1);
}

namespace detail::chain {

// y[0, Out) = act(x[0, In)·W + b), W row-major [In, Out]. The depth is split
// into S interleaved sums so that S·NV accumulators (at least 8) hide the
// FMA latency; they are added at the end.
template <class Layer, class T>
inline void layer_forward(const T* x, const T* w, const T* b, T* y) {
  using V = vec<T>;
  constexpr std::size_t L = lanes<T>, In = Layer::in, Out = Layer::out, NV = Out / L;
  constexpr std::size_t S = NV >= 8 ? 1 : 8 / NV;
  V acc[S][NV];
  for (std::size_t j = 0; j < NV; ++j) {
    acc[0][j] = V::load_unaligned(b + j * L);
    for (std::size_t s = 1; s < S; ++s) acc[s][j] = V(T(0));
  }
  std::size_t i = 0;
  for (; i + S <= In; i += S)
    for (std::size_t s = 0; s < S; ++s) {
      const V xi(x[i + s]);
      for (std::size_t j = 0; j < NV; ++j) acc[s][j] = kernels::fma(xi, V::load_unaligned(w + (i + s) * Out + j * L), acc[s][j]);
    }
  for (std::size_t s = 0; i < In; ++i, ++s) {
    const V xi(x[i]);
    for (std::size_t j = 0; j < NV; ++j) acc[s][j] = kernels::fma(xi, V::load_unaligned(w + i * Out + j * L), acc[s][j]);
  }
  for (std::size_t j = 0; j < NV; ++j) {
    V sum = acc[0][j];
    for (std::size_t s = 1; s < S; ++s) sum += acc[s][j];
    Layer::activation::apply(sum).store_unaligned(y + j * L);
  }
}

// y[0] = act(x·w + b) for a one-output layer (w is one contiguous column).
template <class Layer, class T>
inline void dot_forward(const T* x, const T* w, const T* b, T* y) {
  // The layered path's dot product: the same bits for the same inputs.
  y[0] = Layer::activation::apply(gemm::dot(Layer::in, x, w) + b[0]);
}

template <class T, std::size_t Width>
struct stage_buffer {
  alignas(64) T values[Width];
};

template <std::size_t K, class T, class First, class... Rest>
inline void run(const T* x, const T* const* weights, const T* const* biases, T* out) {
  if constexpr (sizeof...(Rest) == 0) {
    if constexpr (First::out == 1) dot_forward<First>(x, weights[K], biases[K], out);
    else layer_forward<First>(x, weights[K], biases[K], out);
  } else {
    stage_buffer<T, First::out> h;
    layer_forward<First>(x, weights[K], biases[K], h.values);
    run<K + 1, T, Rest...>(h.values, weights, biases, out);
  }
}

}  // namespace detail::chain

/// The forward of one sample through Layers... (chain_layer types, each one's
/// `in` the previous one's `out`): `weights[k]` and `biases[k]` are layer k's
/// [in, out] weight and its bias; the last layer's outputs go to `out`.
template <class T, class... Layers>
inline void dense_chain_forward(const T* x, const T* const* weights, const T* const* biases, T* out) {
  static_assert(sizeof...(Layers) > 0);
  detail::chain::run<0, T, Layers...>(x, weights, biases, out);
}

}  // namespace ctnn::kernels
