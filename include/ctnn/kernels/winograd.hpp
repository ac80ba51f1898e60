/// @file winograd.hpp
/// Winograd's minimal filtering F(2×2, 5×5) (Lavin & Gray 2016): a 5×5
/// convolution computed on 6×6 input tiles that each give a 2×2 block of
/// outputs, as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Across channels the ⊙ becomes
/// 36 independent matrix products (one per tile position ξ), with 36
/// multiply-adds per 2×2 outputs and channel pair instead of 100: 2.78×
/// fewer. The matrices come from the interpolation points 0, ±1, ±2 and ∞
/// and are computed here at compile time (Toom-Cook: G evaluates the filter
/// polynomial, Aᵀ the output one, Bᵀ is the inverse transpose of the full
/// evaluation matrix); every transform skips its zero coefficients at
/// compile time.
///
/// Layouts: the transformed filters U[ξ][o][c], the transformed inputs
/// V[ξ][c][n] and the products M[ξ][o][n], where n numbers the tiles of the
/// samples a caller takes together (n = sample·Tp + tile, Tp the tiles of a
/// sample rounded up to whole vectors; the padding tiles are zero). The transforms run on vectors
/// of tiles; the backward pass applies their transposes (the adjoints).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels::winograd {

inline constexpr std::size_t alpha = 6;  // tile side
inline constexpr std::size_t positions = alpha * alpha;

namespace detail {

template <std::size_t R, std::size_t C>
using matrix = std::array<std::array<double, C>, R>;

inline constexpr std::array<double, 5> points = {0.0, 1.0, -1.0, 2.0, -2.0};  // and ∞

constexpr double power(double p, std::size_t k) {
  double v = 1;
  for (std::size_t i = 0; i < k; ++i) v *= p;
  return v;
}
/// Row i < 5: (1, p_i, p_i², …); row 5 (the point ∞): the leading coefficient.
template <std::size_t Degree>
constexpr matrix<alpha, Degree> evaluation() {
  matrix<alpha, Degree> e{};
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t k = 0; k < Degree; ++k) e[i][k] = power(points[i], k);
  e[5][Degree - 1] = 1;
  return e;
}
template <std::size_t R, std::size_t C>
constexpr matrix<C, R> transpose(const matrix<R, C>& m) {
  matrix<C, R> t{};
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) t[j][i] = m[i][j];
  return t;
}
/// Gauss-Jordan with partial pivoting (the matrix is a small invertible one).
template <std::size_t N>
constexpr matrix<N, N> inverse(matrix<N, N> a) {
  matrix<N, N> inv{};
  for (std::size_t i = 0; i < N; ++i) inv[i][i] = 1;
  for (std::size_t col = 0; col < N; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < N; ++r)
      if ((a[r][col] < 0 ? -a[r][col] : a[r][col]) > (a[pivot][col] < 0 ? -a[pivot][col] : a[pivot][col])) pivot = r;
    std::swap(a[col], a[pivot]);
    std::swap(inv[col], inv[pivot]);
    const double d = a[col][col];
    for (std::size_t j = 0; j < N; ++j) a[col][j] /= d, inv[col][j] /= d;
    for (std::size_t r = 0; r < N; ++r)
      if (r != col) {
        const double f = a[r][col];
        for (std::size_t j = 0; j < N; ++j) a[r][j] -= f * a[col][j], inv[r][j] -= f * inv[col][j];
      }
  }
  return inv;
}

inline constexpr matrix<alpha, 5> G = evaluation<5>();                       // filter → tile
inline constexpr matrix<5, alpha> Gt = transpose(G);                         // its adjoint
inline constexpr matrix<2, alpha> At = transpose(evaluation<2>());          // tile → outputs
inline constexpr matrix<alpha, 2> A = evaluation<2>();                       // its adjoint
inline constexpr matrix<alpha, alpha> Bt = transpose(inverse(evaluation<alpha>()));  // input → tile
inline constexpr matrix<alpha, alpha> B = transpose(Bt);                     // its adjoint

