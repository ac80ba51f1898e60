/// @file recurrent.hpp
/// Recurrent layers over a sequence [T, D] of compile-time length: `rnn`
/// (tanh), `lstm` and `gru`, one node each whose kernel loops over the time
/// steps (ctnn/kernels/recurrent.hpp), with PyTorch's weights, gate order and
/// initialization, so a PyTorch state dict loads name by name:
///
///   lstm<"enc", 128>(x)                         → [T, 128], h at every step
///   lstm<"enc", 128, final_state>(x)            → [128], h after the last step
///   gru<"enc", 64, bidirectional>(x)            → [T, 128]: forward | reverse
///   lstm<"enc", 128>(x, h0, c0)                 → from a given initial state
///
/// Parameters (PyTorch's nn.LSTM(D, H) names weight_ih_l0 ... as
/// "<name>.weight_ih" ...): weight_ih [G·H, D], weight_hh [G·H, H],
/// bias_ih [G·H], bias_hh [G·H], with G = 1, 4, 3 gates; a bidirectional
/// layer stacks the two directions' tensors, [2, G·H, D] and so on (ONNX's
/// layout; PyTorch's *_reverse tensors are the second halves). A stack of
/// layers is layers applied in turn, each with its own name.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/recurrent.hpp"
#include "ctnn/ops/affine_params.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// Options of the recurrent layers.
struct bidirectional {};  // a second direction from the last step back; outputs concatenated
struct final_state {};    // output only h after the last step (both directions': PyTorch's h_n)

namespace detail {
template <class Cell>
inline constexpr std::string_view recurrent_kind = std::is_same_v<Cell, kernels::recurrent::lstm_cell>  ? "lstm"
                                                   : std::is_same_v<Cell, kernels::recurrent::gru_cell> ? "gru"
                                                                                                        : "rnn";
template <class Cell>
inline constexpr std::size_t state_inputs = Cell::has_cell_state ? 2 : 1;

template <class O>
inline constexpr bool is_recurrent_option_v =
    std::is_same_v<O, bidirectional> || std::is_same_v<O, final_state> ||
    !std::is_void_v<typename weight_init_of<O>::type> || !std::is_void_v<typename bias_init_of<O>::type>;

template <fixed_string Name, class... Options>
struct recurrent_options {
  template <class O>
  static constexpr std::size_t count = (std::size_t(0) + ... + std::is_same_v<Options, O>);
  static constexpr std::size_t weight_inits = (std::size_t(0) + ... + !std::is_void_v<typename weight_init_of<Options>::type>);
  static constexpr std::size_t bias_inits = (std::size_t(0) + ... + !std::is_void_v<typename bias_init_of<Options>::type>);
  // The first option that is not one, or given twice (void: none).
  template <class... Os>
  struct first_bad {
    using type = void;
  };
  template <class O, class... Os>
  struct first_bad<O, Os...> {
    static constexpr bool bad = !is_recurrent_option_v<O> || (is_recurrent_option_v<O> && count<O> > 1) ||
                                (!std::is_void_v<typename weight_init_of<O>::type> && weight_inits > 1) ||
                                (!std::is_void_v<typename bias_init_of<O>::type> && bias_inits > 1);
    using type = std::conditional_t<bad, O, typename first_bad<Os...>::type>;
  };
  using bad = typename first_bad<Options...>::type;
  static_assert(diagnostic::check_unless<std::is_void_v<bad>, diagnostic::recurrent_option_not_recognized<Name, bad>>);
  static constexpr bool is_bidirectional = count<bidirectional> > 0;
  static constexpr bool final_only = count<final_state> > 0;
  using weight_init = typename first_non_void<init::uniform_fan_in, typename weight_init_of<Options>::type...>::type;
  using bias_init = typename first_non_void<init::uniform_fan_in, typename bias_init_of<Options>::type...>::type;
};

template <std::size_t Dirs, std::size_t... Dims>
using stacked_shape = std::conditional_t<Dirs == 1, shape<Dims...>, shape<Dirs, Dims...>>;
}  // namespace detail

