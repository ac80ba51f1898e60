/// @file conv2d.hpp
/// 2-D convolution y = act(W ∗ x + b) over per-sample images [C, H, W]
/// (channels-major, as in the seeds and Caffe), with stride, zero padding,
/// dilation and groups. Each sample and group is one GEMM
/// W_g[C_out/G, C_in/G·F·F] · col[C_in/G·F·F, Ho·Wo] on the im2col copy of
/// its input; a 1×1 convolution with stride 1 and no padding multiplies the
/// input itself.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/convolution.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/parallel_samples.hpp"
#include "ctnn/kernels/winograd.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/ops/affine_params.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"
#include "ctnn/ops/window.hpp"

namespace ctnn {

/// Parameters "<name>.weight" [C_out, C_in/G, F, F] and, unless no_bias,
/// "<name>.bias" [C_out]. `Act` is fused by `relu(conv2d<...>(x))`.
template <fixed_string Name, std::size_t Out, std::size_t F, std::size_t S, std::size_t P, std::size_t D,
          std::size_t G, bool HasBias = true, class Act = act::identity, class WeightInit = init::he_normal,
          class BiasInit = init::zeros, window_rounding R = window_rounding::exact>
struct conv2d_op {
  static_assert(Out > 0 && F > 0, "ctnn::conv2d: needs at least one output channel and a filter of size 1 or more");
  static_assert(WeightInit::value.kind != init_kind::sparse && BiasInit::value.kind != init_kind::sparse,
                "CTNN_CONV_OPTION: init::sparse is for dense layers");
  static constexpr auto name = Name;
  static constexpr auto weight_name = Name + ".weight";
  static constexpr auto bias_name = Name + ".bias";
  using activation = Act;
  using weight_init = WeightInit;
  using bias_init = BiasInit;
  static constexpr bool has_bias = HasBias;
  static constexpr std::size_t filter = F, stride_v = S, padding_v = P, dilation_v = D, groups_v = G;
  static constexpr window_rounding rounding = R;
  /// `relu(conv2d<...>(x))`: the same layer applying A in its per-channel
  /// bias pass (ops/activation.hpp); only while no activation is fused.
  template <class A>
  using with_activation = std::enable_if_t<act::is_identity_v<Act> && !std::is_void_v<A>,
                                           conv2d_op<Name, Out, F, S, P, D, G, HasBias, A, WeightInit, BiasInit, R>>;

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::conv_input_is_not_an_image<Name, In>>);
    static constexpr std::size_t C = detail::dim_or_one<In, 0>, H = detail::dim_or_one<In, 1>,
                                 W = detail::dim_or_one<In, 2>;
    static_assert(diagnostic::check<diagnostic::conv_groups_do_not_divide_channels<Name, C, Out, G>>);
    static constexpr std::size_t Fe = D * (F - 1) + 1;  // the dilated extent
    // One error per mistake: no geometry for a non-image, no width after a bad height.
    static constexpr bool image = In::rank == 3, height_fits = detail::window_fits(H, Fe, P, S, R);
    static_assert(diagnostic::check_unless<!image || height_fits,
                                           diagnostic::window_does_not_tile_input<Name, "height", H, Fe, P, S>>);
    static_assert(diagnostic::check_unless<!image || !height_fits || detail::window_fits(W, Fe, P, S, R),
                                           diagnostic::window_does_not_tile_input<Name, "width", W, Fe, P, S>>);
    static constexpr std::size_t Ho = detail::window_out(H, Fe, P, S, R), Wo = detail::window_out(W, Fe, P, S, R);
    static constexpr std::size_t Gs = G > 0 && C % G == 0 && Out % G == 0 ? G : 1;
    static constexpr std::size_t Cg = C / Gs, Og = Out / Gs;  // channels per group
    static constexpr std::size_t K = Cg * F * F;              // the GEMM's inner size
    static constexpr std::size_t HW = H * W, HWo = Ho * Wo;
    static constexpr bool direct = F == 1 && S == 1 && P == 0;  // the input is its own im2col matrix
    // The same sizes as the im2col algorithm's (kernels/convolution.hpp), all static.
    static constexpr auto geometry = kernels::conv::make_geometry(
        kernels::fixed<C>{}, kernels::fixed<H>{}, kernels::fixed<W>{}, kernels::fixed<Out>{}, kernels::fixed<F>{},
        kernels::fixed<S>{}, kernels::fixed<P>{}, kernels::fixed<D>{}, kernels::fixed<Gs>{}, kernels::fixed<Ho>{},
        kernels::fixed<Wo>{});

