/// @file pool.hpp
/// Max and average pooling over image planes: F×F windows moved by S over an
/// H×W plane padded by P. The static op passes a constexpr geometry and the
/// runtime twin a run-time one; both run this code.
///
/// Each row of outputs is computed in two passes: a vector pass down the
/// window's rows reduces every input column it covers (its max and the first
/// row holding it, or its sum), then a short branch-free scalar pass across
/// each window folds those columns. Rows are contiguous, so the pass over
/// the F rows of input runs at full vector width whatever the stride, with
/// no gathers; the pass across reads one value per column and window.
///
/// Max pooling over 2×2 windows moved by 2 on an even plane without padding
/// (LeNet's and VGG's) has a path of its own: the rows of each pair are
/// reduced as vectors, neighbours are then split into even and odd lanes and
/// compared as vectors too, and the backward writes every input once (the
/// gradient or 0) without clearing the planes first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>

#include "ctnn/kernels/parallel_samples.hpp"
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
/// The reduced columns of several rows of outputs wait in this many values.
inline constexpr std::size_t pool_rows = 2048;

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
/// best = the column's sum. The last partial vector is a masked one.
template <bool Max, class T>
inline void reduce_columns(const T* x, std::size_t w, std::size_t y0, std::size_t y1, std::size_t n, T* best, T* row) {
  constexpr std::size_t L = lanes<T>;
  const auto reduce = [&](std::size_t i, auto load, auto store) {
    vec<T> m = load(x + y0 * w + i);
    vec<T> r = vec<T>(T(y0));
    for (std::size_t iy = y0 + 1; iy < y1; ++iy) {
      const vec<T> v = load(x + iy * w + i);
      if constexpr (Max) {
        const auto greater = v > m;  // strict: the first row keeps a tie
        m = xsimd::select(greater, v, m);
        r = xsimd::select(greater, vec<T>(T(iy)), r);
      } else {
        m += v;
      }
    }
    store(best + i, m);
    if constexpr (Max) store(row + i, r);
  };
  const std::size_t nv = n / L * L;
  for (std::size_t i = 0; i < nv; i += L)
    reduce(i, [](const T* p) { return vec<T>::load_unaligned(p); }, [](T* p, vec<T> v) { v.store_unaligned(p); });
  if (const std::size_t tail = n - nv; tail > 0)
    reduce(nv, [tail](const T* p) { return load_partial(p, tail); },
           [tail](T* p, vec<T> v) { store_partial(p, v, tail); });
}

/// Folds a window's reduced columns, left to right: for Max the index of
/// the largest value, a tie going to the earlier row (then the earlier
/// column: row-major order); else their sum. Max keeps an index and updates
/// it by a mask, not a branch: the comparisons are data, and a mispredicted
/// branch per window cost more than the whole vector pass.
template <bool Max, class T>
struct window_fold {
  const T* best;     // the reduced columns from input column `base` on
  const T* row;
  std::size_t base;
  std::size_t c;     // Max: the winning input column
  T sum;             // else: the sum so far
  window_fold(const T* b, const T* r, std::size_t first_column, std::size_t ix)
      : best(b), row(r), base(first_column), c(ix), sum(b[ix - first_column]) {}
  T value() const { return best[c - base]; }
  T value_row() const { return row[c - base]; }
  void add(std::size_t ix) {
    if constexpr (Max) {
      const T v = best[ix - base], m = value();
      const std::size_t take = std::size_t(v > m) | (std::size_t(v == m) & std::size_t(row[ix - base] < value_row()));
      c += (ix - c) & (std::size_t(0) - take);
    } else {
      sum += best[ix - base];
    }
  }
};

/// Writes output k of row oy from its fold.
template <bool Max, class T>
inline void pool_store(const window_geometry& g, std::size_t oy, std::size_t k, const window_fold<Max, T>& f, T* y,
                       T* winners) {
  if constexpr (Max) {
    y[oy * g.wo + k] = f.value();
    winners[oy * g.wo + k] = T(std::size_t(f.value_row()) * g.w + f.c);
  } else {
    y[oy * g.wo + k] = f.sum / T(g.taps(oy, g.h) * g.taps(k, g.w));
  }
}

