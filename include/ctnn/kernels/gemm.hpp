/// @file gemm.hpp
/// Matrix products with compile-time sizes, in the three forms training needs.
#pragma once

#include <cstddef>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

/// Applied to each output element when it is stored: lets a dense layer add
/// its bias and apply its activation without a second pass over C.
struct no_epilogue {
  template <class V>
  V operator()(V x, std::size_t /*col*/) const {
    return x;
  }
};

namespace detail {

// Runs `body(first_row, last_row)` over row blocks of `Block`, spread over the
// OpenMP team when the product is large enough to pay for waking it.
template <std::size_t Rows, std::size_t Block, class F>
inline void for_row_blocks(double work, F body) {
  constexpr std::ptrdiff_t blocks = (Rows + Block - 1) / Block;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (work > 2.0e5 && blocks > 1)
#endif
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::size_t r0 = std::size_t(b) * Block;
    body(r0, r0 + Block < Rows ? r0 + Block : Rows);
  }
  (void)work;
}

}  // namespace detail

/// C[M,N] (= or +=) epilogue(A[M,K] · B[K,N]), all row-major and dense.
/// Vectorized along N: each step broadcasts one A element against a row of B.
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T,
          class Epilogue = no_epilogue>
inline void gemm_nn(const T* A, const T* B, T* C, Epilogue ep = {}) {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t MR = 4;
  constexpr std::size_t NV = N / L * L;  // columns handled with vectors
  detail::for_row_blocks<M, MR * 8>(double(M) * N * K, [&](std::size_t r0, std::size_t r1) {
    std::size_t i = r0;
    for (; i + MR <= r1; i += MR) {
      std::size_t j = 0;
      for (; j + 2 * L <= NV; j += 2 * L) {
        vec<T> c[MR][2];
        for (std::size_t r = 0; r < MR; ++r) c[r][0] = c[r][1] = vec<T>(T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const vec<T> b0 = vec<T>::load_unaligned(B + k * N + j);
          const vec<T> b1 = vec<T>::load_unaligned(B + k * N + j + L);
          for (std::size_t r = 0; r < MR; ++r) {
            const vec<T> a(A[(i + r) * K + k]);
            c[r][0] = xsimd::fma(a, b0, c[r][0]);
            c[r][1] = xsimd::fma(a, b1, c[r][1]);
          }
        }
        for (std::size_t r = 0; r < MR; ++r)
          for (std::size_t h = 0; h < 2; ++h) {
            T* dst = C + (i + r) * N + j + h * L;
            vec<T> v = ep(c[r][h], j + h * L);
            if constexpr (Accumulate) v += vec<T>::load_unaligned(dst);
            v.store_unaligned(dst);
          }
      }
      for (; j < NV; j += L) {
        vec<T> c[MR];
        for (std::size_t r = 0; r < MR; ++r) c[r] = vec<T>(T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const vec<T> b0 = vec<T>::load_unaligned(B + k * N + j);
          for (std::size_t r = 0; r < MR; ++r) c[r] = xsimd::fma(vec<T>(A[(i + r) * K + k]), b0, c[r]);
        }
        for (std::size_t r = 0; r < MR; ++r) {
          T* dst = C + (i + r) * N + j;
          vec<T> v = ep(c[r], j);
          if constexpr (Accumulate) v += vec<T>::load_unaligned(dst);
          v.store_unaligned(dst);
        }
      }
      for (; j < N; ++j)
        for (std::size_t r = 0; r < MR; ++r) {
          T s = 0;
          for (std::size_t k = 0; k < K; ++k) s += A[(i + r) * K + k] * B[k * N + j];
          T v = ep(s, j);
          C[(i + r) * N + j] = Accumulate ? C[(i + r) * N + j] + v : v;
        }
    }
    for (; i < r1; ++i) {  // leftover rows, one at a time (all of batch-1 inference)
      std::size_t j = 0;
      // Four independent accumulators hide the FMA latency of a single row.
      for (; j + 4 * L <= NV; j += 4 * L) {
        vec<T> c[4] = {vec<T>(T(0)), vec<T>(T(0)), vec<T>(T(0)), vec<T>(T(0))};
        for (std::size_t k = 0; k < K; ++k) {
          const vec<T> a(A[i * K + k]);
          for (std::size_t h = 0; h < 4; ++h)
            c[h] = xsimd::fma(a, vec<T>::load_unaligned(B + k * N + j + h * L), c[h]);
        }
        for (std::size_t h = 0; h < 4; ++h) {
          T* dst = C + i * N + j + h * L;
          vec<T> v = ep(c[h], j + h * L);
          if constexpr (Accumulate) v += vec<T>::load_unaligned(dst);
          v.store_unaligned(dst);
        }
      }
      for (; j < NV; j += L) {
        vec<T> c(T(0));
        for (std::size_t k = 0; k < K; ++k)
          c = xsimd::fma(vec<T>(A[i * K + k]), vec<T>::load_unaligned(B + k * N + j), c);
        T* dst = C + i * N + j;
        vec<T> v = ep(c, j);
        if constexpr (Accumulate) v += vec<T>::load_unaligned(dst);
        v.store_unaligned(dst);
      }
      for (; j < N; ++j) {
        T s = 0;
        for (std::size_t k = 0; k < K; ++k) s += A[i * K + k] * B[k * N + j];
        T v = ep(s, j);
        C[i * N + j] = Accumulate ? C[i * N + j] + v : v;
      }
    }
  });
}