/// One recurrent layer: Cell (kernels::recurrent::tanh_cell, lstm_cell,
/// gru_cell), hidden size H, one or two directions, every step's h or the
/// final one. Inputs: the sequence, then optionally h0 (and c0), each
/// [H] or [2, H].
template <class Cell, fixed_string Name, std::size_t H, bool Bidirectional, bool FinalOnly, class WeightInit,
          class BiasInit>
struct recurrent_op {
  static_assert(H > 0, "ctnn: a recurrent layer needs a hidden size of at least one");
  static constexpr auto name = Name;
  static constexpr auto weight_ih_name = Name + ".weight_ih";
  static constexpr auto weight_hh_name = Name + ".weight_hh";
  static constexpr auto bias_ih_name = Name + ".bias_ih";
  static constexpr auto bias_hh_name = Name + ".bias_hh";
  static constexpr std::size_t directions = Bidirectional ? 2 : 1;
  static constexpr std::size_t G = Cell::gates, GH = G * H;

  template <class In, class... State>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::recurrent_input_is_not_a_sequence<Name, In>>);
    static_assert(diagnostic::check<
                  diagnostic::recurrent_state_count<Name, detail::state_inputs<Cell>, sizeof...(State)>>);
    static_assert((diagnostic::check<diagnostic::recurrent_state_size_differs<Name, H, directions, State>> && ...));
    static constexpr std::string_view kind = detail::recurrent_kind<Cell>;
    static constexpr std::size_t T = In::rank == 2 ? In::dims[0] : 1;
    static constexpr std::size_t D = In::rank == 2 ? In::dims[1] : In::size;
    static constexpr std::size_t width = directions * H;
    using out_shape = std::conditional_t<FinalOnly, shape<width>, shape<T, width>>;
    static constexpr bool has_state = sizeof...(State) > 0;

    // PyTorch draws every parameter from U(±1/√H): fan-in H for all four.
    static constexpr std::array<param_decl, 4> params{
        param_decl{weight_ih_name.view(), info_of<detail::stacked_shape<directions, GH, D>>(), WeightInit::value, H,
                   GH},
        param_decl{weight_hh_name.view(), info_of<detail::stacked_shape<directions, GH, H>>(), WeightInit::value, H,
                   GH},
        param_decl{bias_ih_name.view(), info_of<detail::stacked_shape<directions, GH>>(), BiasInit::value, H, GH,
                   true, false},
        param_decl{bias_hh_name.view(), info_of<detail::stacked_shape<directions, GH>>(), BiasInit::value, H, GH,
                   true, false}};

    using layout = kernels::recurrent::sequence_layout<Cell>;
    static constexpr std::size_t work_per_direction = layout(1, T, H).size;
    static constexpr std::size_t scratch_size = directions * work_per_direction;
    static constexpr std::size_t temp_size = kernels::recurrent::backward_layout<Cell>(1, T, H).size;
    static constexpr double flops = directions * T * (2.0 * GH * (D + H) + 10.0 * H);

    template <std::size_t B, class T_>
    static void forward(const forward_args<T_>& a) {
      using kernels::fixed;
      for_each_direction([&]<bool Reverse>(std::size_t dir) {
        T_* work = a.scratch + dir * B * work_per_direction;
        kernels::recurrent::sequence_forward<Cell, Reverse>(
            fixed<B>{}, fixed<T>{}, fixed<D>{}, fixed<H>{}, a.in[0], a.param[0] + dir * GH * D,
            a.param[1] + dir * GH * H, a.param[2] + dir * GH, a.param[3] + dir * GH,
            has_state ? a.in[1] + dir * H : nullptr, has_state && Cell::has_cell_state ? a.in[2] + dir * H : nullptr,
            width, work);
        // The states, from the rows the kernel keeps (h_t at row t + 1
        // forward, t reversed), into the output.
        const std::size_t h_stride = kernels::recurrent::sample_strides(T, H, GH).h;
        const T_* hs = work + layout(B, T, H).h;
        for (std::size_t b = 0; b < B; ++b) {
          const T_* hb = hs + b * h_stride;
          if constexpr (FinalOnly) {
            std::copy_n(hb + (Reverse ? 0 : T) * H, H, a.out + b * width + dir * H);
          } else if constexpr (directions == 1) {
            std::copy_n(hb + H, T * H, a.out + b * T * H);
          } else {
            for (std::size_t t = 0; t < T; ++t)
              std::copy_n(hb + kernels::recurrent::state_row<Reverse>(t) * H, H, a.out + (b * T + t) * width + dir * H);
          }
        }
      });
    }

    template <std::size_t B, unsigned Mode, class T_>
    static void backward(const backward_args<T_>& a) {
      using kernels::fixed;
      constexpr unsigned acc = (grad_mode::adds_to_param(Mode, 0) ? 2u : 0u) |
                               (grad_mode::adds_to_param(Mode, 1) ? 4u : 0u) |
                               (grad_mode::adds_to_param(Mode, 2) ? 8u : 0u) |
                               (grad_mode::adds_to_param(Mode, 3) ? 16u : 0u);
      for_each_direction([&]<bool Reverse>(std::size_t dir) {
        const T_* work = a.scratch + dir * B * work_per_direction;
        kernels::recurrent::output_gradient<T_> dy{a.dout + dir * H, FinalOnly ? width : T * width, width,
                                                   FinalOnly};
        // The second direction adds to the input gradient the first wrote.
        constexpr unsigned acc_x = grad_mode::adds_to_input(Mode, 0) ? 1u : 0u;
        auto run = [&]<unsigned Acc>() {
          kernels::recurrent::sequence_backward<Cell, Reverse, Acc>(
              fixed<B>{}, fixed<T>{}, fixed<D>{}, fixed<H>{}, a.in[0], a.param[0] + dir * GH * D,
              a.param[1] + dir * GH * H, work, dy, width, a.temp,
              grad_mode::wants_input(Mode, 0) ? a.din[0] : nullptr,
              grad_mode::wants_param(Mode, 0) ? a.dparam[0] + dir * GH * D : nullptr,
              grad_mode::wants_param(Mode, 1) ? a.dparam[1] + dir * GH * H : nullptr,
              grad_mode::wants_param(Mode, 2) ? a.dparam[2] + dir * GH : nullptr,
              grad_mode::wants_param(Mode, 3) ? a.dparam[3] + dir * GH : nullptr,
              has_state && grad_mode::wants_input(Mode, 1) ? a.din[1] + dir * H : nullptr,
              has_state && Cell::has_cell_state && grad_mode::wants_input(Mode, 2) ? a.din[2] + dir * H : nullptr,
              has_state && grad_mode::adds_to_input(Mode, 1), has_state && grad_mode::adds_to_input(Mode, 2));
        };
        if (dir == 0) run.template operator()<acc | acc_x>();
        else run.template operator()<acc | 1u>();
      });
    }

    /// The state each direction ended with after a forward pass (h, and c for
    /// the LSTM), [B, directions, H] each: the initial state of the next
    /// chunk of a stream (truncated backpropagation through time).
    static constexpr bool is_recurrent = true;
    static constexpr bool has_cell_state = Cell::has_cell_state;
    static constexpr std::size_t state_width = width;
    template <std::size_t B, class T_>
    static void final_state(const T_* scratch, T_* h, T_* c) {
      const layout lay(B, T, H);
      const std::size_t h_stride = kernels::recurrent::sample_strides(T, H, GH).h;
      for (std::size_t dir = 0; dir < directions; ++dir) {
        const T_* work = scratch + dir * B * work_per_direction;
        const std::size_t row = dir == 0 ? T : 0;  // after the last step the direction ran
        for (std::size_t b = 0; b < B; ++b) {
          std::copy_n(work + lay.h + b * h_stride + row * H, H, h + b * width + dir * H);
          if constexpr (Cell::has_cell_state)
            if (c) std::copy_n(work + lay.c + b * h_stride + row * H, H, c + b * width + dir * H);
        }
      }
    }

    // --- one time step of one sample, for ctnn::streaming ---------------------
    // Only a forward-only layer that starts from zeros runs step by step (a
    // reverse direction reads the future). Its state is h, then (LSTM) c,
    // then the step's working rows; stream_step makes the same calls, in
    // the same order, as the batch-1 forward above, so a sequence fed one
    // step at a time gives the same bits.
    static constexpr bool streams = !Bidirectional && !has_state;
    static constexpr bool stream_emits_sequence = !FinalOnly;  // each step's output is h_t either way
    static constexpr std::size_t stream_state_size =
        kernels::recurrent::round16(H) * (Cell::has_cell_state ? 3 : 2) + 2 * kernels::recurrent::round16(GH);
    // A small layer steps from a transposed copy of its weights, which the
    // streaming object refreshes whenever the parameters may have changed.
    template <class T_>
    using stream_packing = kernels::recurrent::packed_weights<Cell, T_, D, H>;
    template <class T_>
    static constexpr std::size_t stream_packed_size = stream_packing<T_>::used ? stream_packing<T_>::floats : 0;
    template <class T_>
    static void stream_pack(const std::array<T_*, 4>& param, T_* packed) {
      if constexpr (stream_packing<T_>::used) stream_packing<T_>::pack(param[0], param[1], param[2], param[3], packed);
    }
    template <class T_>
    static void stream_step(const T_* x, const std::array<T_*, 4>& param, const T_* packed, T_* state, T_* out) {
      using kernels::fixed, kernels::recurrent::round16;
      T_* h = state;
      T_* c = h + round16(H);
      T_* hn = c + (Cell::has_cell_state ? round16(H) : 0);
      T_* p = hn + round16(H);
      T_* q = p + round16(GH);
      if constexpr (stream_packing<T_>::used) {
        stream_packing<T_>::step(x, packed, h, c, param[2], param[3], p, q, h, c, hn);
      } else {
        kernels::recurrent::row_products(fixed<GH>{}, fixed<D>{}, fixed<H>{}, x, param[0], h, param[1], p, q);
        kernels::recurrent::cell_forward<Cell>(fixed<H>{}, p, q, param[2], param[3], h, c, h, c, hn);
      }
      std::copy_n(h, H, out);
    }

   private:
    template <class F>
    static void for_each_direction(F&& f) {
      f.template operator()<false>(0);
      if constexpr (Bidirectional) f.template operator()<true>(1);
    }
  };
};