/// pool_forward for the outputs of one block: the columns of as many rows
/// of outputs as pool_rows values hold are reduced, then folded.
template <bool Max, class T>
inline void pool_block_forward(std::size_t planes, const window_geometry& g, const output_block& blk, const T* x, T* y,
                               T* winners) {
  const std::size_t hw = g.h * g.w, hwo = g.ho * g.wo, span = blk.c1 - blk.c0;
  const std::size_t rows = std::max<std::size_t>(1, pool_rows / span);
  alignas(64) T best[pool_rows];
  alignas(64) T row[pool_rows];
  for (std::size_t p = 0; p < planes; ++p, x += hw, y += hwo, winners += Max ? hwo : 0)
    for (std::size_t oy0 = 0; oy0 < g.ho; oy0 += rows) {
      const std::size_t oy1 = std::min(g.ho, oy0 + rows);
      for (std::size_t oy = oy0; oy < oy1; ++oy)
        reduce_columns<Max>(x + blk.c0, g.w, g.lo(oy), g.hi(oy, g.h), span, best + (oy - oy0) * span,
                            row + (oy - oy0) * span);
      for (std::size_t oy = oy0; oy < oy1; ++oy) {
        const T* b = best + (oy - oy0) * span;  // from input column blk.c0 on
        const T* r = row + (oy - oy0) * span;
        for (std::size_t k = blk.o; k < blk.o + blk.count; ++k) {
          const std::size_t x0 = g.lo(k), x1 = g.hi(k, g.w);
          window_fold<Max, T> f(b, r, blk.c0, x0);
          for (std::size_t ix = x0 + 1; ix < x1; ++ix) f.add(ix);
          pool_store(g, oy, k, f, y, winners);
        }
      }
    }
}

/// pool_forward for output column k, whose window is wider than a block:
/// its columns are reduced and folded a block at a time.
template <bool Max, class T>
inline void pool_wide_forward(std::size_t planes, const window_geometry& g, std::size_t k, const T* x, T* y,
                              T* winners) {
  const std::size_t hw = g.h * g.w, hwo = g.ho * g.wo;
  const std::size_t x0 = g.lo(k), x1 = g.hi(k, g.w);
  alignas(64) T best[pool_block];
  alignas(64) T row[pool_block];
  for (std::size_t p = 0; p < planes; ++p, x += hw, y += hwo, winners += Max ? hwo : 0)
    for (std::size_t oy = 0; oy < g.ho; ++oy) {
      // Each run of columns folds on its own; the runs combine in column
      // order, so the same rule picks the winner.
      T m{}, r{}, sum{};
      std::size_t c = x0;
      for (std::size_t a = x0; a < x1; a += pool_block) {
        const std::size_t b = std::min(x1, a + pool_block);
        reduce_columns<Max>(x + a, g.w, g.lo(oy), g.hi(oy, g.h), b - a, best, row);
        window_fold<Max, T> f(best, row, a, a);
        for (std::size_t ix = a + 1; ix < b; ++ix) f.add(ix);
        if constexpr (Max) {
          const T v = f.value(), vr = f.value_row();
          if (a == x0 || v > m || (v == m && vr < r)) m = v, r = vr, c = f.c;
        } else {
          sum += f.sum;
        }
      }
      if constexpr (Max) {
        y[oy * g.wo + k] = m;
        winners[oy * g.wo + k] = T(std::size_t(r) * g.w + c);
      } else {
        y[oy * g.wo + k] = sum / T(g.taps(oy, g.h) * g.taps(k, g.w));
      }
    }
}

/// The values one group of rows of the 2×2 path keeps on the stack (a wider
/// plane takes the general path).
inline constexpr std::size_t pair_values = 2048;

/// 2×2 windows moved by 2 that tile an even plane: the path below.
constexpr bool tiles_in_pairs(const window_geometry& g) {
  return g.f == 2 && g.s == 2 && g.p == 0 && g.h % 2 == 0 && g.w % 2 == 0 && g.ho == g.h / 2 && g.wo == g.w / 2 &&
         g.w <= pair_values;
}

