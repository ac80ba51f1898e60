/// @file collect.hpp
/// Finds the nodes of a network: a depth-first walk over the node types that
/// yields each distinct node once, inputs before the nodes that use them.
#pragma once

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/type_list.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn::detail {

template <class N>
inline constexpr bool is_leaf_v = N::inputs::size == 0;

template <class Acc, class N, class Raw = typename N::raw_inputs>
struct visit;

// An edge to a node already collected is fine when it goes through a handle
// or to a leaf; a second by-value copy of a computed sub-graph means its type
// is written out twice, which doubles per level of nesting.
template <class Acc, class Raw, bool Seen = contains_v<Acc, resolve_t<Raw>>, bool FromRoot = false>
struct visit_edge {
  using type = typename visit<Acc, resolve_t<Raw>>::type;
};
template <class Acc, class Raw, bool FromRoot>
struct visit_edge<Acc, Raw, true, FromRoot> {
  using node_t = resolve_t<Raw>;
  static_assert(diagnostic::check_unless<FromRoot || is_ref_v<Raw> || is_leaf_v<node_t>,
                                         diagnostic::subgraph_reused_without_ref<typename node_t::op,
                                                                                 typename node_t::out_shape>>);
  using type = Acc;
};

// One specialization per arity keeps the instantiation depth at two per graph
// level, so a chain of 400 nodes stays within the compilers' default limits.
template <class Acc, class N>
struct visit<Acc, N, type_list<>> {
  using type = typename push_back<Acc, N>::type;
};
template <class Acc, class N, class R0>
struct visit<Acc, N, type_list<R0>> {
  using type = typename push_back<typename visit_edge<Acc, R0>::type, N>::type;
};
template <class Acc, class N, class R0, class R1>
struct visit<Acc, N, type_list<R0, R1>> {
  using a0 = typename visit_edge<Acc, R0>::type;
  using type = typename push_back<typename visit_edge<a0, R1>::type, N>::type;
};
template <class Acc, class N, class R0, class R1, class R2>
struct visit<Acc, N, type_list<R0, R1, R2>> {
  using a0 = typename visit_edge<Acc, R0>::type;
  using a1 = typename visit_edge<a0, R1>::type;
  using type = typename push_back<typename visit_edge<a1, R2>::type, N>::type;
};
template <class Acc, class N, class R0, class R1, class R2, class R3>
struct visit<Acc, N, type_list<R0, R1, R2, R3>> {
  using a0 = typename visit_edge<Acc, R0>::type;
  using a1 = typename visit_edge<a0, R1>::type;
  using a2 = typename visit_edge<a1, R2>::type;
  using type = typename push_back<typename visit_edge<a2, R3>::type, N>::type;
};

/// All nodes reachable from Roots, in a topological order.
template <class Acc, class... Roots>
struct collect {
  using type = Acc;
};
template <class Acc, class R, class... Roots>
struct collect<Acc, R, Roots...> {
  using type = typename collect<typename visit_edge<Acc, R, contains_v<Acc, resolve_t<R>>, true>::type,
                                Roots...>::type;
};

}  // namespace ctnn::detail