template <class Cell, fixed_string Name, std::size_t H, class... Options>
struct recurrent_fn {
  using options = detail::recurrent_options<Name, Options...>;
  template <graph_value X, graph_value... State>
  constexpr auto operator()(const X& x, const State&... state) const {
    return make_node<recurrent_op<Cell, Name, H, options::is_bidirectional, options::final_only,
                                  typename options::weight_init, typename options::bias_init>>(x, state...);
  }
};

/// `rnn<"name", H, options...>(x [, h0])`: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh).
template <fixed_string Name, std::size_t H, class... Options>
inline constexpr recurrent_fn<kernels::recurrent::tanh_cell, Name, H, Options...> rnn{};
/// `lstm<"name", H, options...>(x [, h0, c0])`: PyTorch's nn.LSTM, gates i, f, g, o.
template <fixed_string Name, std::size_t H, class... Options>
inline constexpr recurrent_fn<kernels::recurrent::lstm_cell, Name, H, Options...> lstm{};
/// `gru<"name", H, options...>(x [, h0])`: PyTorch's nn.GRU, gates r, z, n.
template <fixed_string Name, std::size_t H, class... Options>
inline constexpr recurrent_fn<kernels::recurrent::gru_cell, Name, H, Options...> gru{};

}  // namespace ctnn
