/// @file dense.hpp
/// The fully connected layer y = act(x·W + b), W of shape [in, out]. On a
/// sequence [T, in] it acts on each step: [T, out], as PyTorch's nn.Linear
/// on the last axis (one product over the batch's B·T rows).
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/finite.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/ops/affine_params.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
// bias + activation applied as the GEMM stores each output element.
template <class T, class Act, bool HasBias>
struct bias_act_epilogue {
  const T* bias;
  template <class V>
  V operator()(V x, std::size_t col) const {
    if constexpr (HasBias) {
      if constexpr (std::is_floating_point_v<V>) x += bias[col];
      else x += V::load_unaligned(bias + col);
    }
    return Act::apply(x);
  }
};
}  // namespace detail

/// Parameters "<name>.weight" [in, out] and, unless no_bias, "<name>.bias"
/// [out]. Two dense layers with the same name share both (tied weights).
/// `Act` is the activation fused into this layer by `relu(dense<...>(x))`;
/// `WeightInit` and `BiasInit` are `init::` schemes (He-normal and zeros).
template <fixed_string Name, std::size_t Out, bool HasBias = true, class Act = act::identity,
          class WeightInit = init::he_normal, class BiasInit = init::zeros>
struct dense_op {
  static_assert(Out > 0, "ctnn::dense: a dense layer needs at least one output");
  static constexpr auto name = Name;
  static constexpr auto weight_name = Name + ".weight";
  static constexpr auto bias_name = Name + ".bias";
  using activation = Act;
  using weight_init = WeightInit;
  using bias_init = BiasInit;
  static constexpr bool has_bias = HasBias;
  /// `relu(dense<...>(x))`: the same layer applying A in its GEMM's epilogue
  /// (ops/activation.hpp); only while no activation is fused.
  template <class A>
  using with_activation =
      std::enable_if_t<act::is_identity_v<Act> && !std::is_void_v<A>, dense_op<Name, Out, HasBias, A, WeightInit, BiasInit>>;

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::dense_input_is_not_flat<Name, In>>);
    static_assert(init_fits<weight_name, WeightInit, In::size>);
    static_assert(!HasBias || init_fits<bias_name, BiasInit, 1>);
    static constexpr auto kind_text = [] {
      if constexpr (act::is_identity_v<Act>) return fixed_string("dense");
      else return fixed_string("dense+") + Act::tag;
    }();
    static constexpr std::string_view kind = kind_text.view();
    static constexpr std::size_t rows = In::rank == 2 ? In::dims[0] : 1;  // a sequence's steps
    static constexpr std::size_t in_size = In::size / rows;
    using out_shape = std::conditional_t<In::rank == 2, shape<rows, Out>, shape<Out>>;
    static constexpr std::array<param_decl, HasBias ? 2 : 1> params = detail::weight_and_bias<HasBias>(
        {weight_name.view(), info_of<shape<in_size, Out>>(), WeightInit::value, in_size, Out}, bias_name.view(), Out,
        BiasInit::value, in_size, Out);
    static constexpr double flops = 2.0 * rows * in_size * Out;
    static constexpr std::size_t temp_size = act::is_identity_v<Act> ? 0 : rows * Out;
    static constexpr std::size_t team_temp_size = temp_size;
    // A deep product over many rows sums its depth as two fixed halves
    // (kernels::gemm_nn_depth_halves), the second into this scratch: on two
    // threads each then reads only its half of the weight's rows.
    static constexpr bool may_halve_depth =
        in_size >= kernels::depth_halves_min_k && in_size * Out >= kernels::depth_halves_min_weight;
    static constexpr std::size_t scratch_size = may_halve_depth ? rows * Out : 0;
    template <std::size_t B>
    static constexpr bool halves_depth = may_halve_depth && B * rows > kernels::detail::gemm::stream_rows_max &&
                                         double(B * rows) * double(Out) * double(in_size) >= kernels::depth_halves_min_work;

    // Row by row (a batch of at most three), its loops are serial. Otherwise,
    // when its products are large enough to split, each takes its part of a
    // step's team and the rest runs on one thread of it.
    template <std::size_t B>
    static constexpr bool by_rows = (rows > 1 && B <= kernels::detail::gemm::stream_rows_max) || B * rows == 1;
    template <std::size_t B>
    static constexpr bool over_rows = !by_rows<B> && B * rows > kernels::detail::gemm::stream_rows_max;
    // A product too small to split by itself (kernels::splits_on_team)
    // joins a step's team all the same: each thread takes its samples' rows
    // of the forward and of the input gradient, and its blocks of the weight
    // gradient's rows. The MLP's fc3 (64 × 128 × 10) ran on one thread while
    // the other waited.
    template <std::size_t B>
    static constexpr bool joins_team = over_rows<B> && !kernels::splits_on_team(double(B * rows) * in_size * Out);
    template <std::size_t B>
    static constexpr team_use team_use_at = !over_rows<B>  ? team_use::serial
                                            : joins_team<B> ? team_use::joins
                                                            : team_use::shares;

    // Sequences of a batch of at most three take one row at a time: the
    // calls ctnn::streaming makes for one step, so both give the same bits.
    // A row into one output is a dot product (its weight column is
    // contiguous), called directly: the product's dispatch would cost a
    // streamed step 2 to 3 ns of its 50 to 80.
    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      const detail::bias_act_epilogue<T, Act, HasBias> ep{a.param[1]};
      if constexpr (by_rows<B> && Out == 1)
        for (std::size_t r = 0; r < B * rows; ++r)
          a.out[r] = ep(kernels::detail::gemm::dot(in_size, a.in[0] + r * in_size, a.param[0]), 0);
      else if constexpr (by_rows<B>)
        for (std::size_t r = 0; r < B * rows; ++r)
          kernels::gemm_nn<1, Out, in_size>(a.in[0] + r * in_size, a.param[0], a.out + r * Out, ep);
      else if constexpr (joins_team<B>)
        kernels::on_samples(B, kernels::sample_block<T>, [&](std::size_t b0, std::size_t b1) {
          kernels::gemm_nn_rows<B * rows, Out, in_size>(b0 * rows, b1 * rows, a.in[0], a.param[0], a.out, ep);
        });
      else if constexpr (halves_depth<B>)
        kernels::gemm_nn_depth_halves<B * rows, Out, in_size>(a.in[0], a.param[0], a.out, a.scratch, ep);
      else
        kernels::gemm_nn<B * rows, Out, in_size>(a.in[0], a.param[0], a.out, ep);
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      // The activation's derivative, taken from the stored output, turns the
      // output gradient into the pre-activation gradient in one pass.
      const T* g = a.dout;
      // The bias gradient: the column sums of the pre-activation gradient.
      const auto bias_gradient = [&](const T* pre, std::size_t c0, std::size_t c1) {
        if constexpr (HasBias && grad_mode::wants_param(Mode, 1))
          kernels::column_sums<grad_mode::adds_to_param(Mode, 1)>(kernels::fixed<B * rows>{}, kernels::fixed<Out>{},
                                                                  pre, a.dparam[1], c0, c1);
      };
      if constexpr (joins_team<B>) {
        backward_on_samples<B, Mode>(a, bias_gradient);
        return;
      }
      if constexpr (!act::is_identity_v<Act>) {
        const auto derivative = [](auto d, auto y) { return d * Act::derivative(y); };
        kernels::step_team* const team = kernels::active_team();
        if (T* const own = team ? a.team_temp_of(team->id(), team->size()) : nullptr) {
          // Each thread of a step's team takes the whole derivative into
          // its own copy, where both products read it (the bias: its
          // columns of the forward). Nothing it reads was written by them,
          // so they need not wait for the team. The MLP's 2-thread step:
          // 254.4 -> 239.5 and 256.5 -> 242.3 µs against one shared copy,
          // each thread writing its columns and reading the other's.
          team->split([&](std::size_t t, std::size_t nt) {
            kernels::map<B * rows * Out>(own, derivative, a.dout, a.out);
            const auto [c0, c1] = kernels::product_columns<T>(Out, t, nt);
            if (c0 < c1) bias_gradient(own, c0, c1);
          });
          team->unordered_after_split();
          g = own;
        } else {
          // Otherwise each thread takes the columns whose outputs it wrote
          // in the forward, and sums them for the bias while they are in its cache.
          kernels::on_product_columns<T>(Out, [&](std::size_t c0, std::size_t c1) {
            if (c0 == 0 && c1 == Out) {
              kernels::map<B * rows * Out>(a.temp, derivative, a.dout, a.out);
            } else {
              for (std::size_t r = 0; r < B * rows; ++r)
                kernels::map(c1 - c0, a.temp + r * Out + c0, derivative, a.dout + r * Out + c0, a.out + r * Out + c0);
            }
            bias_gradient(a.temp, c0, c1);
          });
          g = a.temp;
        }
      } else if constexpr (HasBias && grad_mode::wants_param(Mode, 1)) {
        kernels::on_product_columns<T>(Out, [&](std::size_t c0, std::size_t c1) { bias_gradient(g, c0, c1); });
      }
      if constexpr (grad_mode::wants_param(Mode, 0))
        kernels::gemm_tn<in_size, Out, B * rows, grad_mode::adds_to_param(Mode, 0)>(a.in[0], g, a.dparam[0],
                                                                                    weight_gradient_watch<Mode, T>());
      if constexpr (grad_mode::wants_input(Mode, 0)) {
        // The input gradient reads g and the weight, which the weight's
        // gradient only read, and writes a slot it never touches: the team
        // need not meet between the two products.
        if constexpr (grad_mode::wants_param(Mode, 0)) kernels::unordered_after_split();
        kernels::gemm_nt<B * rows, in_size, Out, grad_mode::adds_to_input(Mode, 0)>(g, a.param[0], a.din[0]);
      }
    }

    // The weight's gradient, written whole (not added to a tied layer's),
    // is watched for values that are not finite as it is stored.
    static constexpr bool watches_weight_gradient = true;
    template <unsigned Mode, class T>
    static auto weight_gradient_watch() {
      if constexpr (grad_mode::adds_to_param(Mode, 0)) return kernels::no_epilogue{};
      else return kernels::finite_watch<T>{};
    }

    // backward of a layer that joins the team: the activation's derivative
    // over each thread's samples, then after one barrier each thread's
    // blocks of the weight gradient's rows, its samples' input gradient,
    // and on thread 0 the bias gradient; on one thread, the same calls in
    // one piece. The derivative is taken row by row on every path.
    template <std::size_t B, unsigned Mode, class T, class BiasGradient>
    static void backward_on_samples(const backward_args<T>& a, const BiasGradient& bias_gradient) {
      constexpr std::size_t M = B * rows, sample_block = kernels::sample_block<T>;
      const T* g = a.dout;
      if constexpr (!act::is_identity_v<Act>) {
        const auto derivative = [](auto d, auto y) { return d * Act::derivative(y); };
        kernels::on_samples(B, sample_block, [&](std::size_t b0, std::size_t b1) {
          for (std::size_t r = b0 * rows; r < b1 * rows; ++r)
            kernels::map(Out, a.temp + r * Out, derivative, a.dout + r * Out, a.out + r * Out);
        });
        g = a.temp;
      }
      const auto gradients = [&](std::size_t t, std::size_t nt) {
        if constexpr (grad_mode::wants_param(Mode, 0)) {
          constexpr std::size_t block = kernels::gradient_row_block<T>;
          const auto [i0, i1] = kernels::sample_share(in_size, block, t, nt);
          if (i0 < i1)
            kernels::gemm_tn_rows<in_size, Out, M, grad_mode::adds_to_param(Mode, 0)>(i0, i1, a.in[0], g, a.dparam[0],
                                                                                      weight_gradient_watch<Mode, T>());
        }
        if constexpr (grad_mode::wants_input(Mode, 0)) {
          const auto [b0, b1] = kernels::sample_share(B, sample_block, t, nt);
          if (b0 < b1)
            kernels::gemm_nt_rows<M, in_size, Out, grad_mode::adds_to_input(Mode, 0)>(b0 * rows, b1 * rows, g, a.param[0],
                                                                                     a.din[0]);
        }
        if (t == 0) bias_gradient(g, 0, Out);
      };
      if (kernels::step_team* team = kernels::active_team()) team->split(gradients);
      else gradients(0, 1);
    }
  };
};

template <fixed_string Name, std::size_t Out, class... Options>
struct dense_fn {
  static_assert((diagnostic::check_unless<detail::is_dense_option_v<Options>,
                                          diagnostic::dense_option_not_recognized<Name, Options>> && ...));
  using parameters = detail::parameter_options<Name, Options...>;
  static constexpr bool has_bias = parameters::has_bias;
  using weight_init = typename parameters::weight_init;
  using bias_init = typename parameters::bias_init;
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    return make_node<dense_op<Name, Out, has_bias, act::identity, weight_init, bias_init>>(x);
  }
};

/// `dense<"fc1", 256>(x)`; options after the width, in any order:
/// `no_bias`, an `init::` scheme for the weight (or `weight_init<...>`),
/// `bias_init<...>`: `dense<"fc1", 256, init::xavier_uniform, bias_init<init::constant<0.1>>>(x)`.
template <fixed_string Name, std::size_t Out, class... Options>
inline constexpr dense_fn<Name, Out, Options...> dense{};

}  // namespace ctnn
