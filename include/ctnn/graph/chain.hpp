/// @file chain.hpp
/// `ctnn::chain(x, layer, layer, ...)`: a sequential stack written in the
/// order it runs. It only applies each layer to the previous result, so it
/// builds exactly the type the nested form `layer(layer(x))` builds.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
template <std::size_t Position, class X>
constexpr auto chain_from(const X& x) {
  return x;
}
template <std::size_t Position, class X, class Layer, class... Rest>
constexpr auto chain_from(const X& x, const Layer& layer, const Rest&... rest) {
  if constexpr (!std::is_invocable_v<const Layer&, const X&>) {
    static_assert(diagnostic::check<diagnostic::chain_step_is_not_a_layer<Position, typename resolve_t<X>::out_shape>>);
    return x;
  } else {
    return chain_from<Position + 1>(layer(x), rest...);
  }
}
}  // namespace detail

/// `chain(image, dense<"fc1", 256>, relu, dense<"fc2", 10>)` is
/// `dense<"fc2", 10>(relu(dense<"fc1", 256>(image)))`. Each step is anything
/// callable with one graph value: a layer, an activation, flatten, a lambda
/// (for a residual block, say). Losses take two arguments and go outside.
template <graph_value X, class... Layers>
constexpr auto chain(const X& x, const Layers&... layers) {
  return detail::chain_from<1>(x, layers...);
}

}  // namespace ctnn
