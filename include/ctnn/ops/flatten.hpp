/// @file flatten.hpp
/// [C, H, W] (or any shape) → [C·H·W], in memory order: the bridge from
/// convolutions to dense layers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

struct flatten_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "flatten";
    using out_shape = shape<In::size>;
    // A copy: every node owns its output buffer (the planner has no aliases).
    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      std::copy_n(a.in[0], B * In::size, a.out);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * In::size>(
            a.din[0], [](auto d) { return d; }, a.dout);
    }
  };
};

struct flatten_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<flatten_op>(x); }
};
/// `flatten(x)`.
inline constexpr flatten_fn flatten{};

}  // namespace ctnn
