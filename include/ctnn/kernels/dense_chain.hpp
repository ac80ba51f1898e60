/// @file dense_chain.hpp
/// A chain of small dense layers, x → act(x·W₁ + b₁) → act(·W₂ + b₂) → …,
/// for one sample in one function: each layer's outputs are accumulated in
/// registers (its width is a few vectors), its activation applied there, and
/// the next layer takes them from the registers lane by lane (broadcast_lane:
/// two shuffles, where a broadcast from memory would take a load port that
/// the weights' loads keep busy), or through a buffer on the stack when they
/// and its accumulators would not fit the register file together (AVX2's 16
/// registers and 64-wide layers). A one-output last layer is a dot product
/// of the registers with its weight column. The layered path runs the same
/// arithmetic one GEMM call per layer, with a call, a loop set-up and a
/// store and reload in between; for a network like the 16-64-64-1 embedded
/// MLP that overhead is a tenth of its time. The sums are taken in another
/// order, so results agree with the layered path within float rounding, not
/// bit for bit.
#pragma once

#include <cstddef>
#include <utility>

#include "ctnn/kernels/simd.hpp"

// The chain is one straight run of instructions, inlined where it is used,
// only when every step is forced inline. GCC 12, given four chains in one
// translation unit, called the 64-input layer's unrolled body out of line
// with its accumulators in memory: the 16-64-64-1 relu network took 124 ns
// instead of 57. Called out of line as a whole, it took 62 ns against 56.
#if defined(__GNUC__)
#define CTNN_CHAIN_INLINE __attribute__((always_inline))
#else
#define CTNN_CHAIN_INLINE
#endif

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

// The S interleaved sums of a layer with NV output vectors: S·NV
// accumulators (the register budget, 16 with AVX-512) hide the FMA latency;
// they are added at the end. With AVX-512, 16 instead of 8 took the 16-64-64-1
// tanh network from 81.5 to 78.6 ns: a 64-deep sum is 16 FMAs deep, not 32.
template <class T, std::size_t NV>
inline constexpr std::size_t interleaved_sums = NV >= chain_max_vectors<T> || NV == 0 ? 1 : chain_max_vectors<T> / NV;

// y = act(x·W + b) for Layer, W row-major [In, Out], into NV vectors: the
// sum over the depth split into S interleaved sums (input i into sum i % S).
// x_of<i>() is input i in every lane.
template <class Layer, class T, class XOf>
CTNN_CHAIN_INLINE inline void layer_sums(XOf x_of, const T* w, const T* b, vec<T> (&y)[Layer::out / lanes<T>]) {
  using V = vec<T>;
  constexpr std::size_t L = lanes<T>, Out = Layer::out, NV = Out / L, S = interleaved_sums<T, NV>;
  V acc[S][NV];
  for (std::size_t j = 0; j < NV; ++j) {
    acc[0][j] = V::load_unaligned(b + j * L);
    for (std::size_t s = 1; s < S; ++s) acc[s][j] = V(T(0));
  }
  [&]<std::size_t... I>(std::index_sequence<I...>) CTNN_CHAIN_INLINE {
    (
        [&]() CTNN_CHAIN_INLINE {
          const V xi = x_of.template operator()<I>();
          for (std::size_t j = 0; j < NV; ++j)
            acc[I % S][j] = kernels::fma(xi, V::load_unaligned(w + I * Out + j * L), acc[I % S][j]);
        }(),
        ...);
  }(std::make_index_sequence<Layer::in>{});
  for (std::size_t j = 0; j < NV; ++j) {
    V sum = acc[0][j];
    for (std::size_t s = 1; s < S; ++s) sum += acc[s][j];
    y[j] = sum;
  }
  // All NV at once where the activation has a form for that (tanh: its
  // constants loaded once, 76.7 → 74.7 ns for the 16-64-64-1 network).
  using act = typename Layer::activation;
  if constexpr (requires { act::apply_each(y); }) act::apply_each(y);
  else for (std::size_t j = 0; j < NV; ++j) y[j] = act::apply(y[j]);
}

