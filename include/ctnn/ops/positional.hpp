/// @file positional.hpp
/// Sinusoidal positional encoding (Vaswani et al. 2017) added to a sequence
/// x [T, D]: row t gains PE(t, 2i) = sin(t / 10000^(2i/D)) and
/// PE(t, 2i + 1) = cos(t / 10000^(2i/D)). The table is computed once per
/// shape and scalar type (in double, then rounded) and kept in static
/// storage; the gradient passes through unchanged. A learned encoding needs
/// no op of its own: add(x, variable<"pos", shape<T, D>>).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace diagnostic {
/// Positions are added to the rows of a sequence.
template <class InputShape>
struct positions_input_is_not_a_sequence {
  static_assert(InputShape::rank == 2,
                "CTNN_POSITIONS_INPUT: sinusoidal_positions adds a position's code to each row of a sequence "
                "[T, D]; the argument is <input shape>");
};
}  // namespace diagnostic

struct sinusoidal_positions_op {
  static constexpr bool mixes_time_steps = true;  // the code depends on the step: not for ctnn::streaming
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::positions_input_is_not_a_sequence<In>>);
    static constexpr std::size_t D = In::rank == 2 ? In::dims[1] : In::size, T_ = In::size / D;
    static constexpr std::string_view kind = "sinusoidal_positions";
    using out_shape = In;
    static constexpr double flops = double(In::size);

    template <class T>
    static const std::array<T, T_ * D>& table() {
      static const std::array<T, T_ * D> pe = [] {
        std::array<T, T_ * D> t{};
        for (std::size_t p = 0; p < T_; ++p)
          for (std::size_t i = 0; i < D; ++i) {
            const double angle = double(p) / std::pow(10000.0, double(i - i % 2) / double(D));
            t[p * D + i] = T(i % 2 == 0 ? std::sin(angle) : std::cos(angle));
          }
        return t;
      }();
      return pe;
    }
    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      const T* pe = table<T>().data();
      for (std::size_t b = 0; b < B; ++b)
        kernels::map<T_ * D>(a.out + b * T_ * D, [](auto x, auto p) { return x + p; }, a.in[0] + b * T_ * D, pe);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * T_ * D>(a.din[0], [](auto d) { return d; }, a.dout);
    }
  };
};

struct sinusoidal_positions_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<sinusoidal_positions_op>(x); }
};
/// `sinusoidal_positions(x)`: x [T, D] plus the fixed sinusoidal table.
inline constexpr sinusoidal_positions_fn sinusoidal_positions{};

}  // namespace ctnn
