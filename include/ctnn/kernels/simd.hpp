/// @file simd.hpp
/// The vector width the kernels are built for, sizes that are either
/// compile-time constants or run-time values, partial (masked) vector loads
/// and stores, and a vectorized map.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

namespace ctnn::kernels {

/// The widest instruction set the compiler flags allow (see CTNN_SIMD in the
/// build): AVX-512 under -march=x86-64-v4, AVX2 + FMA under x86-64-v3.
template <class T>
using vec = xsimd::batch<T>;

template <class T>
inline constexpr std::size_t lanes = vec<T>::size;

/// The instruction set's name, for reports.
inline const char* simd_name() { return xsimd::default_arch::name(); }

// --- sizes: static or dynamic --------------------------------------------------
//
// Every kernel takes each size as either a compile-time constant,
// `fixed<784>{}`, or a run-time integer. A static size lets the kernel drop
// the code for tails that cannot happen and fold loop bounds; a dynamic one
// gives one instantiation for every shape (the runtime-graph twin).

/// A size known at compile time.
template <std::size_t N>
using fixed = std::integral_constant<std::size_t, N>;

namespace detail {
template <class S>
struct is_static_extent : std::false_type {};
template <class I, I V>
struct is_static_extent<std::integral_constant<I, V>> : std::bool_constant<(V >= 0)> {};
}  // namespace detail

/// True for `fixed<N>` (any std::integral_constant of an integer type).
template <class S>
inline constexpr bool is_static_extent_v = detail::is_static_extent<std::remove_cvref_t<S>>::value;

/// A size argument: a `fixed<N>` or a run-time integer (not bool).
template <class S>
concept extent = is_static_extent_v<S> ||
                 (std::is_integral_v<std::remove_cvref_t<S>> && !std::is_same_v<std::remove_cvref_t<S>, bool>);

/// The value of a size argument.
template <extent S>
constexpr std::size_t extent_value(S s) {
  return std::size_t(s);
}

// --- partial vectors -------------------------------------------------------------

/// Loads the first n < lanes elements of p; the other lanes are zero. Never
/// reads past p + n (masked loads suppress faults).
template <class T>
inline vec<T> load_partial(const T* p, std::size_t n) {
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<T>) == 64) {
    if constexpr (std::is_same_v<T, float>) return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1u), p);
    else return _mm512_maskz_loadu_pd(__mmask8((1u << n) - 1u), p);
  }
#endif
#if defined(__AVX2__)
  if constexpr (sizeof(vec<T>) == 32) {
    if constexpr (std::is_same_v<T, float>) {
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      return _mm256_maskload_ps(p, m);
    } else {
      const __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)n), _mm256_setr_epi64x(0, 1, 2, 3));
      return _mm256_maskload_pd(p, m);
    }
  }
#endif
  alignas(64) T t[lanes<T>] = {};
  std::memcpy(t, p, n * sizeof(T));
  return vec<T>::load_aligned(t);
}

/// Stores the first n < lanes elements of v to p.
template <class T>
inline void store_partial(T* p, vec<T> v, std::size_t n) {
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<T>) == 64) {
    if constexpr (std::is_same_v<T, float>) _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1u), v);
    else _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1u), v);
    return;
  }
#endif
  alignas(64) T t[lanes<T>];
  v.store_aligned(t);
  std::memcpy(p, t, n * sizeof(T));
}

// --- map ---------------------------------------------------------------------------

/// out[i] = f(in0[i], in1[i], ...) (Accumulate: out[i] += ...) for i < n; `f`
/// is generic so that it runs on a vector and on the scalar tail.
template <bool Accumulate, extent S, class T, class F, class... In>
inline void map_into(S size, T* out, F f, const In*... in) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t n = extent_value(size);
  const std::size_t nv = n / L * L;  // a constant when the size is static: no tail loop when L divides it
  for (std::size_t i = 0; i < nv; i += L) {
    vec<T> v = f(vec<T>::load_unaligned(in + i)...);
    if constexpr (Accumulate) v += vec<T>::load_unaligned(out + i);
    v.store_unaligned(out + i);
  }
  for (std::size_t i = nv; i < n; ++i) {
    if constexpr (Accumulate) out[i] += f(in[i]...);
    else out[i] = f(in[i]...);
  }
}

/// out[i] = f(in0[i], ...) for i < n.
template <extent S, class T, class F, class... In>
inline void map(S n, T* out, F f, const In*... in) {
  map_into<false>(n, out, f, in...);
}

/// out[i] += f(in0[i], ...) for i < n.
template <extent S, class T, class F, class... In>
inline void map_add(S n, T* out, F f, const In*... in) {
  map_into<true>(n, out, f, in...);
}

/// Σ f(in0[i], in1[i], ...) over i < n, accumulated in one vector and the
/// scalar tail: a per-channel reduction such as a variance or a dot product.
template <extent S, class F, class T, class... In>
inline T map_sum(S size, F f, const T* in0, const In*... in) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t n = extent_value(size);
  const std::size_t nv = n / L * L;
  vec<T> acc(T(0));
  for (std::size_t i = 0; i < nv; i += L) acc += f(vec<T>::load_unaligned(in0 + i), vec<T>::load_unaligned(in + i)...);
  T s = xsimd::hadd(acc);
  for (std::size_t i = nv; i < n; ++i) s += f(in0[i], in[i]...);
  return s;
}

// The compile-time-size spellings used by the static graph: map<N>(out, f, in...).
template <std::size_t N, class T, class F, class... In>
inline void map(T* out, F f, const In*... in) {
  map_into<false>(fixed<N>{}, out, f, in...);
}
template <std::size_t N, class T, class F, class... In>
inline void map_add(T* out, F f, const In*... in) {
  map_into<true>(fixed<N>{}, out, f, in...);
}
template <bool Accumulate, std::size_t N, class T, class F, class... In>
inline void map_into(T* out, F f, const In*... in) {
  map_into<Accumulate>(fixed<N>{}, out, f, in...);
}

}  // namespace ctnn::kernels
