/// @file op.hpp
/// The op contract: what the graph layer (graph/node_info.hpp, graph/plan.hpp)
/// and the model (train/model.hpp) read from an op, as C++20 concepts.
///
/// An op is a type `Op` with
/// - `Op::name`: a `fixed_string` ("" for ops without parameters of their own);
/// - `Op::spec<InputShapes...>`: the op applied to its inputs' shapes, with
///   - `kind`: a `std::string_view`, the op's name in summaries and errors;
///   - `out_shape`: a `ctnn::shape<...>`, the output of one sample;
///   - `params`: a `std::array<param_decl, N>` (N ≤ 4), its parameters;
///   - `scratch_size`, `temp_size`: elements per sample kept from forward
///     to backward, and used by backward only;
///   - `flops`: per sample, for the summary;
///   - `role`, `batch_sum`, `input_gradient`: for inputs, labels and losses;
///   - `forward<B, T>(const forward_args<T>&)` and
///     `backward<B, Mode, T>(const backward_args<T>&)`, static, where
///     `Mode` is a `grad_mode` mask (ops/node.hpp).
/// `spec_defaults` (ops/node.hpp) supplies params, scratch_size, temp_size,
/// flops, role, batch_sum and input_gradient; an op writes kind, out_shape,
/// forward and backward. Optional: `Op::with_activation<Act>`, the same op
/// with an elementwise activation fused into it (ops/activation.hpp).
///
/// The members are checked one by one, in the order above, where a node is
/// made (`make_node`), once per op type and input shapes; the first missing
/// one is CTNN_OP_CONTRACT naming it. The checks only name members (the
/// kernels' declarations, never their bodies), so they cost next to nothing.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "ctnn/core/fixed_string.hpp"

namespace ctnn {

namespace op_contract {

template <class Op>
concept has_name = requires {
  { Op::name.view() } -> std::convertible_to<std::string_view>;
};
template <class Op, class... In>
concept has_spec = requires { typename Op::template spec<In...>; };

template <class S>
concept has_kind = requires {
  { S::kind } -> std::convertible_to<std::string_view>;
};
template <class S>
concept has_out_shape = requires {
  typename S::out_shape;
  { S::out_shape::rank } -> std::convertible_to<std::size_t>;
  { S::out_shape::size } -> std::convertible_to<std::size_t>;
};
template <class S>
concept has_params = requires {
  { S::params.size() } -> std::convertible_to<std::size_t>;
};
template <class S>
concept has_sizes = requires {
  { S::scratch_size } -> std::convertible_to<std::size_t>;
  { S::temp_size } -> std::convertible_to<std::size_t>;
};
template <class S>
concept has_flops = requires {
  { S::flops } -> std::convertible_to<double>;
};
template <class S>
concept has_role = requires {
  S::role;
  { S::batch_sum } -> std::convertible_to<bool>;
  { S::input_gradient } -> std::convertible_to<bool>;
};
// Named, not called: only the declarations are instantiated.
template <class S>
concept has_forward = requires { &S::template forward<1, float>; };
template <class S>
concept has_backward = requires { &S::template backward<1, 0u, float>; };

template <class S>
concept spec = has_kind<S> && has_out_shape<S> && has_params<S> && has_sizes<S> && has_flops<S> && has_role<S> &&
               has_forward<S> && has_backward<S>;

/// The first member of the contract `Op` applied to `In...` lacks, in the
/// order of the file comment, or "" when it has them all.
template <class Op, class... In>
consteval std::string_view first_missing() {
  if constexpr (!has_name<Op>) return "name";
  else if constexpr (!has_spec<Op, In...>) return "spec<input shapes...>";
  else {
    using S = typename Op::template spec<In...>;
    if constexpr (!has_kind<S>) return "kind";
    else if constexpr (!has_out_shape<S>) return "out_shape";
    else if constexpr (!has_params<S>) return "params";
    else if constexpr (!has_sizes<S>) return "scratch_size, temp_size";
    else if constexpr (!has_flops<S>) return "flops";
    else if constexpr (!has_role<S>) return "role, batch_sum, input_gradient";
    else if constexpr (!has_forward<S>) return "forward<B, T>";
    else if constexpr (!has_backward<S>) return "backward<B, Mode, T>";
    else return "";
  }
}

/// The same as a `fixed_string` of N - 1 characters, for a diagnostic's
/// template argument.
template <class Op, class... In>
consteval auto first_missing_text() {
  constexpr std::string_view v = first_missing<Op, In...>();
  fixed_string<v.size() + 1> s{};
  for (std::size_t i = 0; i < v.size(); ++i) s.chars[i] = v[i];
  return s;
}

}  // namespace op_contract

/// `Op` is an op when applied to inputs of shapes `In...`.
template <class Op, class... In>
concept op = op_contract::has_name<Op> && op_contract::has_spec<Op, In...> &&
             op_contract::spec<typename Op::template spec<In...>>;

/// `Op` can absorb the elementwise activation `Act` that follows it: it
/// declares `template <class A> using with_activation = ...` (the same op
/// with A fused), usable while it has none fused yet.
template <class Op, class Act>
concept absorbs_activation = requires { typename Op::template with_activation<Act>; };

namespace detail {
/// A spec's kind (a string_view) as a fixed_string: a template argument that
/// names the op in a diagnostic.
template <class Spec>
constexpr auto spec_kind() {
  constexpr std::string_view k = Spec::kind;
  fixed_string<k.size() + 1> s;
  for (std::size_t i = 0; i < k.size(); ++i) s.chars[i] = k[i];
  return s;
}
}  // namespace detail

}  // namespace ctnn
