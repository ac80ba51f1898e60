/// @file from_static.hpp
/// `runtime::from<Net>()`: the runtime graph of a static network type, one
/// runtime node per static node in the static node order (so leaves bind in
/// the same order), with a fused dense+activation (conv2d+activation) split
/// into a dense (conv2d) node and an activation node. An op the twin lacks is a compile error naming it.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/op.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/ops/activation.hpp"
#include "ctnn/ops/concat.hpp"
#include "ctnn/ops/conv2d.hpp"
#include "ctnn/ops/dense.hpp"
#include "ctnn/ops/elementwise.hpp"
#include "ctnn/ops/embedding.hpp"
#include "ctnn/ops/flatten.hpp"
#include "ctnn/ops/io.hpp"
#include "ctnn/ops/loss.hpp"
#include "ctnn/ops/pool.hpp"
#include "ctnn/ops/recurrent.hpp"
#include "ctnn/runtime/graph.hpp"

namespace ctnn::diagnostic {

/// `Kind` is the static op's kind ("maxout", "batch_norm", an activation's tag).
template <fixed_string Kind>
struct runtime_twin_lacks_op {
  static_assert(Kind.size() == std::size_t(-1),
                "CTNN_RUNTIME_UNSUPPORTED: the runtime-graph twin (ctnn::runtime::from) has no op of this kind; "
                "add a runtime op for it (ctnn/runtime/) or leave it out of networks compared with the twin");
};

}  // namespace ctnn::diagnostic

namespace ctnn::runtime {

namespace detail {

inline std::string str(std::string_view s) { return std::string(s); }

// Each translation below says `supported`; the primary templates (ops the
// twin lacks) say not, and from<Net> reports the first such node by kind.
template <class F>
struct activation {
  static constexpr bool supported = false;
  static node_id emit(graph&, node_id) { return {}; }
};
template <>
struct activation<act::identity> {
  static constexpr bool supported = true;
  static node_id emit(graph& g, node_id x) { return g.identity(x); }
};
template <>
struct activation<act::relu> {
  static constexpr bool supported = true;
  static node_id emit(graph& g, node_id x) { return g.relu(x); }
};
template <>
struct activation<act::tanh> {
  static constexpr bool supported = true;
  static node_id emit(graph& g, node_id x) { return g.tanh(x); }
};
template <>
struct activation<act::sigmoid> {
  static constexpr bool supported = true;
  static node_id emit(graph& g, node_id x) { return g.sigmoid(x); }
};
template <real Slope>
struct activation<act::leaky_relu<Slope>> {
  static constexpr bool supported = true;
  static node_id emit(graph& g, node_id x) { return g.leaky_relu(x, float(Slope.value())); }
};

/// One static node N (of op type Op) as runtime node(s); `in` are the
/// runtime ids of its inputs. Returns the node standing for N's output.
template <class N, class Op = typename N::op>
struct emit {
  static constexpr bool supported = false;
  static node_id run(graph&, const node_id*) { return {}; }
};
template <class N, fixed_string Name, class Shape, class... Options>
struct emit<N, ::ctnn::input_op<Name, Shape, Options...>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id*) {
    // The only input option is requires_grad.
    return g.input(str(Name.view()), dims(Shape::dims.begin(), Shape::dims.end()), sizeof...(Options) > 0);
  }
};
template <class N, fixed_string Name, std::size_t Classes, std::size_t Steps>
struct emit<N, ::ctnn::label_op<Name, Classes, Steps>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id*) { return g.label(str(Name.view()), Classes, Steps); }
};
template <class N, fixed_string Name, std::size_t Out, bool HasBias, class Act, class WeightInit, class BiasInit>
struct emit<N, ::ctnn::dense_op<Name, Out, HasBias, Act, WeightInit, BiasInit>> {
  static constexpr bool supported = act::is_identity_v<Act> || activation<Act>::supported;
  static node_id run(graph& g, const node_id* in) {
    const node_id d = g.dense(str(Name.view()), Out, in[0], HasBias, WeightInit::value, BiasInit::value);
    if constexpr (act::is_identity_v<Act>) return d;
    else return activation<Act>::emit(g, d);  // the twin does not fuse
  }
};
template <class N, fixed_string Name, std::size_t Out, std::size_t F, std::size_t S, std::size_t P, std::size_t D,
          std::size_t G, bool HasBias, class Act, class WeightInit, class BiasInit, window_rounding R>
struct emit<N, ::ctnn::conv2d_op<Name, Out, F, S, P, D, G, HasBias, Act, WeightInit, BiasInit, R>> {
  static constexpr bool supported = act::is_identity_v<Act> || activation<Act>::supported;
  static node_id run(graph& g, const node_id* in) {
    const node_id c =
        g.conv2d(str(Name.view()), Out, F, in[0], {S, P, D, G, R}, HasBias, WeightInit::value, BiasInit::value);
    if constexpr (act::is_identity_v<Act>) return c;
    else return activation<Act>::emit(g, c);  // the twin does not fuse
  }
};
template <class N, fixed_string Name, std::size_t Vocabulary, std::size_t Width, class WeightInit>
struct emit<N, ::ctnn::embedding_op<Name, Vocabulary, Width, WeightInit>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) {
    return g.embedding(str(Name.view()), Vocabulary, Width, in[0], WeightInit::value);
  }
};
template <class N, class Cell, fixed_string Name, std::size_t H, bool Bidirectional, bool FinalOnly,
          class WeightInit, class BiasInit>
