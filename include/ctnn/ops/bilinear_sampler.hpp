/// @file bilinear_sampler.hpp
/// `bilinear_sampler(image, grid)`: reads an image [C, H_in, W_in] at the
/// points of a grid [H, W, 2] (from affine_grid, ops/affine_grid.hpp) and
/// gives [C, H, W], as PyTorch's `F.grid_sample(image, grid,
/// mode='bilinear', padding_mode='zeros', align_corners=False)`.
///
/// A point (x, y) in [-1, 1] is the pixel position ix = ((x + 1)·W_in - 1)/2
/// (so -1 and 1 are the image's outer edges and pixel centres sit at whole
/// ix); the value interpolates the four pixels around it, and a pixel outside
/// the image counts as 0. Backward gives both inputs their gradient: the
/// image's, the output gradient scattered back with the same four weights;
/// the grid's, the slopes of the interpolation between those pixels. The
/// interpolation has kinks where a point crosses a whole pixel position, and
/// there the grid gradient is the slope on the side of the larger index
/// (PyTorch's too). A position within a few rounding errors of a pixel
/// centre is taken as that centre, so that the identity theta of
/// affine_grid, whose points are the centres, gives back the image exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
template <class S, std::size_t K>
constexpr std::size_t dim_or_zero() {
  if constexpr (K < S::rank) return S::dims[K]; else return 0;
}

// The four pixels around one grid point and their weights; a pixel outside
// the image has weight 0 and index 0, so reading it is harmless.
template <class T>
struct bilinear_corners {
  std::size_t index[4];  // (y0, x0), (y0, x1), (y1, x0), (y1, x1)
  T weight[4];
  T wx1, wy1;            // the point's offsets from (x0, y0)
  bool inside[4];
  // A position within rounding of a pixel centre is that centre: x + 1
  // loses up to ~n/2 ulps where x is near -1, and without this the identity
  // grid would mix in a neighbour by ~1e-6 instead of giving back the image.
  static T on_centre(T i, std::size_t n) {
    const T r = std::nearbyint(i);
    return std::abs(i - r) <= T(4) * std::numeric_limits<T>::epsilon() * T(n + 1) ? r : i;
  }
  bilinear_corners(T x, T y, std::size_t h, std::size_t w) {
    const T ix = on_centre(((x + T(1)) * T(w) - T(1)) / T(2), w), iy = on_centre(((y + T(1)) * T(h) - T(1)) / T(2), h);
    const T fx = std::floor(ix), fy = std::floor(iy);
    wx1 = ix - fx, wy1 = iy - fy;
    const T wx0 = T(1) - wx1, wy0 = T(1) - wy1;
    // Far outside, a float beyond the integers is no pixel either.
    const double x0 = double(fx), y0 = double(fy);
    const double xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
    const T wxs[2] = {wx0, wx1}, wys[2] = {wy0, wy1};
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 2; ++c) {
        const int k = 2 * r + c;
        inside[k] = ys[r] >= 0 && ys[r] < double(h) && xs[c] >= 0 && xs[c] < double(w);
        index[k] = inside[k] ? std::size_t(ys[r]) * w + std::size_t(xs[c]) : 0;
        weight[k] = inside[k] ? wys[r] * wxs[c] : T(0);
      }
  }
};
}  // namespace detail

struct bilinear_sampler_op {
  static constexpr auto name = no_name;
  template <class Image, class Grid>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::sampler_shapes_do_not_fit<Image, Grid>>);
    static constexpr std::string_view kind = "bilinear_sampler";
    static constexpr std::size_t C = detail::dim_or_zero<Image, 0>(), Hin = detail::dim_or_zero<Image, 1>(),
                                 Win = detail::dim_or_zero<Image, 2>();
    static constexpr std::size_t H = detail::dim_or_zero<Grid, 0>(), W = detail::dim_or_zero<Grid, 1>();
    static constexpr std::size_t in_size = C * Hin * Win, points = H * W;
    using out_shape = shape<C, H, W>;
    static constexpr double flops = 20.0 * points + 8.0 * C * points;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b) {
        const T* img = a.in[0] + b * in_size;
        const T* g = a.in[1] + b * points * 2;
        T* out = a.out + b * C * points;
        for (std::size_t p = 0; p < points; ++p) {
          const detail::bilinear_corners<T> q(g[2 * p], g[2 * p + 1], Hin, Win);
          for (std::size_t c = 0; c < C; ++c) {
            const T* plane = img + c * Hin * Win;
            out[c * points + p] = q.weight[0] * plane[q.index[0]] + q.weight[1] * plane[q.index[1]] +
                                  q.weight[2] * plane[q.index[2]] + q.weight[3] * plane[q.index[3]];
          }
        }
      }
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      constexpr bool image_grad = grad_mode::wants_input(Mode, 0), grid_grad = grad_mode::wants_input(Mode, 1);
      for (std::size_t b = 0; b < B; ++b) {
        const T* img = a.in[0] + b * in_size;
        const T* g = a.in[1] + b * points * 2;
        const T* d = a.dout + b * C * points;
        T* dimg = image_grad ? a.din[0] + b * in_size : nullptr;
        T* dg = grid_grad ? a.din[1] + b * points * 2 : nullptr;
        // A scatter: nobody else writes the image gradient first.
        if constexpr (image_grad && !grad_mode::adds_to_input(Mode, 0)) std::fill_n(dimg, in_size, T(0));
        for (std::size_t p = 0; p < points; ++p) {
          const detail::bilinear_corners<T> q(g[2 * p], g[2 * p + 1], Hin, Win);
          T dix = 0, diy = 0;  // d/d(pixel position)
          for (std::size_t c = 0; c < C; ++c) {
            const T dc = d[c * points + p];
            if constexpr (image_grad) {
              T* plane = dimg + c * Hin * Win;
              for (int k = 0; k < 4; ++k)
                if (q.inside[k]) plane[q.index[k]] += q.weight[k] * dc;
            }
            if constexpr (grid_grad) {
              const T* plane = img + c * Hin * Win;
              T v[4];
              for (int k = 0; k < 4; ++k) v[k] = q.inside[k] ? plane[q.index[k]] : T(0);
              dix += dc * ((v[1] - v[0]) * (T(1) - q.wy1) + (v[3] - v[2]) * q.wy1);
              diy += dc * ((v[2] - v[0]) * (T(1) - q.wx1) + (v[3] - v[1]) * q.wx1);
            }
          }
          if constexpr (grid_grad) {
            // ix = ((x + 1)·W_in - 1)/2, so dix/dx = W_in/2.
            const T dx = dix * T(Win) / T(2), dy = diy * T(Hin) / T(2);
            if constexpr (grad_mode::adds_to_input(Mode, 1)) dg[2 * p] += dx, dg[2 * p + 1] += dy;
            else dg[2 * p] = dx, dg[2 * p + 1] = dy;
          }
        }
      }
    }
  };
};

struct bilinear_sampler_fn {
  template <graph_value Image, graph_value Grid>
  constexpr auto operator()(const Image& image, const Grid& grid) const {
    return make_node<bilinear_sampler_op>(image, grid);
  }
};
/// `bilinear_sampler(image, affine_grid<28, 28>(theta))`: the image read at
/// the grid's points, bilinearly, zeros outside.
inline constexpr bilinear_sampler_fn bilinear_sampler{};

}  // namespace ctnn
