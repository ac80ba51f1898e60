/// @file affine_grid.hpp
/// `affine_grid<H, W>(theta)`: the sampling grid of a spatial transformer
/// (Jaderberg et al. 2015), PyTorch's `F.affine_grid(theta, (B, C, H, W),
/// align_corners=False)`. theta holds one 2×3 matrix per sample, row by row,
/// [t0 t1 t2; t3 t4 t5]; the output is [H, W, 2]: for each output pixel
/// (i, j) the point (x, y) = theta · (x_j, y_i, 1) at which
/// bilinear_sampler (ops/bilinear_sampler.hpp) reads the input image.
///
/// Coordinates are normalized: -1 and 1 are the outer edges of the image,
/// not the centres of its corner pixels (align_corners=False), so pixel j's
/// centre is x_j = (2j + 1)/W - 1. The identity theta (1, 0, 0, 0, 1, 0)
/// therefore puts every grid point on a pixel centre of an image of the same
/// size, and the sampler returns that image unchanged.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

template <std::size_t H, std::size_t W>
struct affine_grid_op {
  static constexpr auto name = no_name;
  template <class Theta>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::affine_theta_is_not_six_values<H, W, Theta>>);
    static constexpr std::string_view kind = "affine_grid";
    using out_shape = shape<H, W, 2>;
    static constexpr double flops = 8.0 * H * W;

    // Pixel k's centre on an axis of n pixels, in [-1, 1].
    template <class T>
    static constexpr T centre(std::size_t k, std::size_t n) { return T(2 * k + 1) / T(n) - T(1); }

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b) {
        const T* t = a.in[0] + b * 6;
        T* g = a.out + b * H * W * 2;
        for (std::size_t i = 0; i < H; ++i) {
          const T y = centre<T>(i, H);
          for (std::size_t j = 0; j < W; ++j, g += 2) {
            const T x = centre<T>(j, W);
            g[0] = t[0] * x + t[1] * y + t[2];
            g[1] = t[3] * x + t[4] * y + t[5];
          }
        }
      }
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0)) {
        for (std::size_t b = 0; b < B; ++b) {
          const T* d = a.dout + b * H * W * 2;
          T s[6] = {};  // d/dtheta, in theta's order
          for (std::size_t i = 0; i < H; ++i) {
            const T y = centre<T>(i, H);
            for (std::size_t j = 0; j < W; ++j, d += 2) {
              const T x = centre<T>(j, W);
              s[0] += d[0] * x, s[1] += d[0] * y, s[2] += d[0];
              s[3] += d[1] * x, s[4] += d[1] * y, s[5] += d[1];
            }
          }
          T* dt = a.din[0] + b * 6;
          for (std::size_t k = 0; k < 6; ++k) {
            if constexpr (grad_mode::adds_to_input(Mode, 0)) dt[k] += s[k];
            else dt[k] = s[k];
          }
        }
      }
    }
  };
};

template <std::size_t H, std::size_t W>
struct affine_grid_fn {
  template <graph_value X>
  constexpr auto operator()(const X& theta) const { return make_node<affine_grid_op<H, W>>(theta); }
};
/// `affine_grid<28, 28>(theta)`: a 28×28 grid of (x, y) points from 6 values
/// per sample (any shape of 6 elements: [6] from a dense layer, or [2, 3]).
template <std::size_t H, std::size_t W>
inline constexpr affine_grid_fn<H, W> affine_grid{};

}  // namespace ctnn