/// Max pooling over 2×2/2 windows. For a group of output rows: each pair of
/// input rows gives, per column, the larger value and its index in the plane
/// (the upper one on a tie); these W values per output row lie end to end,
/// so the windows are the neighbouring pairs of one flat array, which is
/// split into even and odd lanes and folded as vectors. A tie between the
/// two columns goes to the smaller plane index: row-major order.
template <class T>
inline void pool_pairs_forward(std::size_t planes, const window_geometry& g, const T* x, T* y, T* winners) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t W = g.w, hw = g.h * W, hwo = g.ho * g.wo, rows = pair_values / W;
  const std::size_t nv = W / L * L;
  const vec<T> lane = iota<T>(T(0));
  alignas(64) T best[pair_values];
  alignas(64) T index[pair_values];
  for (std::size_t p = 0; p < planes; ++p, x += hw, y += hwo, winners += hwo)
    for (std::size_t oy0 = 0; oy0 < g.ho; oy0 += rows) {
      const std::size_t oy1 = std::min(g.ho, oy0 + rows);
      for (std::size_t oy = oy0; oy < oy1; ++oy) {
        const T* top = x + 2 * oy * W;
        T* b = best + (oy - oy0) * W;
        T* ix = index + (oy - oy0) * W;
        const auto pair = [&](std::size_t c, vec<T> u, vec<T> d) {
          const auto lower = d > u;
          const vec<T> at = lane + T(2 * oy * W + c);
          return std::pair{xsimd::select(lower, d, u), xsimd::select(lower, at + T(W), at)};
        };
        for (std::size_t c = 0; c < nv; c += L) {
          const auto [v, i] = pair(c, vec<T>::load_unaligned(top + c), vec<T>::load_unaligned(top + W + c));
          v.store_unaligned(b + c);
          i.store_unaligned(ix + c);
        }
        if (const std::size_t tail = W - nv; tail > 0) {
          const auto [v, i] = pair(nv, load_partial(top + nv, tail), load_partial(top + W + nv, tail));
          store_partial(b + nv, v, tail);
          store_partial(ix + nv, i, tail);
        }
      }
      const std::size_t n = (oy1 - oy0) * W;  // even: pairs never straddle two rows
      T* out = y + oy0 * g.wo;
      T* win = winners + oy0 * g.wo;
      std::size_t j = 0;
      for (; j + 2 * L <= n; j += 2 * L) {
        vec<T> ve, vo, ie, io;
        deinterleave(vec<T>::load_aligned(best + j), vec<T>::load_aligned(best + j + L), ve, vo);
        deinterleave(vec<T>::load_aligned(index + j), vec<T>::load_aligned(index + j + L), ie, io);
        const auto odd = (vo > ve) | ((vo == ve) & (io < ie));
        xsimd::select(odd, vo, ve).store_unaligned(out + j / 2);
        xsimd::select(odd, io, ie).store_unaligned(win + j / 2);
      }
      for (; j < n; j += 2) {
        const bool odd = best[j + 1] > best[j] || (best[j + 1] == best[j] && index[j + 1] < index[j]);
        out[j / 2] = best[j + odd];
        win[j / 2] = index[j + odd];
      }
    }
}

/// The gradient of pool_pairs_forward: each output's gradient and winner
/// are doubled into neighbouring lanes (interleave), then each input row
/// takes the gradient where its index is the winner and 0 elsewhere.
template <class T>
inline void pool_pairs_backward(std::size_t planes, const window_geometry& g, const T* dy, const T* winners, T* dx,
                                bool accumulate) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t W = g.w, hw = g.h * W, hwo = g.ho * g.wo, rows = pair_values / W;
  const std::size_t nv = W / L * L;
  const vec<T> lane = iota<T>(T(0));
  alignas(64) T grad[pair_values];
  alignas(64) T winner[pair_values];
  for (std::size_t p = 0; p < planes; ++p, dx += hw, dy += hwo, winners += hwo)
    for (std::size_t oy0 = 0; oy0 < g.ho; oy0 += rows) {
      const std::size_t oy1 = std::min(g.ho, oy0 + rows), n = (oy1 - oy0) * g.wo;
      const T* d = dy + oy0 * g.wo;
      const T* w = winners + oy0 * g.wo;
      std::size_t o = 0;
      for (; o + L <= n; o += L) {
        vec<T> lo, hi;
        const vec<T> dv = vec<T>::load_unaligned(d + o), wv = vec<T>::load_unaligned(w + o);
        interleave(dv, dv, lo, hi);
        lo.store_aligned(grad + 2 * o);
        hi.store_aligned(grad + 2 * o + L);
        interleave(wv, wv, lo, hi);
        lo.store_aligned(winner + 2 * o);
        hi.store_aligned(winner + 2 * o + L);
      }
      // The tail is shorter than a vector; counting it against L bounds the
      // loop for the compiler, which otherwise sees 2·o + 1 index the stack
      // buffers for any o and warns that the loop might run to an overflow.
      for (std::size_t k = 0, rest = n - o; k < rest && k < L; ++k, ++o)
        grad[2 * o] = grad[2 * o + 1] = d[o], winner[2 * o] = winner[2 * o + 1] = w[o];
      for (std::size_t oy = oy0; oy < oy1; ++oy)
        for (std::size_t r = 0; r < 2; ++r) {
          const std::size_t row = 2 * oy + r;
          const T* gr = grad + (oy - oy0) * W;
          const T* wr = winner + (oy - oy0) * W;
          T* out = dx + row * W;
          const auto routed = [&](std::size_t c, vec<T> gv, vec<T> wv) {
            return xsimd::select(wv == lane + T(row * W + c), gv, vec<T>(T(0)));
          };
          for (std::size_t c = 0; c < nv; c += L) {
            vec<T> v = routed(c, vec<T>::load_unaligned(gr + c), vec<T>::load_unaligned(wr + c));
            if (accumulate) v += vec<T>::load_unaligned(out + c);
            v.store_unaligned(out + c);
          }
          if (const std::size_t tail = W - nv; tail > 0) {
            vec<T> v = routed(nv, load_partial(gr + nv, tail), load_partial(wr + nv, tail));
            if (accumulate) v += load_partial(out + nv, tail);
            store_partial(out + nv, v, tail);
          }
        }
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
  if constexpr (Max)
    if (detail::tiles_in_pairs(g)) return detail::pool_pairs_forward(planes, g, x, y, winners);
  for (std::size_t o = 0; o < g.wo;) {
    const auto blk = detail::block_from(g, o);
    if (blk.c1 - blk.c0 <= detail::pool_block) detail::pool_block_forward<Max>(planes, g, blk, x, y, winners);
    else detail::pool_wide_forward<Max>(planes, g, blk.o, x, y, winners);  // a block of one window
    o += blk.count;
  }
}

