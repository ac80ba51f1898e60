/// @file io.hpp
/// The leaves of a graph: named inputs and labels, fed per batch by the model.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// `input<"x", shape<4>, requires_grad>`: backward also computes the
/// gradient of the loss (or of backward_from's output) with respect to this
/// input, read with model::input_grad<"x">(). Off by default: it costs a
/// backward step through the first layer (a whole GEMM for a convolution).
struct requires_grad {};

namespace detail {
template <class Want, class... Ts>
struct first_other {
  using type = void;
};
template <class Want, class T, class... Ts>
struct first_other<Want, T, Ts...> {
  using type = std::conditional_t<std::is_same_v<T, Want>, typename first_other<Want, Ts...>::type, T>;
};
}  // namespace detail

template <fixed_string Name, class Shape, class... Options>
struct input_op {
  static_assert(is_shape_v<Shape>, "ctnn::input: the second argument must be a ctnn::shape<...>");
  static_assert(diagnostic::check_unless<(std::is_same_v<Options, requires_grad> && ...),
                                         diagnostic::input_option_not_recognized<
                                             Name, typename detail::first_other<requires_grad, Options...>::type>>);
  static constexpr auto name = Name;
  template <class... None>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "input";
    using out_shape = Shape;
    static constexpr node_role role = node_role::input;
    static constexpr bool input_gradient = sizeof...(Options) > 0;
  };
};

/// A class index in [0, Classes) per sample, stored as a float; with Steps,
/// one per step of a sequence (a language model's next characters).
template <fixed_string Name, std::size_t Classes, std::size_t Steps = 0>
struct label_op {
  static_assert(Classes >= 2, "ctnn::label: a label needs at least two classes");
  static constexpr auto name = Name;
  static constexpr std::size_t classes = Classes;
  static constexpr std::size_t steps = Steps;  // 0: one class per sample
  template <class... None>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "label";
    using out_shape = std::conditional_t<Steps == 0, shape<>, shape<Steps>>;
    static constexpr node_role role = node_role::label;
  };
};

/// `input<"image", shape<784>>`: a named per-sample tensor the caller feeds.
/// `input<"x", shape<4>, requires_grad>`: also its gradient (see requires_grad).
template <fixed_string Name, class Shape, class... Options>
inline constexpr node<input_op<Name, Shape, Options...>> input{};

/// `label<"class", 10>`: a named class index the caller feeds with the input.
/// `label<"next", 96, 64>`: 64 class indices per sample, one per step.
template <fixed_string Name, std::size_t Classes, std::size_t Steps = 0>
inline constexpr node<label_op<Name, Classes, Steps>> label{};

template <class T>
inline constexpr bool is_label_v = false;
template <fixed_string Name, std::size_t C, std::size_t S>
inline constexpr bool is_label_v<node<label_op<Name, C, S>>> = true;

}  // namespace ctnn