/// out[r·os] = Σ_k M[r][k] · in[k·is] for every row r of M, the zero
/// coefficients left out and ±1 taken as additions, at compile time.
template <const auto& M, std::size_t r, class T, class V, std::size_t... k>
inline V row_times(const V* in, std::size_t is, std::index_sequence<k...>) {
  V acc(T(0));
  (
      [&] {
        constexpr double c = M[r][k];
        if constexpr (c == 1.0) acc += in[k * is];
        else if constexpr (c == -1.0) acc -= in[k * is];
        else if constexpr (c != 0.0) {
          // An explicit FMA on vectors: the build does not contract a·b + c.
          if constexpr (std::is_floating_point_v<V>) acc += V(T(c)) * in[k * is];
          else acc = kernels::fma(V(T(c)), in[k * is], acc);
        }
      }(),
      ...);
  return acc;
}
template <const auto& M, class T, class V, std::size_t... r>
inline void times(const V* in, std::size_t is, V* out, std::size_t os, std::index_sequence<r...>) {
  ((out[r * os] = row_times<M, r, T>(in, is, std::make_index_sequence<M[0].size()>{})), ...);
}
/// out = M · in along one axis of a 2-D block (the other axis left alone).
template <const auto& M, class T, class V>
inline void times(const V* in, std::size_t is, V* out, std::size_t os) {
  times<M, T>(in, is, out, os, std::make_index_sequence<M.size()>{});
}

/// out[R×C'] = L · in[K×K'] · Rᵀ for row-major blocks, through tmp[R×K'].
template <const auto& L, const auto& R, class T, class V>
inline void sandwich(const V* in, V* tmp, V* out) {
  constexpr std::size_t rows = L.size(), cols = R.size(), kk = R[0].size();
  for (std::size_t j = 0; j < kk; ++j) times<L, T>(in + j, kk, tmp + j, kk);      // tmp = L · in
  for (std::size_t i = 0; i < rows; ++i) times<R, T>(tmp + i * kk, 1, out + i * cols, 1);  // out = tmp · Rᵀ
}

}  // namespace detail

/// Tiles of a sample with a Ho×Wo output, rounded up to whole vectors.
template <class T>
constexpr std::size_t padded_tiles(std::size_t ho, std::size_t wo) {
  return (ho / 2 * (wo / 2) + lanes<T> - 1) / lanes<T> * lanes<T>;
}

/// U[ξ][f] = (G g_f Gᵀ)[ξ] for `count` filters g_f[5][5] (f = o·C + c).
template <class T>
inline void transform_filters(std::size_t count, const T* g, T* u) {
  for (std::size_t f = 0; f < count; ++f) {
    T tmp[alpha * 5], out[positions];
    detail::sandwich<detail::G, detail::G, T>(g + f * 25, tmp, out);
    for (std::size_t x = 0; x < positions; ++x) u[x * count + f] = out[x];
  }
}

/// dg_f (= or +=) Gᵀ dU_f G: the filters' gradient from the transformed one.
template <bool Accumulate, class T>
inline void filter_gradient(std::size_t count, const T* du, T* dg) {
  for (std::size_t f = 0; f < count; ++f) {
    T in[positions], tmp[5 * alpha], out[25];
    for (std::size_t x = 0; x < positions; ++x) in[x] = du[x * count + f];
    detail::sandwich<detail::Gt, detail::Gt, T>(in, tmp, out);
    for (std::size_t x = 0; x < 25; ++x) dg[f * 25 + x] = Accumulate ? dg[f * 25 + x] + out[x] : out[x];
  }
}

/// Tiles a transform holds at a time: their patches stay on the stack and in
/// L1 whatever the image size (a whole multiple of every vector's lanes).
inline constexpr std::size_t tile_chunk = 64;

