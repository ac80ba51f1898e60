/// @file pool.hpp
/// Max and average pooling over image planes: F×F windows moved by S over an
/// H×W plane padded by P. The static op passes a constexpr geometry and the
/// runtime twin a run-time one; both run this code.
#pragma once

#include <algorithm>
#include <cstddef>

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

/// y = the max (Max) or the mean over F·F positions, padded zeros included
/// (average; fewer for a window overhanging the padded input) of each
/// window, for `planes` planes of x. Max pooling ignores
/// padded positions and writes each output's winning index in its plane to
/// `winners` (the first maximum wins a tie); average pooling leaves it alone.
template <bool Max, class T>
inline void pool_forward(std::size_t planes, const window_geometry& g, const T* x, T* y, T* winners) {
  const std::size_t hw = g.h * g.w, hwo = g.ho * g.wo;
  for (std::size_t p = 0; p < planes; ++p, x += hw, y += hwo)
    for (std::size_t oy = 0; oy < g.ho; ++oy)
      for (std::size_t ox = 0; ox < g.wo; ++ox) {
        const std::size_t y0 = g.lo(oy), y1 = g.hi(oy, g.h), x0 = g.lo(ox), x1 = g.hi(ox, g.w);
        if constexpr (Max) {
          std::size_t best = y0 * g.w + x0;
          for (std::size_t iy = y0; iy < y1; ++iy)
            for (std::size_t ix = x0; ix < x1; ++ix)
              if (x[iy * g.w + ix] > x[best]) best = iy * g.w + ix;
          y[oy * g.wo + ox] = x[best];
          winners[p * hwo + oy * g.wo + ox] = T(best);
        } else {
          T s = 0;
          for (std::size_t iy = y0; iy < y1; ++iy)
            for (std::size_t ix = x0; ix < x1; ++ix) s += x[iy * g.w + ix];
          y[oy * g.wo + ox] = s / T(g.taps(oy, g.h) * g.taps(ox, g.w));
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
  for (std::size_t p = 0; p < planes; ++p, dx += hw, dy += hwo) {
    if constexpr (Max) {
      const T* win = winners + p * hwo;
      for (std::size_t o = 0; o < hwo; ++o) dx[std::size_t(win[o])] += dy[o];
    } else {
      for (std::size_t oy = 0; oy < g.ho; ++oy)
        for (std::size_t ox = 0; ox < g.wo; ++ox) {
          const T d = dy[oy * g.wo + ox] / T(g.taps(oy, g.h) * g.taps(ox, g.w));
          for (std::size_t iy = g.lo(oy); iy < g.hi(oy, g.h); ++iy)
            for (std::size_t ix = g.lo(ox); ix < g.hi(ox, g.w); ++ix) dx[iy * g.w + ix] += d;
        }
    }
  }
}

}  // namespace ctnn::kernels
