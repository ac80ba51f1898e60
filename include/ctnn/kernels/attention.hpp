/// @file attention.hpp
/// Scaled dot-product attention for one sample and one head, forward and
/// backward, with every matrix addressed by a row stride so that a head can
/// be a column block of a wider array (multi-head attention keeps q, k and v
/// side by side in one [T, 3D] array):
///
///   S = q·kᵀ / √d,  P = softmax of each row of S (row i over keys 0..i when
///   causal; the later keys get P = 0),  O = P·v.
///
/// Backward (dO given): dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d,
/// dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dO. P is what forward keeps.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels::attention {

/// A matrix in memory: its first element and the distance between rows.
template <class T>
struct rows {
  T* at;
  std::size_t stride;
};

/// p [tq, tk] (contiguous) and o; q [tq, d], k [tk, d], v [tk, dv].
template <class T>
void forward(std::size_t tq, std::size_t tk, std::size_t d, std::size_t dv, bool causal, rows<const T> q,
             rows<const T> k, rows<const T> v, T* p, rows<T> o) {
  using kernels::detail::gemm::gemm;
  gemm<false, true, false>(tq, tk, d, q.at, q.stride, k.at, k.stride, p, tk, no_epilogue{});
  const T scale = T(1) / std::sqrt(T(d));
  for (std::size_t i = 0; i < tq; ++i) {
    T* row = p + i * tk;
    const std::size_t n = causal ? std::min(i + 1, tk) : tk;
    T top = row[0] * scale;
    for (std::size_t j = 0; j < n; ++j) top = std::max(top, row[j] * scale);
    T sum = 0;
    for (std::size_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] * scale - top));
    const T inv = T(1) / sum;
    for (std::size_t j = 0; j < n; ++j) row[j] *= inv;
    std::fill(row + n, row + tk, T(0));
  }
  gemm<false, false, false>(tq, dv, tk, p, tk, v.at, v.stride, o.at, o.stride, no_epilogue{});
}

/// The gradients of q, k and v (each written or, with its Acc flag, added),
/// from dO and the kept p; `dp` is [tq, tk] of scratch.
template <bool AccQ, bool AccK, bool AccV, class T>
void backward(std::size_t tq, std::size_t tk, std::size_t d, std::size_t dv, rows<const T> q, rows<const T> k,
              rows<const T> v, const T* p, rows<const T> dout, T* dp, rows<T> dq, rows<T> dk, rows<T> dvv) {
  using kernels::detail::gemm::gemm;
  gemm<false, true, false>(tq, tk, dv, dout.at, dout.stride, v.at, v.stride, dp, tk, no_epilogue{});
  const T scale = T(1) / std::sqrt(T(d));
  for (std::size_t i = 0; i < tq; ++i) {
    const T* pr = p + i * tk;
    T* g = dp + i * tk;
    T dot = 0;
    for (std::size_t j = 0; j < tk; ++j) dot += g[j] * pr[j];
    for (std::size_t j = 0; j < tk; ++j) g[j] = pr[j] * (g[j] - dot) * scale;
  }
  if (dq.at) gemm<false, false, AccQ>(tq, d, tk, dp, tk, k.at, k.stride, dq.at, dq.stride, no_epilogue{});
  if (dk.at) gemm<true, false, AccK>(tk, d, tq, dp, tk, q.at, q.stride, dk.at, dk.stride, no_epilogue{});
  if (dvv.at) gemm<true, false, AccV>(tk, dv, tq, p, tk, dout.at, dout.stride, dvv.at, dvv.stride, no_epilogue{});
}

}  // namespace ctnn::kernels::attention
