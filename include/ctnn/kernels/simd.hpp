/// @file simd.hpp
/// The vector width the kernels are built for, and a vectorized map.
#pragma once

#include <cstddef>
#include <xsimd/xsimd.hpp>

namespace ctnn::kernels {

/// The widest instruction set the compiler flags allow (see CTNN_SIMD in the
/// build): AVX-512 under -march=x86-64-v4, AVX2 + FMA under x86-64-v3.
template <class T>
using vec = xsimd::batch<T>;

template <class T>
inline constexpr std::size_t lanes = vec<T>::size;

/// The instruction set's name, for reports.
inline const char* simd_name() { return xsimd::default_arch::name(); }

/// out[i] = f(in0[i], in1[i], ...) for i < N; `f` is generic so that it runs
/// on a vector and on the scalar tail.
template <std::size_t N, class T, class F, class... In>
inline void map(T* out, F f, const In*... in) {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t NV = N / L * L;  // a constant bound: no tail loop when L divides N
  for (std::size_t i = 0; i < NV; i += L) f(vec<T>::load_unaligned(in + i)...).store_unaligned(out + i);
  for (std::size_t i = NV; i < N; ++i) out[i] = f(in[i]...);
}

/// Like map, but out[i] += f(...).
template <std::size_t N, class T, class F, class... In>
inline void map_add(T* out, F f, const In*... in) {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t NV = N / L * L;
  for (std::size_t i = 0; i < NV; i += L)
    (vec<T>::load_unaligned(out + i) + f(vec<T>::load_unaligned(in + i)...)).store_unaligned(out + i);
  for (std::size_t i = NV; i < N; ++i) out[i] += f(in[i]...);
}

/// Writes or accumulates, chosen at compile time.
template <bool Accumulate, std::size_t N, class T, class F, class... In>
inline void map_into(T* out, F f, const In*... in) {
  if constexpr (Accumulate)
    map_add<N>(out, f, in...);
  else
    map<N>(out, f, in...);
}

}  // namespace ctnn::kernels