/// The 6×6 input tiles of one sample's C planes [C, H, W] (tile (ty, tx)
/// starts at row 2·ty, column 2·tx; no padding), transformed into columns
/// [n0, n0 + Tp) of V[ξ][c][·] (row length n). Sizes are fixed<N> or run-time.
template <extent SC, extent SH, extent SW, extent SHo, extent SWo, class T>
inline void transform_input(SC sc, SH sh, SW sw, SHo sho, SWo swo, const T* x, T* v, std::size_t n, std::size_t n0) {
  const std::size_t C = extent_value(sc), H = extent_value(sh), W = extent_value(sw), Wt = extent_value(swo) / 2,
                    tiles = extent_value(sho) / 2 * Wt, Tp = padded_tiles<T>(extent_value(sho), extent_value(swo));
  constexpr std::size_t L = lanes<T>, K = tile_chunk;
  alignas(64) T patch[positions * K];  // patch[ξ][t − t0]
  for (std::size_t c = 0; c < C; ++c) {
    const T* xc = x + c * H * W;
    for (std::size_t t0 = 0; t0 < Tp; t0 += K) {
      const std::size_t t1 = std::min(Tp, t0 + K), filled = std::min(t1, tiles);
      for (std::size_t t = t0; t < filled; ++t) {
        const T* corner = xc + 2 * (t / Wt) * W + 2 * (t % Wt);
        for (std::size_t i = 0; i < alpha; ++i)
          for (std::size_t j = 0; j < alpha; ++j) patch[(i * alpha + j) * K + t - t0] = corner[i * W + j];
      }
      for (std::size_t t = std::max(filled, t0); t < t1; ++t)  // the padding tiles
        for (std::size_t q = 0; q < positions; ++q) patch[q * K + t - t0] = T(0);
      for (std::size_t t = t0; t < t1; t += L) {
        vec<T> d[positions], tmp[positions], out[positions];
        for (std::size_t q = 0; q < positions; ++q) d[q] = vec<T>::load_aligned(patch + q * K + t - t0);
        detail::sandwich<detail::Bt, detail::Bt, T>(d, tmp, out);
        for (std::size_t q = 0; q < positions; ++q) out[q].store_unaligned(v + (q * C + c) * n + n0 + t);
      }
    }
  }
}

/// dx (= or +=) the adjoint of transform_input: each tile's B·dV·Bᵀ added
/// into the 6×6 input pixels it was read from (tiles overlap by 4).
template <bool Accumulate, extent SC, extent SH, extent SW, extent SHo, extent SWo, class T>
inline void input_gradient(SC sc, SH sh, SW sw, SHo sho, SWo swo, const T* dv, std::size_t n, std::size_t n0, T* dx) {
  const std::size_t C = extent_value(sc), H = extent_value(sh), W = extent_value(sw), Wt = extent_value(swo) / 2,
                    tiles = extent_value(sho) / 2 * Wt, Tp = padded_tiles<T>(extent_value(sho), extent_value(swo));
  constexpr std::size_t L = lanes<T>, K = tile_chunk;
  alignas(64) T patch[positions * K];
  for (std::size_t c = 0; c < C; ++c) {
    T* dc = dx + c * H * W;
    if constexpr (!Accumulate)
      for (std::size_t i = 0; i < H * W; ++i) dc[i] = T(0);
    for (std::size_t t0 = 0; t0 < Tp; t0 += K) {
      const std::size_t t1 = std::min(Tp, t0 + K), filled = std::min(t1, tiles);
      for (std::size_t t = t0; t < t1; t += L) {
        vec<T> d[positions], tmp[positions], out[positions];
        for (std::size_t q = 0; q < positions; ++q) d[q] = vec<T>::load_unaligned(dv + (q * C + c) * n + n0 + t);
        detail::sandwich<detail::B, detail::B, T>(d, tmp, out);
        for (std::size_t q = 0; q < positions; ++q) out[q].store_aligned(patch + q * K + t - t0);
      }
      for (std::size_t t = t0; t < filled; ++t) {
        T* corner = dc + 2 * (t / Wt) * W + 2 * (t % Wt);
        for (std::size_t i = 0; i < alpha; ++i)
          for (std::size_t j = 0; j < alpha; ++j) corner[i * W + j] += patch[(i * alpha + j) * K + t - t0];
      }
    }
  }
}

