/// @file conv2d_transpose.hpp
/// Transposed convolution ("deconvolution", seed 003's upsampling layer):
/// the data gradient of a convolution used as a forward pass. Each input
/// pixel scatters a filter-sized patch, scaled by its value, into the output,
/// S pixels apart. Per sample and group it is one GEMM
/// col[C_out/G·F·F, H·W] = W_gᵀ · x_g followed by col2im into the output;
/// its data gradient is im2col of the output gradient times W_g, i.e. the
/// forward pass of the convolution it transposes.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/im2col.hpp"
#include "ctnn/kernels/parallel_samples.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/ops/affine_params.hpp"
#include "ctnn/ops/conv2d.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"
#include "ctnn/ops/window.hpp"

namespace ctnn {

/// `output_padding<A>`: A more rows and columns at the bottom and right of a
/// transposed convolution's output. A strided convolution maps S input sizes
/// to one output size; A picks which of them the transpose produces.
template <std::size_t A>
struct output_padding {};

namespace detail {
/// (H − 1)·S − 2P + Fe + A, or 1 when that is not positive (diagnosed).
constexpr std::size_t transposed_out(std::size_t h, std::size_t fe, std::size_t p, std::size_t s, std::size_t a) {
  const std::size_t span = (h - 1) * s + fe + a;
  return span > 2 * p ? span - 2 * p : 1;
}
}  // namespace detail

/// Parameters "<name>.weight" [C_in, C_out/G, F, F] (PyTorch's layout: the
/// weight of the convolution from C_out to C_in channels that this layer
/// transposes) and, unless no_bias, "<name>.bias" [C_out].
template <fixed_string Name, std::size_t Out, std::size_t F, std::size_t S, std::size_t P, std::size_t D,
          std::size_t G, std::size_t A, bool HasBias = true, class Act = act::identity,
          class WeightInit = init::he_normal, class BiasInit = init::zeros>
struct conv2d_transpose_op {
  static_assert(Out > 0 && F > 0,
                "ctnn::conv2d_transpose: needs at least one output channel and a filter of size 1 or more");
  static_assert(WeightInit::value.kind != init_kind::sparse && BiasInit::value.kind != init_kind::sparse,
                "CTNN_CONV_OPTION: init::sparse is for dense layers");
  static constexpr auto name = Name;
  static constexpr auto weight_name = Name + ".weight";
  static constexpr auto bias_name = Name + ".bias";
  using activation = Act;
  using weight_init = WeightInit;
  using bias_init = BiasInit;
  static constexpr bool has_bias = HasBias;
  static constexpr std::size_t filter = F, stride_v = S, padding_v = P, dilation_v = D, groups_v = G,
                               output_padding_v = A;
  /// `relu(conv2d_transpose<...>(x))`: the same layer applying A after its
  /// bias (ops/activation.hpp); only while no activation is fused.
  template <class Act2>
  using with_activation =
      std::enable_if_t<act::is_identity_v<Act> && !std::is_void_v<Act2>,
                       conv2d_transpose_op<Name, Out, F, S, P, D, G, A, HasBias, Act2, WeightInit, BiasInit>>;

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::conv_input_is_not_an_image<Name, In>>);
    static constexpr std::size_t C = detail::dim_or_one<In, 0>, H = detail::dim_or_one<In, 1>,
                                 W = detail::dim_or_one<In, 2>;
    static_assert(diagnostic::check<diagnostic::conv_groups_do_not_divide_channels<Name, C, Out, G>>);
    static_assert(diagnostic::check<diagnostic::conv_transpose_output_padding_too_large<Name, A, S, D>>);
    static constexpr std::size_t Fe = D * (F - 1) + 1;  // the dilated extent
    // One error per mistake: the width is checked only if the height is right.
    static constexpr bool height_positive = (H - 1) * S + Fe + A > 2 * P;
    static_assert(diagnostic::check<diagnostic::conv_transpose_output_not_positive<Name, "height", H, Fe, S, P, A>>);
    static_assert(diagnostic::check_unless<
                  !height_positive, diagnostic::conv_transpose_output_not_positive<Name, "width", W, Fe, S, P, A>>);
    static constexpr std::size_t Ho = detail::transposed_out(H, Fe, P, S, A),
                                 Wo = detail::transposed_out(W, Fe, P, S, A);
    static constexpr std::size_t Gs = G > 0 && C % G == 0 && Out % G == 0 ? G : 1;
    static constexpr std::size_t Cg = C / Gs, Og = Out / Gs;  // channels per group
    static constexpr std::size_t K = Og * F * F;              // rows of the column matrix
    static constexpr std::size_t HW = H * W, HWo = Ho * Wo;
    // A 1×1 filter with stride 1, no padding and no output padding: the
    // column matrix is the output itself (no col2im, no im2col in backward).
    static constexpr bool direct = F == 1 && S == 1 && P == 0 && A == 0;