/// dx (= or, with accumulate, +=) the gradient of pool_forward: max pooling
/// routes each output gradient to its winner, average pooling spreads it over
/// its window. Windows may overlap (S < F): every input gathers from all of
/// its windows, so the planes are cleared first unless accumulating.
template <bool Max, class T>
inline void pool_backward(std::size_t planes, const window_geometry& g, const T* dy, const T* winners, T* dx,
                          bool accumulate) {
  if constexpr (Max)
    if (detail::tiles_in_pairs(g)) return detail::pool_pairs_backward(planes, g, dy, winners, dx, accumulate);
  const std::size_t hw = g.h * g.w, hwo = g.ho * g.wo;
  if (!accumulate) std::fill_n(dx, planes * hw, T(0));
  if constexpr (Max) {
    for (std::size_t p = 0; p < planes; ++p, dx += hw, dy += hwo, winners += hwo)
      for (std::size_t o = 0; o < hwo; ++o) dx[std::size_t(winners[o])] += dy[o];
  } else {
    // Per row of outputs and run of columns: what each input column receives
    // from the windows, then added to each of the window's rows as vectors.
    alignas(64) T spread[detail::pool_block];
    for (std::size_t o = 0; o < g.wo;) {
      const auto blk = detail::block_from(g, o);
      for (std::size_t a = blk.c0; a < blk.c1; a += detail::pool_block) {
        const std::size_t b = std::min(blk.c1, a + detail::pool_block);
        for (std::size_t p = 0; p < planes; ++p)
          for (std::size_t oy = 0; oy < g.ho; ++oy) {
            std::fill_n(spread, b - a, T(0));
            for (std::size_t k = blk.o; k < blk.o + blk.count; ++k) {
              const T d = dy[p * hwo + oy * g.wo + k] / T(g.taps(oy, g.h) * g.taps(k, g.w));
              for (std::size_t ix = std::max(a, g.lo(k)); ix < std::min(b, g.hi(k, g.w)); ++ix) spread[ix - a] += d;
            }
            for (std::size_t iy = g.lo(oy); iy < g.hi(oy, g.h); ++iy)
              map_add(b - a, dx + p * hw + iy * g.w + a, [](auto v) { return v; }, static_cast<const T*>(spread));
          }
      }
      o += blk.count;
    }
  }
}

/// pool_forward and pool_backward over a batch of samples of `planes`
/// planes each, the samples side by side on the team as for convolution
/// (comparisons count as multiply-adds for the threshold); the static
/// pooling layers and the twin's both go through these.
template <bool Max, extent SB, class T>
inline void pool_forward_samples(SB batch, std::size_t planes, const window_geometry& g, const T* x, T* y,
                                 T* winners) {
  const std::size_t in = planes * g.h * g.w, out = planes * g.ho * g.wo;
  for_each_sample(batch, double(out) * double(g.f * g.f), [&](std::size_t b) {
    pool_forward<Max>(planes, g, x + b * in, y + b * out, Max ? winners + b * out : nullptr);
  });
}
template <bool Max, extent SB, class T>
inline void pool_backward_samples(SB batch, std::size_t planes, const window_geometry& g, const T* dy,
                                  const T* winners, T* dx, bool accumulate) {
  const std::size_t in = planes * g.h * g.w, out = planes * g.ho * g.wo;
  for_each_sample(batch, double(out) * double(g.f * g.f), [&](std::size_t b) {
    pool_backward<Max>(planes, g, dy + b * out, Max ? winners + b * out : nullptr, dx + b * in, accumulate);
  });
}

}  // namespace ctnn::kernels