/// y[o][Ho·Wo] for one sample from columns [n0, n0 + Tp) of M[ξ][o][·]:
/// each tile's Aᵀ·M·A, its 2×2 outputs written to their places.
template <extent SOut, extent SHo, extent SWo, class T>
inline void transform_output(SOut sout, SHo sho, SWo swo, const T* m, std::size_t n, std::size_t n0, T* y) {
  const std::size_t Out = extent_value(sout), Ho = extent_value(sho), Wo = extent_value(swo), Wt = Wo / 2,
                    tiles = Ho / 2 * Wt, Tp = padded_tiles<T>(Ho, Wo);
  constexpr std::size_t L = lanes<T>, K = tile_chunk;
  alignas(64) T block[4 * K];  // block[r·2 + s][t − t0]
  for (std::size_t o = 0; o < Out; ++o) {
    T* yo = y + o * Ho * Wo;
    for (std::size_t t0 = 0; t0 < Tp; t0 += K) {
      const std::size_t t1 = std::min(Tp, t0 + K), filled = std::min(t1, tiles);
      for (std::size_t t = t0; t < t1; t += L) {
        vec<T> d[positions], tmp[2 * alpha], out[4];
        for (std::size_t q = 0; q < positions; ++q) d[q] = vec<T>::load_unaligned(m + (q * Out + o) * n + n0 + t);
        detail::sandwich<detail::At, detail::At, T>(d, tmp, out);
        for (std::size_t q = 0; q < 4; ++q) out[q].store_aligned(block + q * K + t - t0);
      }
      for (std::size_t t = t0; t < filled; ++t) {
        T* corner = yo + 2 * (t / Wt) * Wo + 2 * (t % Wt);
        corner[0] = block[t - t0], corner[1] = block[K + t - t0];
        corner[Wo] = block[2 * K + t - t0], corner[Wo + 1] = block[3 * K + t - t0];
      }
    }
  }
}

/// Columns [n0, n0 + Tp) of dM[ξ][o][·] from one sample's output gradient
/// gy[o][Ho·Wo]: the adjoint of transform_output, A·dY·Aᵀ per tile.
template <extent SOut, extent SHo, extent SWo, class T>
inline void output_gradient(SOut sout, SHo sho, SWo swo, const T* gy, T* dm, std::size_t n, std::size_t n0) {
  const std::size_t Out = extent_value(sout), Ho = extent_value(sho), Wo = extent_value(swo), Wt = Wo / 2,
                    tiles = Ho / 2 * Wt, Tp = padded_tiles<T>(Ho, Wo);
  constexpr std::size_t L = lanes<T>, K = tile_chunk;
  alignas(64) T block[4 * K];
  for (std::size_t o = 0; o < Out; ++o) {
    const T* go = gy + o * Ho * Wo;
    for (std::size_t t0 = 0; t0 < Tp; t0 += K) {
      const std::size_t t1 = std::min(Tp, t0 + K), filled = std::min(t1, tiles);
      for (std::size_t t = t0; t < filled; ++t) {
        const T* corner = go + 2 * (t / Wt) * Wo + 2 * (t % Wt);
        block[t - t0] = corner[0], block[K + t - t0] = corner[1];
        block[2 * K + t - t0] = corner[Wo], block[3 * K + t - t0] = corner[Wo + 1];
      }
      for (std::size_t t = std::max(filled, t0); t < t1; ++t)  // the padding tiles
        for (std::size_t q = 0; q < 4; ++q) block[q * K + t - t0] = T(0);
      for (std::size_t t = t0; t < t1; t += L) {
        vec<T> d[4], tmp[alpha * 2], out[positions];
        for (std::size_t q = 0; q < 4; ++q) d[q] = vec<T>::load_aligned(block + q * K + t - t0);
        detail::sandwich<detail::A, detail::A, T>(d, tmp, out);
        for (std::size_t q = 0; q < positions; ++q) out[q].store_unaligned(dm + (q * Out + o) * n + n0 + t);
      }
    }
  }
}

}  // namespace ctnn::kernels::winograd
