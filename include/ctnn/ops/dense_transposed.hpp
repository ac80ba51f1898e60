/// @file dense_transposed.hpp
/// A dense layer that uses another layer's weight transposed: y = x·Wᵀ + b
/// with W the [in, out] weight of a dense layer (a tied autoencoder's
/// decoder). The weight is named, not copied: both uses read one tensor, and
/// both add their gradients into it.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/affine_params.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// `WeightName` is the tied parameter ("enc.weight"), declared here with the
/// shape the other layer gives it, [Out, in]: a width that does not match is
/// the planner's CTNN_TIED_SHAPE_MISMATCH. The bias "<Name>.bias" [Out] is
/// this layer's own.
template <fixed_string Name, fixed_string WeightName, std::size_t Out, bool HasBias = true,
          class WeightInit = init::he_normal, class BiasInit = init::zeros>
struct dense_transposed_op {
  static_assert(Out > 0, "ctnn::dense_transposed: a dense layer needs at least one output");
  static constexpr auto name = Name;
  static constexpr auto bias_name = Name + ".bias";

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::dense_input_is_not_flat<Name, In>>);
    static constexpr std::size_t rows = In::rank == 2 ? In::dims[0] : 1;  // a sequence's steps, each multiplied
    static constexpr std::size_t in_size = In::size / rows;
    static_assert(init_fits<WeightName, WeightInit, Out>);
    static constexpr std::string_view kind = "dense_transposed";
    using out_shape = std::conditional_t<In::rank == 2, shape<rows, Out>, shape<Out>>;
    // Fans as the owning layer declares them: its input (our output) is the fan-in.
    static constexpr std::array<param_decl, HasBias ? 2 : 1> params = detail::weight_and_bias<HasBias>(
        {WeightName.view(), info_of<shape<Out, in_size>>(), WeightInit::value, Out, in_size}, bias_name.view(), Out,
        BiasInit::value, in_size, Out);
    static constexpr double flops = 2.0 * rows * in_size * Out;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      // Row by row for a batch of at most three sequences, as ctnn::streaming steps.
      if constexpr (rows > 1 && B <= kernels::detail::gemm::stream_rows_max)
        for (std::size_t r = 0; r < B * rows; ++r)
          kernels::gemm_nt<1, Out, in_size>(a.in[0] + r * in_size, a.param[0], a.out + r * Out);
      else
        kernels::gemm_nt<B * rows, Out, in_size>(a.in[0], a.param[0], a.out);
      if constexpr (HasBias)
        for (std::size_t b = 0; b < B * rows; ++b)
          kernels::map<Out>(a.out + b * Out, [](auto y, auto bias) { return y + bias; }, a.out + b * Out, a.param[1]);
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      // dW [Out, in] = dYᵀ·X, the layout the owner stores: its own gradient lands on the same elements.
      if constexpr (grad_mode::wants_param(Mode, 0))
        kernels::gemm_tn<Out, in_size, B * rows, grad_mode::adds_to_param(Mode, 0)>(a.dout, a.in[0], a.dparam[0]);
      if constexpr (HasBias && grad_mode::wants_param(Mode, 1))
        kernels::column_sums<B * rows, Out, grad_mode::adds_to_param(Mode, 1)>(a.dout, a.dparam[1]);
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::gemm_nn<B * rows, in_size, Out, grad_mode::adds_to_input(Mode, 0)>(a.dout, a.param[0], a.din[0]);
    }
  };
};

template <fixed_string Name, fixed_string WeightName, std::size_t Out, class... Options>
struct dense_transposed_fn {
  static_assert((diagnostic::check_unless<detail::is_dense_option_v<Options>,
                                          diagnostic::dense_option_not_recognized<Name, Options>> && ...));
  using parameters = detail::parameter_options<Name, Options...>;
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    return make_node<dense_transposed_op<Name, WeightName, Out, parameters::has_bias, typename parameters::weight_init,
                                         typename parameters::bias_init>>(x);
  }
};

/// `dense_transposed<"dec", "enc.weight", 784>(h)`: a decoder tied to the
/// encoder `dense<"enc", 64>` of a 784-wide input. Takes dense's options
/// (`no_bias`, `bias_init<...>`, and the weight's `init::` scheme, which must
/// be the owner's: CTNN_TIED_INIT_MISMATCH otherwise).
template <fixed_string Name, fixed_string WeightName, std::size_t Out, class... Options>
inline constexpr dense_transposed_fn<Name, WeightName, Out, Options...> dense_transposed{};

}  // namespace ctnn