    static constexpr auto kind_text = [] {
      const auto w = fixed_string("conv2d_transpose ") + detail::window_text<F, S, P, D, G>();
      const auto k = [&] {
        if constexpr (A > 0) return w + " a" + detail::number_text<A>();
        else return w;
      }();
      if constexpr (act::is_identity_v<Act>) return k;
      else return k + "+" + Act::tag;
    }();
    static constexpr std::string_view kind = kind_text.view();
    using out_shape = shape<Out, Ho, Wo>;
    // Fans as PyTorch computes them for this weight: fan-in from dim 1
    // (C_out/G·F·F), fan-out from dim 0 (C_in·F·F). Seen from the
    // convolution this layer transposes, they are its fan-out and fan-in.
    static constexpr std::array<param_decl, HasBias ? 2 : 1> params = detail::weight_and_bias<HasBias>(
        {weight_name.view(), info_of<shape<C, Og, F, F>>(), WeightInit::value, K, C * F * F}, bias_name.view(), Out,
        BiasInit::value, K, C * F * F);
    static constexpr double multiply_adds = double(Cg) * double(HW) * double(Out * F * F);  // per sample
    static constexpr double flops = 2.0 * multiply_adds;
    // Samples run side by side (kernels/parallel_samples.hpp, as conv2d), so
    // each has its own column matrix: in forward the scratch, in backward the
    // temp after the pre-activation gradient, where the column matrices of
    // the output gradient stay from the data gradient to the weight gradient.
    static constexpr std::size_t scratch_size = direct ? 0 : K * HW;
    static constexpr std::size_t act_temp = act::is_identity_v<Act> ? 0 : Out * HWo;
    static constexpr std::size_t temp_size = act_temp + (direct ? 0 : K * HW);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::for_each_sample<B>(multiply_adds, [&](std::size_t b) {
        const T* x = a.in[0] + b * C * HW;
        T* y = a.out + b * Out * HWo;
        for (std::size_t g = 0; g < Gs; ++g) {
          const T* wg = a.param[0] + g * Cg * K;
          if constexpr (direct) {
            kernels::gemm_tn<K, HW, Cg>(wg, x + g * Cg * HW, y + g * Og * HWo);
          } else {
            T* col = a.scratch + b * K * HW;
            kernels::gemm_tn<K, HW, Cg>(wg, x + g * Cg * HW, col);
            kernels::col2im<false, Og, Ho, Wo, F, S, P, D, H, W>(col, y + g * Og * HWo);
          }
        }
        if constexpr (HasBias || !act::is_identity_v<Act>)
          for (std::size_t c = 0; c < Out; ++c) {
            const T bc = HasBias ? a.param[1][c] : T(0);
            T* yc = y + c * HWo;
            kernels::map<HWo>(yc, [bc](auto v) { return Act::apply(v + bc); }, yc);
          }
      });
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      const T* gy = a.dout;
      if constexpr (!act::is_identity_v<Act>) {
        kernels::map<B * Out * HWo>(a.temp, [](auto d, auto y) { return d * Act::derivative(y); }, a.dout, a.out);
        gy = a.temp;
      }
      constexpr bool dw = grad_mode::wants_param(Mode, 0), dw_acc = grad_mode::adds_to_param(Mode, 0);
      constexpr bool dx = grad_mode::wants_input(Mode, 0), dx_acc = grad_mode::adds_to_input(Mode, 0);
      if constexpr (HasBias && grad_mode::wants_param(Mode, 1))
        for (std::size_t c = 0; c < Out; ++c) {
          T s = 0;
          for (std::size_t b = 0; b < B; ++b) s += kernels::sum<HWo>(gy + b * Out * HWo + c * HWo);
          a.dparam[1][c] = grad_mode::adds_to_param(Mode, 1) ? a.dparam[1][c] + s : s;
        }
      // The output gradient of sample b and group g as a column matrix
      // [K, H·W] (the convolution's im2col, on the output's geometry); with
      // G > 1 the groups of a sample take turns in its area, so the weight
      // gradient, which needs them all, then rebuilds its own.
      T* const col_area = a.temp + B * act_temp;  // K·H·W per sample
      const auto column = [&](std::size_t b, std::size_t g) -> const T* {
        const T* gyg = gy + b * Out * HWo + g * Og * HWo;
        if constexpr (direct) {
          return gyg;
        } else {
          T* c = col_area + b * K * HW;
          kernels::im2col<Og, Ho, Wo, F, S, P, D, H, W>(gyg, c);
          return c;
        }
      };
      if constexpr (dx)  // dx_g = W_g · col, samples side by side
        kernels::for_each_sample<B>(multiply_adds, [&](std::size_t b) {
          for (std::size_t g = 0; g < Gs; ++g)
            kernels::gemm_nn<Cg, HW, K, dx_acc>(a.param[0] + g * Cg * K, column(b, g),
                                                a.din[0] + b * C * HW + g * Cg * HW);
        });
      // dW_g = Σ_b x_g · colᵀ: a sum over the batch, in sample order on one
      // thread (the GEMM's own threads), so the bits do not depend on the team.
      if constexpr (dw) {
        constexpr bool reuse = dx && Gs == 1;  // the columns are still there
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t g = 0; g < Gs; ++g) {
            const T* col = reuse && !direct ? col_area + b * K * HW : column(b, g);
            const T* xg = a.in[0] + b * C * HW + g * Cg * HW;
            T* dwg = a.dparam[0] + g * Cg * K;
            if (b == 0 && !dw_acc) kernels::gemm_nt<Cg, K, HW, false>(xg, col, dwg);
            else kernels::gemm_nt<Cg, K, HW, true>(xg, col, dwg);
          }
      }
    }
  };
};

