/// @file io.hpp
/// The leaves of a graph: named inputs and labels, fed per batch by the model.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/ops/node.hpp"

namespace ctnn {

template <fixed_string Name, class Shape>
struct input_op {
  static_assert(is_shape_v<Shape>, "ctnn::input: the second argument must be a ctnn::shape<...>");
  static constexpr auto name = Name;
  template <class... None>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "input";
    using out_shape = Shape;
    static constexpr node_role role = node_role::input;
  };
};

/// A class index in [0, Classes) per sample, stored as a float.
template <fixed_string Name, std::size_t Classes>
struct label_op {
  static_assert(Classes >= 2, "ctnn::label: a label needs at least two classes");
  static constexpr auto name = Name;
  static constexpr std::size_t classes = Classes;
  template <class... None>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "label";
    using out_shape = shape<>;
    static constexpr node_role role = node_role::label;
  };
};

/// `input<"image", shape<784>>`: a named per-sample tensor the caller feeds.
template <fixed_string Name, class Shape>
inline constexpr node<input_op<Name, Shape>> input{};

/// `label<"class", 10>`: a named class index the caller feeds with the input.
template <fixed_string Name, std::size_t Classes>
inline constexpr node<label_op<Name, Classes>> label{};

template <class T>
inline constexpr bool is_label_v = false;
template <fixed_string Name, std::size_t C>
inline constexpr bool is_label_v<node<label_op<Name, C>>> = true;

}  // namespace ctnn
