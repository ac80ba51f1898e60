/// @file network.hpp
/// `ctnn::network(losses..., outputs(...))`: the network as a type. Its static
/// members are the compile-time plan: nodes, parameter table, workspace.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/type_list.hpp"
#include "ctnn/graph/collect.hpp"
#include "ctnn/graph/node_info.hpp"
#include "ctnn/graph/plan.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// The nodes `predict()` returns, in order.
template <class... Outputs>
struct outputs_t {};

template <graph_value... X>
constexpr outputs_t<std::remove_cvref_t<X>...> outputs(const X&...) {
  return {};
}

namespace detail {
// (Passing shape_info itself as a template argument crashes g++ 12.)
template <std::size_t Rank, std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
struct shape_from;
template <std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
struct shape_from<0, D0, D1, D2, D3> { using type = shape<>; };
template <std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
struct shape_from<1, D0, D1, D2, D3> { using type = shape<D0>; };
template <std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
struct shape_from<2, D0, D1, D2, D3> { using type = shape<D0, D1>; };
template <std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
struct shape_from<3, D0, D1, D2, D3> { using type = shape<D0, D1, D2>; };
template <std::size_t D0, std::size_t D1, std::size_t D2, std::size_t D3>
struct shape_from<4, D0, D1, D2, D3> { using type = shape<D0, D1, D2, D3>; };
}  // namespace detail

/// The shape type of a shape_info value, so diagnostics print `shape<784, 256>`.
#define CTNN_SHAPE_OF(s) typename ::ctnn::detail::shape_from<(s).rank, (s).dims[0], (s).dims[1], (s).dims[2], (s).dims[3]>::type

/// A network: the loss roots (summed, each averaged over the batch) and the
/// outputs. Everything is static; an object of this type is empty.
template <class Losses, class Outputs>
struct graph;

template <class... Losses, class... Outputs>
struct graph<detail::type_list<Losses...>, detail::type_list<Outputs...>> {
  using nodes = typename detail::collect<detail::type_list<>, Losses..., Outputs...>::type;
  using index = detail::list_index<nodes>;
  static constexpr std::size_t node_count = nodes::size;

  template <std::size_t I>
  using node_at = typename index::template at<I>;

  static constexpr std::array<std::size_t, sizeof...(Losses)> loss_ids{index::template of<resolve_t<Losses>>...};
  static constexpr std::array<std::size_t, sizeof...(Outputs)> output_ids{
      index::template of<resolve_t<Outputs>>...};

  static constexpr auto infos = []<class... N>(detail::type_list<N...>) {
    return std::array<node_info, sizeof...(N)>{detail::make_node_info<N, index>()...};
  }(nodes{});

  static constexpr graph_plan<node_count> plan = make_plan(infos, loss_ids, output_ids);

  /// The plan of a backward pass started at output K with a caller's
  /// upstream gradient (a vector-Jacobian product): output K is its only
  /// root. Same values, scratch and parameters as `plan`; its own gradient
  /// slots. Evaluated only by a model that runs such a pass.
  template <std::size_t K>
  static constexpr graph_plan<node_count> vjp_plan =
      make_plan(infos, std::array<std::size_t, 1>{output_ids[K]}, output_ids);

  // Whole-graph checks, reported with names and shapes only.
  static_assert(diagnostic::check<diagnostic::tied_parameter_shapes_differ<
                    node_at<plan.params.tie_a>::op::name, CTNN_SHAPE_OF(plan.params.tie_shape_a),
                    CTNN_SHAPE_OF(plan.params.tie_shape_b)>>);
  static_assert(diagnostic::check_unless<!plan.params.init_mismatch || plan.params.tie_mismatch,
                                         diagnostic::tied_parameter_initializers_differ<
                                             node_at<plan.params.init_a>::op::name>>);
  static_assert(diagnostic::check_unless<!plan.leaf_clash, diagnostic::input_declared_with_two_shapes<
                    node_at<plan.clash_a>::op::name, typename node_at<plan.clash_a>::out_shape,
                    typename node_at<plan.clash_b>::out_shape>>);

  // A leaf has no value slot of its own: predicting one would read a slot
  // that was never planned.
  static constexpr std::pair<std::size_t, std::size_t> leaf_output = [] {
    for (std::size_t k = 0; k < output_ids.size(); ++k)
      if (infos[output_ids[k]].role == node_role::input || infos[output_ids[k]].role == node_role::label)
        return std::pair{k, output_ids[k]};
    return std::pair{none, std::size_t{0}};
  }();
  static_assert(diagnostic::check_unless<leaf_output.first == none,
                                         diagnostic::output_is_a_leaf<node_at<leaf_output.second>::op::name,
                                                                      leaf_output.first>>);

  static_assert(
      [] {
        for (std::size_t r : loss_ids)
          if (infos[r].out.size() != 1) return false;
        return true;
      }(),
      "ctnn::network: every loss root must give one value per sample (a loss, or a scale/add of losses)");

  /// Trainable scalars (tied parameters counted once).
  static constexpr std::size_t param_count = plan.params.count;
  /// Length of the flat, aligned parameter buffer.
  static constexpr std::size_t param_buffer_size = plan.params.floats;
  static constexpr std::size_t loss_count = sizeof...(Losses);
  static constexpr std::size_t output_count = sizeof...(Outputs);
  /// Forward FLOPs per sample.
  static constexpr double flops = plan.flops;

  /// Leaves (inputs and labels), in node order; calls take them by name
  /// (ctnn::feed<"name">), in any order.
  static constexpr auto leaf_ids = [] {
    std::array<std::size_t, node_count> ids{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < node_count; ++i)
      if (infos[i].role == node_role::input || infos[i].role == node_role::label) ids[n++] = i;
    return std::pair{ids, n};
  }();
  static constexpr std::size_t leaf_count = leaf_ids.second;

  /// Workspace elements for a batch of B: training (values, scratch,
  /// gradients, temporaries) and inference.
  template <std::size_t B>
  static constexpr std::size_t training_workspace =
      B * (plan.value_elems + plan.scratch_elems + plan.grad_elems + plan.temp_elems);
  template <std::size_t B>
  static constexpr std::size_t inference_workspace = B * plan.infer_elems;
};

namespace detail {
template <class L, class O, class... Args>
struct split_roots;
template <class... L, class... O>
struct split_roots<type_list<L...>, type_list<O...>> {
  using type = graph<type_list<L...>, type_list<O...>>;
};
template <class... L, class... O, class A, class... Args>
struct split_roots<type_list<L...>, type_list<O...>, A, Args...>
    : split_roots<type_list<L..., A>, type_list<O...>, Args...> {};
template <class... L, class... O, class... P, class... Args>
struct split_roots<type_list<L...>, type_list<O...>, outputs_t<P...>, Args...>
    : split_roots<type_list<L...>, type_list<O..., P...>, Args...> {};
}  // namespace detail

/// `decltype(ctnn::network(loss, ..., outputs(y, ...)))` is the network type.
template <class... Args>
constexpr auto network(const Args&...) {
  return typename detail::split_roots<detail::type_list<>, detail::type_list<>, std::remove_cvref_t<Args>...>::type{};
}

}  // namespace ctnn
