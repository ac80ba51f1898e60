/// @file pool.hpp
/// Max and average pooling over per-sample images [C, H, W], with stride and
/// padding, and global average pooling [C, H, W] → [C].
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/im2col.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"
#include "ctnn/ops/window.hpp"

namespace ctnn {

enum class pool_kind { max, average };

/// F×F windows moved by S. Max pooling ignores padded positions (as if they
/// were −∞) and keeps each output's winning input index in its scratch for
/// backward (the first maximum wins a tie). Average pooling divides by F·F,
/// padded zeros included (Caffe's and PyTorch's default).
template <pool_kind Kind, std::size_t F, std::size_t S, std::size_t P>
struct pool_op {
  static constexpr auto name = no_name;
  static constexpr auto op_name = Kind == pool_kind::max ? fixed_string("max_pool") : fixed_string("avg_pool");

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::conv_input_is_not_an_image<op_name, In>>);
    static_assert(diagnostic::check<diagnostic::pool_padding_not_below_window<op_name, F, P>>);
    static constexpr std::size_t C = detail::dim_or_one<In, 0>, H = detail::dim_or_one<In, 1>,
                                 W = detail::dim_or_one<In, 2>;
    static_assert(diagnostic::check<diagnostic::window_does_not_tile_input<op_name, "height", H, F, P, S>>);
    static_assert(diagnostic::check<diagnostic::window_does_not_tile_input<op_name, "width", W, F, P, S>>);
    static constexpr std::size_t Ho = detail::window_out(H, F, P, S), Wo = detail::window_out(W, F, P, S);
    static constexpr std::size_t HW = H * W, HWo = Ho * Wo;

    static constexpr auto kind_text = op_name + " " + detail::window_text<F, S, P>();
    static constexpr std::string_view kind = kind_text.view();
    using out_shape = shape<C, Ho, Wo>;
    static constexpr double flops = double(C) * double(HWo) * double(F * F);
    // Max: the index of each output's winner in its input plane (exact in a
    // float up to 2^24 pixels per plane).
    static constexpr std::size_t scratch_size = Kind == pool_kind::max ? C * HWo : 0;
    static_assert(Kind != pool_kind::max || HW <= (std::size_t(1) << 24),
                  "ctnn::max_pool: at most 2^24 pixels per plane");

    // The window of output (oy, ox) clipped to the image: [y0, y1) × [x0, x1).
    static constexpr std::size_t lo(std::size_t o) { return o * S < P ? 0 : o * S - P; }
    static constexpr std::size_t hi(std::size_t o, std::size_t n) { return std::min(n, o * S + F - P); }

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t p = 0; p < B * C; ++p) {
        const T* x = a.in[0] + p * HW;
        T* y = a.out + p * HWo;
        for (std::size_t oy = 0; oy < Ho; ++oy)
          for (std::size_t ox = 0; ox < Wo; ++ox) {
            const std::size_t y0 = lo(oy), y1 = hi(oy, H), x0 = lo(ox), x1 = hi(ox, W);
            if constexpr (Kind == pool_kind::max) {
              std::size_t best = y0 * W + x0;
              for (std::size_t iy = y0; iy < y1; ++iy)
                for (std::size_t ix = x0; ix < x1; ++ix)
                  if (x[iy * W + ix] > x[best]) best = iy * W + ix;
              y[oy * Wo + ox] = x[best];
              a.scratch[p * HWo + oy * Wo + ox] = T(best);
            } else {
              T s = 0;
              for (std::size_t iy = y0; iy < y1; ++iy)
                for (std::size_t ix = x0; ix < x1; ++ix) s += x[iy * W + ix];
              y[oy * Wo + ox] = s * (T(1) / T(F * F));
            }
          }
      }
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (bool(Mode & grad_mode::input(0))) {
        // Windows may overlap (S < F): every input gathers from all of its
        // windows, so the plane is cleared first unless it accumulates.
        if constexpr (!(Mode & grad_mode::input_accumulate(0))) std::fill_n(a.din[0], B * C * HW, T(0));
        for (std::size_t p = 0; p < B * C; ++p) {
          T* dx = a.din[0] + p * HW;
          const T* dy = a.dout + p * HWo;
          if constexpr (Kind == pool_kind::max) {
            const T* win = a.scratch + p * HWo;
            for (std::size_t o = 0; o < HWo; ++o) dx[std::size_t(win[o])] += dy[o];
          } else {
            for (std::size_t oy = 0; oy < Ho; ++oy)
              for (std::size_t ox = 0; ox < Wo; ++ox) {
                const T g = dy[oy * Wo + ox] * (T(1) / T(F * F));
                for (std::size_t iy = lo(oy); iy < hi(oy, H); ++iy)
                  for (std::size_t ix = lo(ox); ix < hi(ox, W); ++ix) dx[iy * W + ix] += g;
              }
          }
        }
      }
    }
  };
};

/// The mean of each channel's plane: [C, H, W] → [C] (the head of ResNet and
/// GoogLeNet; a dense layer can follow it directly).
struct global_avg_pool_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::conv_input_is_not_an_image<"global_avg_pool", In>>);
    static constexpr std::size_t C = detail::dim_or_one<In, 0>, HW = detail::dim_or_one<In, 1> * detail::dim_or_one<In, 2>;
    static constexpr std::string_view kind = "global_avg_pool";
    using out_shape = shape<C>;
    static constexpr double flops = double(C * HW);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t p = 0; p < B * C; ++p) a.out[p] = kernels::sum<HW>(a.in[0] + p * HW) * (T(1) / T(HW));
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (bool(Mode & grad_mode::input(0)))
        for (std::size_t p = 0; p < B * C; ++p) {
          const T g = a.dout[p] * (T(1) / T(HW));
          T* dx = a.din[0] + p * HW;
          if constexpr (bool(Mode & grad_mode::input_accumulate(0))) kernels::map<HW>(dx, [g](auto v) { return v + g; }, dx);
          else std::fill_n(dx, HW, g);
        }
    }
  };
};

namespace detail {
template <pool_kind Kind, std::size_t F, class... Options>
struct pool_fn {
  static_assert((diagnostic::check_unless<
                     option_of<stride, Options>::count + option_of<padding, Options>::count == 1,
                     diagnostic::conv_option_not_recognized<Kind == pool_kind::max ? fixed_string("max_pool")
                                                                                    : fixed_string("avg_pool"),
                                                            Options>> &&
                 ...));
  using S = window_option<stride, F, Options...>;
  using P = window_option<padding, 0, Options...>;
  static_assert(F > 0 && S::count <= 1 && P::count <= 1,
                "CTNN_CONV_OPTION: pooling takes a positive window and stride<S> and padding<P> at most once each");
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    return make_node<pool_op<Kind, F, S::value, P::value>>(x);
  }
};
struct global_avg_pool_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<global_avg_pool_op>(x); }
};
}  // namespace detail

/// `max_pool<2>(x)`: 2×2 windows, stride 2 (the stride defaults to the
/// window); `max_pool<3, stride<2>, padding<1>>(x)`.
template <std::size_t F, class... Options>
inline constexpr detail::pool_fn<pool_kind::max, F, Options...> max_pool{};
/// `avg_pool<2>(x)`, options as for max_pool.
template <std::size_t F, class... Options>
inline constexpr detail::pool_fn<pool_kind::average, F, Options...> avg_pool{};
/// `global_avg_pool(x)`: [C, H, W] → [C].
inline constexpr detail::global_avg_pool_fn global_avg_pool{};

}  // namespace ctnn