namespace detail {
// conv2d's options but the rounding ones (the output size is always whole), and output_padding.
template <class O>
inline constexpr bool is_conv_transpose_option_v =
    is_window_option_v<O> || is_dense_option_v<O> || option_of<output_padding, O>::count > 0;
}

template <fixed_string Name, std::size_t Out, std::size_t F, class... Options>
struct conv2d_transpose_fn {
  static_assert((diagnostic::check_unless<detail::is_conv_transpose_option_v<Options>,
                                          diagnostic::conv_transpose_option_not_recognized<Name, Options>> && ...));
  using parameters = detail::parameter_options<Name, Options...>;
  using S = detail::window_option<stride, 1, Options...>;
  using P = detail::window_option<padding, 0, Options...>;
  using D = detail::window_option<dilation, 1, Options...>;
  using G = detail::window_option<groups, 1, Options...>;
  using A = detail::window_option<output_padding, 0, Options...>;
  static_assert(S::count <= 1 && P::count <= 1 && D::count <= 1 && G::count <= 1 && A::count <= 1,
                "CTNN_CONV_OPTION: each of stride, padding, dilation, groups and output_padding at most once");
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    return make_node<conv2d_transpose_op<Name, Out, F, S::value, P::value, D::value, G::value, A::value,
                                         parameters::has_bias, act::identity, typename parameters::weight_init,
                                         typename parameters::bias_init>>(x);
  }
};

/// `conv2d_transpose<"up", 16, 4, stride<2>, padding<1>>(x)`: 16 output
/// channels, 4×4 filters; options as for conv2d plus `output_padding<A>`.
/// The input is [C, H, W]; the output [16, Ho, Wo] with
/// Ho = (H − 1)·S − 2P + D·(F − 1) + 1 + A (here 2H).
template <fixed_string Name, std::size_t Out, std::size_t F, class... Options>
inline constexpr conv2d_transpose_fn<Name, Out, F, Options...> conv2d_transpose{};

}  // namespace ctnn