    static constexpr auto kind_text = [] {
      const auto k = fixed_string("conv2d ") + detail::window_text<F, S, P, D, G, R>();
      if constexpr (act::is_identity_v<Act>) return k;
      else return k + "+" + Act::tag;
    }();
    static constexpr std::string_view kind = kind_text.view();
    using out_shape = shape<Out, Ho, Wo>;
    static constexpr std::array<param_decl, HasBias ? 2 : 1> params = detail::weight_and_bias<HasBias>(
        {weight_name.view(), info_of<shape<Out, Cg, F, F>>(), WeightInit::value, K, Og * F * F}, bias_name.view(), Out,
        BiasInit::value, K, Og * F * F);
    static constexpr double flops = 2.0 * double(Out) * double(HWo) * double(K);
    // Winograd F(2×2, 5×5) or im2col and GEMM (kernels/convolution.hpp
    // states when): the choice is the type's and the batch's.
    template <std::size_t B>
    static constexpr bool winograd = kernels::conv::uses_winograd(geometry, kernels::fixed<B>{});
    static constexpr std::size_t scratch_size = kernels::conv::scratch_per_sample(geometry);
    // Backward: the pre-activation gradient, then room for im2col's
    // gradients or Winograd's.
    static constexpr std::size_t act_temp = act::is_identity_v<Act> ? 0 : Out * HWo;
    static constexpr std::size_t temp_size = act_temp + kernels::conv::room_per_sample(geometry);

    template <std::size_t B, class T>
    static void winograd_forward(const forward_args<T>& a) {
      kernels::conv::winograd_forward(geometry, kernels::fixed<B>{}, a.in[0], a.param[0], a.scratch, a.out,
                                      [&](T* y) { bias_and_activation(a, y); });
    }

    template <class T>
    static void bias_and_activation(const forward_args<T>& a, T* y) {
      // Bias and activation in one pass over each channel's plane, while
      // it is still in cache (the GEMM's epilogue is per column, and here
      // the bias is per row).
      if constexpr (HasBias || !act::is_identity_v<Act>)
        for (std::size_t c = 0; c < Out; ++c) {
          const T bc = HasBias ? a.param[1][c] : T(0);
          T* yc = y + c * HWo;
          kernels::map<HWo>(yc, [bc](auto v) { return Act::apply(v + bc); }, yc);
        }
    }

    static constexpr double multiply_adds = double(Out) * double(HWo) * double(K);  // per sample

