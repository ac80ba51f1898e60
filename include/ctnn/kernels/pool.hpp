/// @file pool.hpp
/// Max and average pooling over image planes: F×F windows moved by S over an
/// H×W plane padded by P. The static op passes a constexpr geometry and the
/// runtime twin a run-time one; both run this code.
///
/// Each row of outputs is computed in two passes: a vector pass down the
/// window's rows reduces every input column it covers (its max and the first
/// row holding it, or its sum), then a short scalar pass across each window
/// reduces those columns. The rows are contiguous, so the pass that does
/// F·F/(F + 1) of the work runs at full vector width, whatever the stride.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

/// F×F windows moved by S over an H×W plane padded by P, giving Ho×Wo.
struct window_geometry {
  std::size_t h, w, f, s, p, ho, wo;
  /// The window of output o clipped to the image: [lo(o), hi(o, n)).
  constexpr std::size_t lo(std::size_t o) const { return o * s < p ? 0 : o * s - p; }
  constexpr std::size_t hi(std::size_t o, std::size_t n) const { return std::min(n, o * s + f - p); }
  /// How many of window o's F positions lie in the padded input (F except
  /// for a ceil-mode window overhanging it): average pooling's divisor.
  constexpr std::size_t taps(std::size_t o, std::size_t n) const { return std::min(o * s + f, n + 2 * p) - o * s; }
};

namespace detail {

/// The input columns one block of outputs reduces at a time: the column
/// passes keep them on the stack (a window wider than this is split).
inline constexpr std::size_t pool_block = 256;

/// Outputs [o, o + count) of a row, whose windows cover input columns
/// [c0, c1): the largest run from `o` that fits in pool_block columns.
struct output_block {
  std::size_t o, count, c0, c1;
};
inline output_block block_from(const window_geometry& g, std::size_t o) {
  std::size_t count = 1;
  while (o + count < g.wo && g.hi(o + count, g.w) - g.lo(o) <= pool_block) ++count;
  return {o, count, g.lo(o), g.hi(o + count - 1, g.w)};
}

/// For columns [0, n) of the rows [y0, y1) starting at x (row pitch w):
/// best = the column's max and row = the first row holding it (Max), or
/// best = the column's sum.
template <bool Max, class T>
inline void reduce_columns(const T* x, std::size_t w, std::size_t y0, std::size_t y1, std::size_t n, T* best, T* row) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t nv = n / L * L;
  for (std::size_t i = 0; i < nv; i += L) {
    vec<T> m = vec<T>::load_unaligned(x + y0 * w + i);
    vec<T> r = vec<T>(T(y0));
    for (std::size_t iy = y0 + 1; iy < y1; ++iy) {
      const vec<T> v = vec<T>::load_unaligned(x + iy * w + i);
      if constexpr (Max) {
        const auto greater = v > m;  // strict: the first row keeps a tie
        m = xsimd::select(greater, v, m);
        r = xsimd::select(greater, vec<T>(T(iy)), r);
      } else {
        m += v;
      }
    }
    m.store_unaligned(best + i);
    if constexpr (Max) r.store_unaligned(row + i);
  }
  for (std::size_t i = nv; i < n; ++i) {
    T m = x[y0 * w + i], r = T(y0);
    for (std::size_t iy = y0 + 1; iy < y1; ++iy) {
      const T v = x[iy * w + i];
      if constexpr (Max) {
        if (v > m) m = v, r = T(iy);
      } else {
        m += v;
      }
    }
    best[i] = m;
    if constexpr (Max) row[i] = r;
  }
}

}  // namespace detail

