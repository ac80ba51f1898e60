/// @file batch_reduction.hpp
/// How a value that reaches a loss root is reduced over the batch, and how
/// that choice travels from a loss through the ops that weight or combine
/// losses (scale, add, subtract, multiply, divide) to the root.
#pragma once

#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// `mean`: the root contributes (1/B)·Σ_b (the default); `sum`: Σ_b.
/// `unset`: a value not derived from a loss (an input, a weight); combined
/// with a loss it takes the loss's reduction.
enum class batch_reduction : unsigned char { unset, mean, sum };

/// The reduction of two operands combined elementwise: the loss's one when
/// the other operand is no loss; two losses must agree (nothing is right
/// for a sum of a batch mean and a batch sum), `conflict` otherwise.
struct combined_reduction {
  batch_reduction value;
  bool conflict;
};
constexpr combined_reduction combine(batch_reduction a, batch_reduction b) {
  if (a == batch_reduction::unset) return {b, false};
  if (b == batch_reduction::unset || a == b) return {a, false};
  return {batch_reduction::unset, true};
}

namespace detail {
/// A spec's reduction: its own `reduction` if it declares one (the losses and
/// the ops above), else a loss's `batch_sum` flag, else unset.
template <class Spec>
constexpr batch_reduction reduction_of_spec() {
  if constexpr (requires { Spec::reduction; }) return Spec::reduction;
  else if constexpr (Spec::role == node_role::loss) return Spec::batch_sum ? batch_reduction::sum : batch_reduction::mean;
  else return batch_reduction::unset;
}
}  // namespace detail

/// The batch reduction of a node or of the node a handle stands for.
template <class X>
inline constexpr batch_reduction reduction_of = detail::reduction_of_spec<typename resolve_t<X>::spec>();

namespace detail {
/// The reduction `Op` gives its result from its operands', checked where the
/// op is written.
template <fixed_string Op, batch_reduction A, batch_reduction B>
constexpr batch_reduction combined() {
  static_assert(diagnostic::check_unless<!combine(A, B).conflict,
                                         diagnostic::loss_batch_reductions_differ<Op, A, B>>);
  return combine(A, B).value;
}
}  // namespace detail

}  // namespace ctnn
