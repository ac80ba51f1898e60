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
#include "ctnn/kernels/parallel_samples.hpp"
#include "ctnn/kernels/pool.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"
#include "ctnn/ops/window.hpp"

namespace ctnn {

enum class pool_kind { max, average };

/// F×F windows moved by S. Max pooling ignores padded positions (as if they
/// were −∞) and keeps each output's winning input index in its scratch for
/// backward (the first maximum wins a tie). Average pooling divides by F·F,
/// padded zeros included (Caffe's and PyTorch's default); a ceil-mode window
/// that overhangs the padded input divides by the part inside it.
template <pool_kind Kind, std::size_t F, std::size_t S, std::size_t P, window_rounding R = window_rounding::exact>
struct pool_op {
  static constexpr auto name = no_name;
  static constexpr auto op_name = Kind == pool_kind::max ? fixed_string("max_pool") : fixed_string("avg_pool");

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::conv_input_is_not_an_image<op_name, In>>);
    static_assert(diagnostic::check<diagnostic::pool_padding_not_below_window<op_name, F, P>>);
    static constexpr std::size_t C = detail::dim_or_one<In, 0>, H = detail::dim_or_one<In, 1>,
                                 W = detail::dim_or_one<In, 2>;
    // One error per mistake: no geometry for a non-image, no width after a bad height.
    static constexpr bool image = In::rank == 3, height_fits = detail::window_fits(H, F, P, S, R);
    static_assert(diagnostic::check_unless<!image || height_fits,
                                           diagnostic::window_does_not_tile_input<op_name, "height", H, F, P, S>>);
    static_assert(diagnostic::check_unless<!image || !height_fits || detail::window_fits(W, F, P, S, R),
                                           diagnostic::window_does_not_tile_input<op_name, "width", W, F, P, S>>);
    static constexpr std::size_t Ho = detail::window_out(H, F, P, S, R), Wo = detail::window_out(W, F, P, S, R);
    static constexpr std::size_t HW = H * W, HWo = Ho * Wo;

    static constexpr auto kind_text = op_name + " " + detail::window_text<F, S, P, 1, 1, R>();
    static constexpr std::string_view kind = kind_text.view();
    using out_shape = shape<C, Ho, Wo>;
    static constexpr double flops = double(C) * double(HWo) * double(F * F);
    // Max: the index of each output's winner in its input plane (exact in a
    // float up to 2^24 pixels per plane).
    static constexpr std::size_t scratch_size = Kind == pool_kind::max ? C * HWo : 0;
    static_assert(Kind != pool_kind::max || HW <= (std::size_t(1) << 24),
                  "ctnn::max_pool: at most 2^24 pixels per plane");

    static constexpr kernels::window_geometry geometry{H, W, F, S, P, Ho, Wo};

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::pool_forward_samples<Kind == pool_kind::max>(kernels::fixed<B>{}, C, geometry, a.in[0], a.out,
                                                            a.scratch);
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::pool_backward_samples<Kind == pool_kind::max>(kernels::fixed<B>{}, C, geometry, a.dout, a.scratch,
                                                               a.din[0], grad_mode::adds_to_input(Mode, 0));
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
      if constexpr (grad_mode::wants_input(Mode, 0))
        for (std::size_t p = 0; p < B * C; ++p) {
          const T g = a.dout[p] * (T(1) / T(HW));
          T* dx = a.din[0] + p * HW;
          if constexpr (grad_mode::adds_to_input(Mode, 0)) kernels::map<HW>(dx, [g](auto v) { return v + g; }, dx);
          else std::fill_n(dx, HW, g);
        }
    }
  };
};

namespace detail {
template <pool_kind Kind, std::size_t F, class... Options>
struct pool_fn {
  static_assert((diagnostic::check_unless<
                     option_of<stride, Options>::count + option_of<padding, Options>::count +
                             std::size_t(is_rounding_option_v<Options>) ==
                         1,
                     diagnostic::conv_option_not_recognized<Kind == pool_kind::max ? fixed_string("max_pool")
                                                                                    : fixed_string("avg_pool"),
                                                            Options>> &&
                 ...));
  using S = window_option<stride, F, Options...>;
  using P = window_option<padding, 0, Options...>;
  static_assert(F > 0 && S::count <= 1 && P::count <= 1 && rounding_option<Options...>::count <= 1,
                "CTNN_CONV_OPTION: pooling takes a positive window, and stride<S>, padding<P> and one of "
                "floor_mode and ceil_mode at most once each");
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    return make_node<pool_op<Kind, F, S::value, P::value, rounding_option<Options...>::value>>(x);
  }
};
struct global_avg_pool_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<global_avg_pool_op>(x); }
};
}  // namespace detail

/// `max_pool<2>(x)`: 2×2 windows, stride 2 (the stride defaults to the
/// window); `max_pool<3, stride<2>, padding<1>>(x)`; `floor_mode` or
/// `ceil_mode` for windows that do not tile the input.
template <std::size_t F, class... Options>
inline constexpr detail::pool_fn<pool_kind::max, F, Options...> max_pool{};
/// `avg_pool<2>(x)`, options as for max_pool.
template <std::size_t F, class... Options>
inline constexpr detail::pool_fn<pool_kind::average, F, Options...> avg_pool{};
/// `global_avg_pool(x)`: [C, H, W] → [C].
inline constexpr detail::global_avg_pool_fn global_avg_pool{};

}  // namespace ctnn
