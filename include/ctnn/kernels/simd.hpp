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

// --- fused multiply-add ----------------------------------------------------------

/// a·b + c with one rounding, on every instruction set. xsimd 8.1 has no
/// AVX-512 fma: its generic one is the expression a·b + c, which the
/// compiler fuses or not as its contraction decides, and differently in
/// different inlining contexts. Every kernel calls this one instead. The
/// arguments are references, as xsimd's are: taken by value, g++ 12 kept a
/// register tile's accumulator array on the stack (the tiny MLP at batch 1
/// took 160 ns instead of 100).
template <class T, class A>
inline xsimd::batch<T, A> fma(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b, const xsimd::batch<T, A>& c) {
#if defined(__AVX512F__)
  if constexpr (sizeof(a) == 64) {
    if constexpr (std::is_same_v<T, float>) return _mm512_fmadd_ps(a, b, c);
    else if constexpr (std::is_same_v<T, double>) return _mm512_fmadd_pd(a, b, c);
  }
#endif
  return xsimd::fma(a, b, c);
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

// --- one lane to every lane -----------------------------------------------------

/// Every lane of the result is lane K of v: two shuffles with immediate
/// operands, no load. A layer whose inputs are the previous layer's outputs
/// still in registers takes them this way instead of storing them and
/// broadcasting each from memory. With AVX-512 the shuffle across 128-bit
/// blocks comes first, so that the four lanes of a block share it: on Zen 5
/// a shuffle across blocks takes about half an FMA slot and one within a
/// block none, and the 16-64-64-1 chain went from 64 of the first kind to 16
/// (79.2 → 78.3 ns).
template <std::size_t K, class T>
inline vec<T> broadcast_lane(vec<T> v) {
  static_assert(K < lanes<T>);
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<T>) == 64) {
    if constexpr (std::is_same_v<T, float>) {
      constexpr int e = int(K % 4), q = int(K / 4);
      const __m512 block = _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(q, q, q, q));
      return _mm512_shuffle_ps(block, block, _MM_SHUFFLE(e, e, e, e));
    } else {
      constexpr int q = int(K / 2);
      const __m512d block = _mm512_shuffle_f64x2(v, v, _MM_SHUFFLE(q, q, q, q));
      return _mm512_permute_pd(block, K % 2 ? 0xFF : 0x00);
    }
  }
#endif
#if defined(__AVX2__)
  if constexpr (sizeof(vec<T>) == 32) {
    if constexpr (std::is_same_v<T, float>) {
      constexpr int e = int(K % 4);
      const __m256 t = _mm256_permute_ps(v, _MM_SHUFFLE(e, e, e, e));
      return _mm256_permute2f128_ps(t, t, K / 4 ? 0x11 : 0x00);
    } else {
      constexpr int k = int(K);
      return _mm256_permute4x64_pd(v, _MM_SHUFFLE(k, k, k, k));
    }
  }
#endif
  alignas(64) T t[lanes<T>];
  v.store_aligned(t);
  return vec<T>(t[K]);
}

// --- even and odd lanes ------------------------------------------------------------
// xsimd 8.1 has no deinterleave, and its zip_lo/zip_hi interleave within each
// 128-bit half on AVX, so these two are written per instruction set.

/// even = (a0, a2, …, b0, b2, …), odd = (a1, a3, …, b1, b3, …): pairs of
/// neighbours split apart (2×2 pooling's horizontal step).
template <class T>
inline void deinterleave(vec<T> a, vec<T> b, vec<T>& even, vec<T>& odd) {
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<T>) == 64) {
    if constexpr (std::is_same_v<T, float>) {
      const __m512i e = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      even = _mm512_permutex2var_ps(a, e, b);
      odd = _mm512_permutex2var_ps(a, _mm512_add_epi32(e, _mm512_set1_epi32(1)), b);
    } else {
      const __m512i e = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
      even = _mm512_permutex2var_pd(a, e, b);
      odd = _mm512_permutex2var_pd(a, _mm512_add_epi64(e, _mm512_set1_epi64(1)), b);
    }
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (sizeof(vec<T>) == 32) {
    if constexpr (std::is_same_v<T, float>) {
      // Within each half, then the 64-bit quarters put in order.
      const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
      even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
      odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
    } else {
      even = _mm256_permute4x64_pd(_mm256_unpacklo_pd(a, b), _MM_SHUFFLE(3, 1, 2, 0));
      odd = _mm256_permute4x64_pd(_mm256_unpackhi_pd(a, b), _MM_SHUFFLE(3, 1, 2, 0));
    }
    return;
  }
#endif
  constexpr std::size_t L = lanes<T>;
  alignas(64) T in[2 * L], e[L], o[L];
  a.store_aligned(in);
  b.store_aligned(in + L);
  for (std::size_t i = 0; i < L; ++i) e[i] = in[2 * i], o[i] = in[2 * i + 1];
  even = vec<T>::load_aligned(e);
  odd = vec<T>::load_aligned(o);
}

