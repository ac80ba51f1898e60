/// @file constant.hpp
/// A fixed tensor written into the network's type: `constant<"mask",
/// shape<3>, 1.0, 0.0, 1.0>`. It is a leaf that needs no feed, owns no
/// parameter and has no gradient: its values are template arguments, as every
/// other constant of the DSL (scale<0.3>, leaky_relu<0.01>), so the compiler
/// sees them, nothing stores, initializes, checkpoints or loads them, and the
/// optimizer cannot move them. A tensor too large to spell out belongs in a
/// parameter (a variable, frozen with a learning-rate multiplier of zero).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/real.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

template <fixed_string Name, class Shape, real... Values>
struct constant_op {
  static_assert(is_shape_v<Shape>, "ctnn::constant: the second argument must be a ctnn::shape<...>");
  static_assert(diagnostic::check<diagnostic::constant_values_do_not_fill_shape<Name, Shape, sizeof...(Values)>>);
  static constexpr auto name = Name;
  static constexpr std::array<double, sizeof...(Values)> values{Values.value()...};
  template <class... None>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "constant";
    using out_shape = Shape;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t i = 0; i < Shape::size; ++i)
          a.out[b * Shape::size + i] = T(values.size() == 1 ? values[0] : values[i]);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>&) {}  // nothing to differentiate
  };
};

/// `constant<"c", shape<2, 2>, 1, 0, 0, 1>`: one value per element in memory
/// order, or a single value for all (`constant<"half", shape<64>, 0.5>`).
template <fixed_string Name, class Shape, real... Values>
inline constexpr node<constant_op<Name, Shape, Values...>> constant{};

}  // namespace ctnn