// Whether a layer takes its inputs from the previous layer's output vectors
// in registers: those vectors, its accumulators and a few temporaries fit
// the register file (AVX-512's 32 vector registers; AVX2's 16 do not hold
// the 64-wide layers, which then go through a buffer on the stack).
template <class Layer, class T>
inline constexpr bool inputs_in_registers = [] {
  constexpr std::size_t L = lanes<T>, NV = Layer::out / L;
  constexpr std::size_t registers = sizeof(vec<T>) >= 64 ? 32 : 16;
  return Layer::in % L == 0 && Layer::in / L + interleaved_sums<T, NV> * NV + 4 <= registers;
}();

template <class T, std::size_t Width>
struct stage_buffer {
  alignas(64) T values[Width];
};

template <std::size_t K, class T, class First, class... Rest>
CTNN_CHAIN_INLINE inline void run(const T* x, const T* const* weights, const T* const* biases, T* out);
template <std::size_t K, class T, std::size_t NH, class First, class... Rest>
CTNN_CHAIN_INLINE inline void run_from(const vec<T> (&h)[NH], const T* const* weights, const T* const* biases, T* out);

// Layer K's outputs y: the chain's result when it is the last layer, else
// the next layer's inputs.
template <std::size_t K, class T, class... Rest, std::size_t NY>
CTNN_CHAIN_INLINE inline void pass_on(const vec<T> (&y)[NY], const T* const* weights, const T* const* biases, T* out) {
  if constexpr (sizeof...(Rest) == 0) {
    for (std::size_t v = 0; v < NY; ++v) y[v].store_unaligned(out + v * lanes<T>);
  } else {
    run_from<K + 1, T, NY, Rest...>(y, weights, biases, out);
  }
}

// Layers K, K+1, ... of the chain from the previous layer's outputs h, in
// registers.
template <std::size_t K, class T, std::size_t NH, class First, class... Rest>
CTNN_CHAIN_INLINE inline void run_from(const vec<T> (&h)[NH], const T* const* weights, const T* const* biases, T* out) {
  constexpr std::size_t L = lanes<T>;
  if constexpr (First::out == 1) {
    // A one-output last layer: its dot product from the registers, in two
    // sums, without the store and reload through a stage buffer.
    vec<T> acc[2] = {h[0] * vec<T>::load_unaligned(weights[K]), vec<T>(T(0))};
    for (std::size_t v = 1; v < NH; ++v)
      acc[v % 2] = kernels::fma(h[v], vec<T>::load_unaligned(weights[K] + v * L), acc[v % 2]);
    out[0] = First::activation::apply(xsimd::hadd(acc[0] + acc[1]) + biases[K][0]);
  } else if constexpr (!inputs_in_registers<First, T>) {
    stage_buffer<T, NH * L> x;
    for (std::size_t v = 0; v < NH; ++v) h[v].store_aligned(x.values + v * L);
    run<K, T, First, Rest...>(x.values, weights, biases, out);
  } else {
    vec<T> y[First::out / L];
    layer_sums<First>([&]<std::size_t I>() CTNN_CHAIN_INLINE { return broadcast_lane<I % L>(h[I / L]); }, weights[K],
                      biases[K], y);
    pass_on<K, T, Rest...>(y, weights, biases, out);
  }
}

// Layers K, K+1, ... of the chain from the inputs x in memory.
template <std::size_t K, class T, class First, class... Rest>
CTNN_CHAIN_INLINE inline void run(const T* x, const T* const* weights, const T* const* biases, T* out) {
  // A one-output layer is only ever the last (chain_width_fits), and takes
  // its inputs from registers (run_from).
  static_assert(First::out % lanes<T> == 0, "a chain layer read from memory has whole vectors of outputs");
  vec<T> y[First::out / lanes<T>];
  layer_sums<First>([&]<std::size_t I>() CTNN_CHAIN_INLINE { return vec<T>(x[I]); }, weights[K], biases[K], y);
  pass_on<K, T, Rest...>(y, weights, biases, out);
}

}  // namespace detail::chain

/// The forward of one sample through Layers... (chain_layer types, each one's
/// `in` the previous one's `out`): `weights[k]` and `biases[k]` are layer k's
/// [in, out] weight and its bias; the last layer's outputs go to `out`.
template <class T, class... Layers>
CTNN_CHAIN_INLINE inline void dense_chain_forward(const T* x, const T* const* weights, const T* const* biases, T* out) {
  static_assert(sizeof...(Layers) > 0);
  detail::chain::run<0, T, Layers...>(x, weights, biases, out);
}

}  // namespace ctnn::kernels