/// C[M,N] (= or +=) A[M,K] · B[N,K]ᵀ: each element is a dot product of two
/// contiguous rows. Used for the input gradient of a dense layer.
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T>
inline void gemm_nt(const T* A, const T* B, T* C) {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t KV = K / L * L;
  constexpr std::size_t NR = 4;
  detail::for_row_blocks<M, 8>(double(M) * N * K, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t i = r0; i < r1; ++i) {
      const T* a = A + i * K;
      std::size_t j = 0;
      for (; j + NR <= N; j += NR) {
        vec<T> acc[NR];
        for (std::size_t q = 0; q < NR; ++q) acc[q] = vec<T>(T(0));
        for (std::size_t k = 0; k < KV; k += L) {
          const vec<T> av = vec<T>::load_unaligned(a + k);
          for (std::size_t q = 0; q < NR; ++q)
            acc[q] = xsimd::fma(av, vec<T>::load_unaligned(B + (j + q) * K + k), acc[q]);
        }
        for (std::size_t q = 0; q < NR; ++q) {
          T s = xsimd::hadd(acc[q]);
          for (std::size_t k = KV; k < K; ++k) s += a[k] * B[(j + q) * K + k];
          C[i * N + j + q] = Accumulate ? C[i * N + j + q] + s : s;
        }
      }
      for (; j < N; ++j) {
        vec<T> acc(T(0));
        for (std::size_t k = 0; k < KV; k += L)
          acc = xsimd::fma(vec<T>::load_unaligned(a + k), vec<T>::load_unaligned(B + j * K + k), acc);
        T s = xsimd::hadd(acc);
        for (std::size_t k = KV; k < K; ++k) s += a[k] * B[j * K + k];
        C[i * N + j] = Accumulate ? C[i * N + j] + s : s;
      }
    }
  });
}

/// C[M,N] (= or +=) A[K,M]ᵀ · B[K,N]: a sum of K outer products. Used for
/// the weight gradient of a dense layer (K is the batch).
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T>
inline void gemm_tn(const T* A, const T* B, T* C) {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t NV = N / L * L;
  constexpr std::size_t MR = 4;
  detail::for_row_blocks<M, MR * 4>(double(M) * N * K, [&](std::size_t r0, std::size_t r1) {
    std::size_t i = r0;
    for (; i + MR <= r1; i += MR) {
      std::size_t j = 0;
      for (; j < NV; j += L) {
        vec<T> c[MR];
        for (std::size_t r = 0; r < MR; ++r) c[r] = vec<T>(T(0));
        for (std::size_t k = 0; k < K; ++k) {
          const vec<T> b = vec<T>::load_unaligned(B + k * N + j);
          for (std::size_t r = 0; r < MR; ++r) c[r] = xsimd::fma(vec<T>(A[k * M + i + r]), b, c[r]);
        }
        for (std::size_t r = 0; r < MR; ++r) {
          T* dst = C + (i + r) * N + j;
          if constexpr (Accumulate) c[r] += vec<T>::load_unaligned(dst);
          c[r].store_unaligned(dst);
        }
      }
      for (; j < N; ++j)
        for (std::size_t r = 0; r < MR; ++r) {
          T s = 0;
          for (std::size_t k = 0; k < K; ++k) s += A[k * M + i + r] * B[k * N + j];
          C[(i + r) * N + j] = Accumulate ? C[(i + r) * N + j] + s : s;
        }
    }
    for (; i < r1; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        T s = 0;
        for (std::size_t k = 0; k < K; ++k) s += A[k * M + i] * B[k * N + j];
        C[i * N + j] = Accumulate ? C[i * N + j] + s : s;
      }
  });
}

/// out[N] (= or +=) the column sums of A[K,N]: a bias gradient over the batch.
template <std::size_t K, std::size_t N, bool Accumulate = false, class T>
inline void column_sums(const T* A, T* out) {
  constexpr std::size_t L = lanes<T>;
  constexpr std::size_t NV = N / L * L;
  for (std::size_t j = 0; j < NV; j += L) {
    vec<T> s(T(0));
    for (std::size_t k = 0; k < K; ++k) s += vec<T>::load_unaligned(A + k * N + j);
    if constexpr (Accumulate) s += vec<T>::load_unaligned(out + j);
    s.store_unaligned(out + j);
  }
  for (std::size_t j = NV; j < N; ++j) {
    T s = 0;
    for (std::size_t k = 0; k < K; ++k) s += A[k * N + j];
    out[j] = Accumulate ? out[j] + s : s;
  }
}

}  // namespace ctnn::kernels