    // Samples are independent in forward and in the data gradient: threads
    // split the batch (kernels/parallel_samples.hpp), and each sample runs
    // its products on one thread.
    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      // One path is instantiated per batch size, not both.
      if constexpr (winograd<B>) winograd_forward<B>(a);
      else im2col_forward<B>(a);
    }

    template <std::size_t B, class T>
    static void im2col_forward(const forward_args<T>& a) {
      kernels::conv::forward(geometry, kernels::fixed<B>{}, a.in[0], a.param[0], a.scratch, a.out,
                             [&](T* y) { bias_and_activation(a, y); });
    }

    template <std::size_t B, unsigned Mode, class T>
    static void bias_gradient(const backward_args<T>& a, const T* gy) {
      if constexpr (HasBias && grad_mode::wants_param(Mode, 1))
        kernels::conv::bias_gradient<grad_mode::adds_to_param(Mode, 1)>(geometry, kernels::fixed<B>{}, gy,
                                                                       a.dparam[1]);
    }

    template <std::size_t B, unsigned Mode, class T>
    static void winograd_backward(const backward_args<T>& a, const T* gy, T* room) {
      kernels::conv::winograd_backward(geometry, kernels::fixed<B>{}, a.in[0], static_cast<const T*>(a.scratch), gy,
                                       a.dparam[0], a.din[0], room,
                                       std::bool_constant<grad_mode::wants_param(Mode, 0)>{},
                                       std::bool_constant<grad_mode::adds_to_param(Mode, 0)>{},
                                       std::bool_constant<grad_mode::wants_input(Mode, 0)>{},
                                       std::bool_constant<grad_mode::adds_to_input(Mode, 0)>{});
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      const T* gy = a.dout;
      if constexpr (!act::is_identity_v<Act>) {
        kernels::map<B * Out * HWo>(a.temp, [](auto d, auto y) { return d * Act::derivative(y); }, a.dout, a.out);
        gy = a.temp;
      }
      T* const room = a.temp + B * act_temp;  // the rest of the temp: B·(temp_size − act_temp) values
      if constexpr (winograd<B>) winograd_backward<B, Mode>(a, gy, room);
      else im2col_backward<B, Mode>(a, gy, room);
      bias_gradient<B, Mode>(a, gy);
    }

    // The weight and data gradients through im2row and col2im
    // (kernels/convolution.hpp). `room` holds K·HWo values per sample.
    template <std::size_t B, unsigned Mode, class T>
    static void im2col_backward(const backward_args<T>& a, const T* gy, T* room) {
      if constexpr (grad_mode::wants_param(Mode, 0))
        kernels::conv::weight_gradient<grad_mode::adds_to_param(Mode, 0)>(geometry, kernels::fixed<B>{}, a.in[0], gy,
                                                                         a.dparam[0], room);
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::conv::data_gradient<grad_mode::adds_to_input(Mode, 0)>(geometry, kernels::fixed<B>{}, a.param[0], gy,
                                                                       a.din[0], room);
    }
  };
};

namespace detail {
template <class O>
inline constexpr bool is_conv_option_v =
    is_window_option_v<O> || is_dense_option_v<O> || std::is_same_v<O, floor_mode>;
}

template <fixed_string Name, std::size_t Out, std::size_t F, class... Options>
struct conv2d_fn {
  static_assert((diagnostic::check_unless<detail::is_conv_option_v<Options>,
                                          diagnostic::conv_option_not_recognized<Name, Options>> && ...));
  using parameters = detail::parameter_options<Name, Options...>;
  static constexpr bool has_bias = parameters::has_bias;
  using S = detail::window_option<stride, 1, Options...>;
  using P = detail::window_option<padding, 0, Options...>;
  using D = detail::window_option<dilation, 1, Options...>;
  using G = detail::window_option<groups, 1, Options...>;
  static_assert(S::count <= 1 && P::count <= 1 && D::count <= 1 && G::count <= 1 &&
                    detail::rounding_option<Options...>::count <= 1,
                "CTNN_CONV_OPTION: each of stride, padding, dilation, groups and floor_mode at most once");
  using weight_init = typename parameters::weight_init;
  using bias_init = typename parameters::bias_init;
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    return make_node<conv2d_op<Name, Out, F, S::value, P::value, D::value, G::value, has_bias, act::identity,
                               weight_init, bias_init, detail::rounding_option<Options...>::value>>(x);
  }
};

/// `conv2d<"conv1", 20, 5>(x)`: 20 output channels, 5×5 filters; options
/// after the filter size, in any order: `stride<S>`, `padding<P>`,
/// `dilation<D>`, `groups<G>`, `floor_mode`, `no_bias`, an `init::` scheme,
/// `bias_init<...>`. The input is [C, H, W]; the output [20, Ho, Wo] with
/// Ho = (H − F' + 2P)/S + 1, F' = D·(F − 1) + 1, which must be whole.
template <fixed_string Name, std::size_t Out, std::size_t F, class... Options>
inline constexpr conv2d_fn<Name, Out, F, Options...> conv2d{};

}  // namespace ctnn