/// y = the max (Max) or the mean over F·F positions, padded zeros included
/// (average; fewer for a window overhanging the padded input) of each
/// window, for `planes` planes of x. Max pooling ignores padded positions
/// and writes each output's winning index in its plane to `winners`: the
/// first maximum in row-major order wins a tie. Average pooling leaves
/// `winners` alone.
template <bool Max, class T>
inline void pool_forward(std::size_t planes, const window_geometry& g, const T* x, T* y, T* winners) {
  const std::size_t hw = g.h * g.w, hwo = g.ho * g.wo;
  alignas(64) T best[detail::pool_block];
  alignas(64) T row[detail::pool_block];
  for (std::size_t p = 0; p < planes; ++p, x += hw, y += hwo)
    for (std::size_t oy = 0; oy < g.ho; ++oy) {
      const std::size_t y0 = g.lo(oy), y1 = g.hi(oy, g.h), ty = g.taps(oy, g.h);
      for (std::size_t o = 0; o < g.wo;) {
        const auto blk = detail::block_from(g, o);
        const bool whole = blk.c1 - blk.c0 <= detail::pool_block;  // else one window, split in column runs
        for (std::size_t k = blk.o; k < blk.o + blk.count; ++k) {
          const std::size_t x0 = g.lo(k), x1 = g.hi(k, g.w);
          T m{}, r{};
          std::size_t c{};
          for (std::size_t a = x0; a < x1; a += detail::pool_block) {
            const std::size_t b = std::min(x1, a + detail::pool_block);
            // The block's columns were reduced once for all its windows.
            if (!whole || (a == x0 && k == blk.o))
              detail::reduce_columns<Max>(x + (whole ? blk.c0 : a), g.w, y0, y1,
                                          whole ? blk.c1 - blk.c0 : b - a, best, row);
            const std::size_t base = whole ? blk.c0 : a;
            for (std::size_t ix = a; ix < b; ++ix) {
              const T v = best[ix - base];
              if constexpr (Max) {
                const T vr = row[ix - base];
                // Row-major order: a larger value, or the same one in an earlier row.
                if (ix == x0 || v > m || (v == m && vr < r)) m = v, r = vr, c = ix;
              } else {
                m = ix == x0 ? v : m + v;
              }
            }
          }
          if constexpr (Max) {
            y[oy * g.wo + k] = m;
            winners[p * hwo + oy * g.wo + k] = T(std::size_t(r) * g.w + c);
          } else {
            y[oy * g.wo + k] = m / T(ty * g.taps(k, g.w));
          }
        }
        o += blk.count;
      }
    }
}

/// dx (= or, with accumulate, +=) the gradient of pool_forward: max pooling
/// routes each output gradient to its winner, average pooling spreads it over
/// its window. Windows may overlap (S < F): every input gathers from all of
/// its windows, so the planes are cleared first unless accumulating.
template <bool Max, class T>
inline void pool_backward(std::size_t planes, const window_geometry& g, const T* dy, const T* winners, T* dx,
                          bool accumulate) {
  const std::size_t hw = g.h * g.w, hwo = g.ho * g.wo;
  if (!accumulate) std::fill_n(dx, planes * hw, T(0));
  alignas(64) T spread[detail::pool_block];
  for (std::size_t p = 0; p < planes; ++p, dx += hw, dy += hwo) {
    if constexpr (Max) {
      const T* win = winners + p * hwo;
      for (std::size_t o = 0; o < hwo; ++o) dx[std::size_t(win[o])] += dy[o];
    } else {
      // Per row of outputs: what each input column of the block receives,
      // added to each of the window's rows as one vector run.
      for (std::size_t oy = 0; oy < g.ho; ++oy) {
        const std::size_t y0 = g.lo(oy), y1 = g.hi(oy, g.h), ty = g.taps(oy, g.h);
        for (std::size_t o = 0; o < g.wo;) {
          const auto blk = detail::block_from(g, o);
          for (std::size_t a = blk.c0; a < blk.c1; a += detail::pool_block) {
            const std::size_t b = std::min(blk.c1, a + detail::pool_block);
            std::fill_n(spread, b - a, T(0));
            for (std::size_t k = blk.o; k < blk.o + blk.count; ++k) {
              const T d = dy[oy * g.wo + k] / T(ty * g.taps(k, g.w));
              for (std::size_t ix = std::max(a, g.lo(k)); ix < std::min(b, g.hi(k, g.w)); ++ix) spread[ix - a] += d;
            }
            for (std::size_t iy = y0; iy < y1; ++iy)
              map_add(b - a, dx + iy * g.w + a, [](auto v) { return v; }, static_cast<const T*>(spread));
          }
          o += blk.count;
        }
      }
    }
  }
}

}  // namespace ctnn::kernels