/// lo = (a0, b0, a1, b1, …) over the first half of the lanes, hi the same
/// over the second half: the inverse of deinterleave.
template <class T>
inline void interleave(vec<T> a, vec<T> b, vec<T>& lo, vec<T>& hi) {
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<T>) == 64) {
    if constexpr (std::is_same_v<T, float>) {
      const __m512i l = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      lo = _mm512_permutex2var_ps(a, l, b);
      hi = _mm512_permutex2var_ps(a, _mm512_add_epi32(l, _mm512_set1_epi32(8)), b);
    } else {
      const __m512i l = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
      lo = _mm512_permutex2var_pd(a, l, b);
      hi = _mm512_permutex2var_pd(a, _mm512_add_epi64(l, _mm512_set1_epi64(4)), b);
    }
    return;
  }
#endif
#if defined(__AVX2__)
  if constexpr (sizeof(vec<T>) == 32) {
    if constexpr (std::is_same_v<T, float>) {
      const __m256 u = _mm256_unpacklo_ps(a, b), v = _mm256_unpackhi_ps(a, b);
      lo = _mm256_permute2f128_ps(u, v, 0x20);
      hi = _mm256_permute2f128_ps(u, v, 0x31);
    } else {
      const __m256d u = _mm256_unpacklo_pd(a, b), v = _mm256_unpackhi_pd(a, b);
      lo = _mm256_permute2f128_pd(u, v, 0x20);
      hi = _mm256_permute2f128_pd(u, v, 0x31);
    }
    return;
  }
#endif
  constexpr std::size_t L = lanes<T>;
  alignas(64) T x[L], y[L], out[2 * L];
  a.store_aligned(x);
  b.store_aligned(y);
  for (std::size_t i = 0; i < L; ++i) out[2 * i] = x[i], out[2 * i + 1] = y[i];
  lo = vec<T>::load_aligned(out);
  hi = vec<T>::load_aligned(out + L);
}

/// (0, 1, …, lanes − 1) + first.
template <class T>
inline vec<T> iota(T first) {
  alignas(64) T t[lanes<T>];
  for (std::size_t i = 0; i < lanes<T>; ++i) t[i] = first + T(i);
  return vec<T>::load_aligned(t);
}

// --- a row in vectors, its tail masked -----------------------------------------

/// Unaligned access to whole vectors, and to the first n lanes of a vector
/// (the tail of a row), so that every element of a row, tail or not, goes
/// through the same vector arithmetic: a row of 8 on a 16-lane machine is
/// one masked vector, not eight scalar exponentials. keep(v) zeros the
/// lanes past the row, which a sum over the lanes must not add.
template <class T>
struct whole_vectors {
  vec<T> get(const T* p) const { return vec<T>::load_unaligned(p); }
  void put(T* p, vec<T> v) const { v.store_unaligned(p); }
  vec<T> keep(vec<T> v) const { return v; }
};
template <class T>
struct first_lanes {
  std::size_t n;
  vec<T> get(const T* p) const { return load_partial(p, n); }
  void put(T* p, vec<T> v) const { store_partial(p, v, n); }
  vec<T> keep(vec<T> v) const { return xsimd::select(iota<T>(T(0)) < vec<T>(T(n)), v, vec<T>(T(0))); }
};

/// body(j, io) over j < n in steps of a vector; io loads and stores the
/// lanes that exist (whole_vectors, then first_lanes for a tail).
template <class T, extent S, class Body>
inline void over_lanes(S size, Body&& body) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t n = extent_value(size), nv = n / L * L;
  for (std::size_t j = 0; j < nv; j += L) body(j, whole_vectors<T>{});
  if (nv < n) body(nv, first_lanes<T>{n - nv});
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