struct emit<N, ::ctnn::recurrent_op<Cell, Name, H, Bidirectional, FinalOnly, WeightInit, BiasInit>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) {
    // The sequence, then h0 (and c0) when the layer was given a state.
    const std::size_t arity = N::spec::has_state ? 1 + (Cell::has_cell_state ? 2 : 1) : 1;
    return g.recurrent<Cell>(str(Name.view()), H, std::span<const node_id>(in, arity),
                             {Bidirectional, FinalOnly}, WeightInit::value, BiasInit::value);
  }
};
template <class N, pool_kind Kind, std::size_t F, std::size_t S, std::size_t P, window_rounding R>
struct emit<N, ::ctnn::pool_op<Kind, F, S, P, R>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) {
    return Kind == pool_kind::max ? g.max_pool(in[0], F, {S, P, R}) : g.avg_pool(in[0], F, {S, P, R});
  }
};
template <class N>
struct emit<N, ::ctnn::global_avg_pool_op> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.global_avg_pool(in[0]); }
};
template <class N>
struct emit<N, ::ctnn::flatten_op> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.flatten(in[0]); }
};
template <class N>
struct emit<N, ::ctnn::concat_op> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) {
    return g.concat(std::span<const node_id>(in, N::spec::sizes.size()));
  }
};
template <class N, class F>
struct emit<N, ::ctnn::activation_op<F>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return activation<F>::emit(g, in[0]); }
};
template <class N>
struct emit<N, ::ctnn::softmax_op> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.softmax(in[0]); }
};
// The runtime elementwise ops take their batch reduction from their inputs.
template <class N, class Rule, batch_reduction Reduction>
struct emit<N, ::ctnn::binary_op<Rule, Reduction>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.emplace<runtime::binary_op<Rule>>({in[0], in[1]}); }
};
template <class N, real Factor, batch_reduction Reduction>
struct emit<N, ::ctnn::scale_op<Factor, Reduction>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.scale(in[0], float(Factor.value())); }
};
// A sequence label's steps come with the label node.
template <class N, class Rule, std::size_t Classes, loss_reduction R, std::size_t Steps>
struct emit<N, ::ctnn::label_loss_op<Rule, Classes, R, Steps>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.label_loss<Rule>(in[0], in[1], R); }
};
template <class N, class Rule, loss_reduction R>
struct emit<N, ::ctnn::target_loss_op<Rule, R>> {
  static constexpr bool supported = true;
  static node_id run(graph& g, const node_id* in) { return g.target_loss<Rule>(in[0], in[1], R); }
};

template <class Net, std::size_t I>
node_id emit_node(graph& g, const std::array<node_id, Net::node_count>& id) {
  constexpr const node_info& info = Net::infos[I];
  std::array<node_id, max_inputs> in{};
  for (std::size_t k = 0; k < info.arity; ++k) in[k] = id[info.input[k]];
  return emit<typename Net::template node_at<I>>::run(g, in.data());
}

}  // namespace detail

/// The runtime graph of `Net` (a `decltype(ctnn::network(...))`): the same
/// nodes, parameters (by name, so tied weights stay tied), loss roots and
/// outputs, and the same leaf order.
template <class Net>
graph from() {
  // The first node the twin cannot translate, reported by its kind only.
  constexpr std::size_t unsupported = []<std::size_t... I>(std::index_sequence<I...>) {
    constexpr std::array<bool, sizeof...(I)> ok{detail::emit<typename Net::template node_at<I>>::supported...};
    for (std::size_t i = 0; i < ok.size(); ++i)
      if (!ok[i]) return i;
    return ok.size();
  }(std::make_index_sequence<Net::node_count>{});
  static_assert(ctnn::diagnostic::check_unless<
                unsupported == Net::node_count,
                ctnn::diagnostic::runtime_twin_lacks_op<ctnn::detail::spec_kind<
                    typename Net::template node_at<unsupported == Net::node_count ? 0 : unsupported>::spec>()>>);
  graph g;
  std::array<node_id, Net::node_count> id{};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    // A braced list, not a fold: in order, and clang caps folds at 256 operands.
    [[maybe_unused]] int in_order[] = {0, (id[I] = detail::emit_node<Net, I>(g, id), 0)...};
  }(std::make_index_sequence<Net::node_count>{});
  for (std::size_t r : Net::loss_ids) g.loss(id[r]);
  for (std::size_t o : Net::output_ids) g.output(id[o]);
  return g;
}

}  // namespace ctnn::runtime
