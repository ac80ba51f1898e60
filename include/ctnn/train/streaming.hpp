/// @file streaming.hpp
/// A network over sequences run one time step of one sample at a time, for
/// real-time use (an audio effect: one sample in, one out, every 20 µs at
/// 48 kHz): `streaming<Net> s(model); y = s.step(feed<"x">(&sample))[0];`,
/// `s.reset()` to start a new stream.
///
/// The network is the one trained on whole sequences [T, ...]: each of its
/// inputs is a sequence whose step is one row, the recurrent layers carry
/// their state from step to step, and every other op runs on one row (its
/// spec instantiated for the row's shape: a dense layer on [D] instead of
/// [T, D]). Step t's output is the full-sequence forward's row t (or, after a
/// layer with final_state, its output for the sequence cut at t), bit for
/// bit: the recurrent layers and the dense layers compute a batch of one
/// sequence row by row, with the calls a step makes.
///
/// Everything is sized at compile time and allocated by the constructor;
/// step() and reset() allocate nothing. Parameters are copied from a model
/// (any batch size) of the same network, or initialized from a seed.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/core/diagnostics.hpp"
#include "ctnn/graph/feed.hpp"
#include "ctnn/graph/feed_check.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/kernels/recurrent.hpp"
#include "ctnn/train/initialize.hpp"
#include "ctnn/train/model.hpp"

namespace ctnn {

namespace detail::stream {

template <class S>
struct drop_first;
template <std::size_t D0>
struct drop_first<shape<D0>> {
  using type = shape<1>;  // a sequence of ids [T]: one id per step
};
template <std::size_t D0, std::size_t D1, std::size_t... Ds>
struct drop_first<shape<D0, D1, Ds...>> {
  using type = shape<D1, Ds...>;
};
template <>
struct drop_first<shape<>> {
  using type = shape<>;
};

template <class Spec>
concept stepped_recurrent = requires { Spec::stream_state_size; };

/// An op that says its row t depends on other rows (attention, position
/// codes) cannot run one step at a time; streaming refuses it by name
/// instead of instantiating it on one row.
template <class Op>
concept mixes_time_steps = Op::mixes_time_steps;

/// What one node is when the network runs step by step: the shape of one
/// step's output, whether it is a row of a sequence (or a value computed
/// from the state so far), and the spec that computes it.
template <class Graph, std::size_t I, class = std::make_index_sequence<Graph::infos[I].arity>>
struct step_node;

template <class Graph, std::size_t I>
struct input_rows {
  template <std::size_t K>
  using of = step_node<Graph, Graph::infos[I].input[K]>;
};

template <class Graph, std::size_t I, std::size_t... K>
struct step_node<Graph, I, std::index_sequence<K...>> {
  using node = typename Graph::template node_at<I>;
  using full = typename node::spec;
  static constexpr node_role role = Graph::infos[I].role;
  static constexpr bool recurrent = stepped_recurrent<full>;
  static constexpr bool across_time = mixes_time_steps<typename node::op>;
  static constexpr bool sequence = [] {
    if constexpr (role == node_role::input || role == node_role::label) return true;
    else if constexpr (recurrent) return full::stream_emits_sequence;
    else return (false || ... || input_rows<Graph, I>::template of<K>::sequence);
  }();
  using spec = decltype([] {
    if constexpr (role == node_role::input || role == node_role::label || recurrent || across_time) return full{};
    else
      return typename node::op::template spec<typename input_rows<Graph, I>::template of<K>::out_shape...>{};
  }());
  using out_shape = decltype([] {
    if constexpr (role == node_role::input || role == node_role::label || across_time)
      return typename drop_first<typename full::out_shape>::type{};
    else if constexpr (recurrent) return shape<full::out_shape::size / (full::stream_emits_sequence
                                                                            ? full::out_shape::dims[0]
                                                                            : 1)>{};
    else return typename spec::out_shape{};
  }());
  static constexpr std::size_t steps = [] {
    using in0 = typename Graph::template node_at<Graph::infos[I].arity ? Graph::infos[I].input[0] : I>::out_shape;
    if constexpr (role == node_role::input || role == node_role::label) return full::out_shape::rank ? full::out_shape::dims[0] : 1;
    else return in0::rank ? in0::dims[0] : 1;
  }();
  // A row of a sequence holds 1/T of the node's values; a value after the
  // sequence (past a final_state layer) all of them. Anything else mixes
  // time steps (a flatten into a dense, a slice of the time axis).
  static constexpr bool fits = !across_time && (sequence ? out_shape::size * steps == node::out_shape::size
                                                        : out_shape::size == node::out_shape::size);
  static constexpr bool streams = [] {
    if constexpr (recurrent) return full::streams;
    else return true;
  }();
  static constexpr std::size_t state = [] {
    if constexpr (recurrent) return full::stream_state_size;
    else return std::size_t(0);
  }();
  static constexpr std::size_t scratch = [] {
    if constexpr (role == node_role::input || role == node_role::label || recurrent || across_time) return std::size_t(0);
    else return spec::scratch_size;
  }();
};

}  // namespace detail::stream

namespace diagnostic {
/// A network runs step by step only if each op works on one step at a time.
template <fixed_string Op, fixed_string Layer, class FullShape, class StepShape>
struct op_mixes_time_steps {
  static_assert(sizeof(FullShape) == 0,
                "CTNN_STREAM_OP: streaming runs each op on one time step, and this op mixes the steps of its "
                "sequence (a bidirectional or initial-state recurrent layer, attention, a position code, or an op across the time axis); the "
                "arguments are <op kind, layer, full-sequence output shape, one step's output shape>");
};
}  // namespace diagnostic

/// Output: the index of the network output step() returns (default the first).
template <class Graph, std::size_t Output = 0, class T = float>
class streaming {
  static constexpr std::size_t N = Graph::node_count;
  static constexpr const auto& P = Graph::plan;
  static constexpr const auto& read = detail::nodes_read<Graph, Output>;
  template <std::size_t I>
  using row = detail::stream::step_node<Graph, I>;
  // Floats of node I's packed weights (a small recurrent layer's), or 0.
  template <std::size_t I>
  static constexpr std::size_t packed_floats = [] {
    if constexpr (row<I>::recurrent) return row<I>::full::template stream_packed_size<T>;
    else return std::size_t(0);
  }();

  // The first node in the output's way that cannot run step by step.
  static constexpr std::size_t blocked = []<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t b = none;
    ((b == none && read[I] && !(row<I>::fits && row<I>::streams) ? (b = I) : 0), ...);
    return b;
  }(std::make_index_sequence<N>{});
  static_assert(diagnostic::check_unless<
                blocked == none,
                diagnostic::op_mixes_time_steps<
                    detail::fixed_from<Graph::infos[blocked == none ? 0 : blocked].kind.size()>(
                        Graph::infos[blocked == none ? 0 : blocked].kind),
                    Graph::template node_at<blocked == none ? 0 : blocked>::op::name,
                    typename Graph::template node_at<blocked == none ? 0 : blocked>::out_shape,
                    typename row<blocked == none ? 0 : blocked>::out_shape>>);

  struct layout {
    std::array<std::size_t, N> value{}, state{}, scratch{}, packed{};
    std::size_t values = 0, states = 0, size = 0;
  };
  static constexpr layout L = []<std::size_t... I>(std::index_sequence<I...>) {
    layout l;
    std::size_t at = 0;
    ((l.value[I] = at, at += read[I] ? align_up(row<I>::out_shape::size) : 0), ...);
    l.values = at;
    ((l.state[I] = at, at += read[I] ? align_up(row<I>::state) : 0), ...);
    l.states = at - l.values;
    ((l.scratch[I] = at, at += read[I] ? align_up(row<I>::scratch) : 0), ...);
    ((l.packed[I] = at, at += read[I] ? align_up(packed_floats<I>) : 0), ...);
    l.size = at;
    return l;
  }(std::make_index_sequence<N>{});

 public:
  using graph_type = Graph;
  using value_type = T;
  /// One step's output: its shape, and its values per step.
  using output_shape = typename row<Graph::output_ids[Output]>::out_shape;
  static constexpr std::size_t output_size = output_shape::size;

  /// Parameters initialized as a model with this seed initializes them.
  explicit streaming(std::uint64_t seed = 0)
      : params_(P.params.floats), state_(P.params.state_floats), work_(L.size) {
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
        const param_decl& d = P.nodes[i].params[j];
        initialize_parameter((d.trainable ? params_.data() : state_.data()) + P.param_offset[i][j], d, seed);
      }
    repack();
  }
  /// The parameters of a model of the same network (trained at any batch size).
  template <std::size_t B>
  explicit streaming(const model<Graph, B, T>& m) : streaming() {
    load(m);
  }
  template <std::size_t B>
  void load(const model<Graph, B, T>& m) {
    std::copy(m.parameters().begin(), m.parameters().end(), params_.data());
    std::copy(m.state().begin(), m.state().end(), state_.data());
    repack();
    reset();
  }

  /// Starts a new stream: every recurrent state back to zeros.
  void reset() { std::fill_n(work_.data() + L.values, L.states, T(0)); }

  /// One time step: each input of the output's way, by name, one step's row
  /// (`feed<"x">(&sample)` for a one-feature signal). Returns the output's
  /// row for this step, valid until the next call.
  template <class... F>
  std::span<const T> step(const F&... feeds) {
    using match = detail::feed_match<Graph, F...>;
    static_assert((is_feed_v<F> && ...), "ctnn::streaming::step: give each input as ctnn::feed<\"name\">(row)");
    static_assert(match::unknown == none, "ctnn::streaming::step: a feed names no input of the network");
    [&]<std::size_t... S>(std::index_sequence<S...>) {
      (bind<S, match::feed_of[S]>(feeds...), ...);
    }(std::make_index_sequence<Graph::leaf_count>{});
    if (stale_) repack();
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] int in_order[] = {0, (run<I>(), 0)...};
    }(std::make_index_sequence<N>{});
    constexpr std::size_t out = Graph::output_ids[Output];
    return {value<out>(), output_size};
  }

  /// The parameters, to write between steps: the next step() reads them
  /// (small recurrent layers step from a transposed copy, refreshed then).
  std::span<T> parameters() {
    stale_ = true;
    return params_.span();
  }
  std::span<const T> parameters() const { return params_.span(); }
  /// A parameter by name, to copy in from another network that shares it
  /// (a training network with initial-state inputs, say), between steps as
  /// parameters(); throws std::out_of_range for a name the network does not have.
  std::span<T> param_span(std::string_view name) {
    stale_ = true;
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
        const param_decl& d = P.nodes[i].params[j];
        if (d.name == name)
          return {(d.trainable ? params_.data() : state_.data()) + P.param_offset[i][j], d.shape.size()};
      }
    throw std::out_of_range("ctnn::streaming: no parameter '" + std::string(name) + "' in the network");
  }

 private:
  aligned_buffer<T> params_;
  aligned_buffer<T> state_;
  aligned_buffer<T> work_;  // each node's row | recurrent states | scratch
  std::array<const T*, Graph::leaf_count> leaf_data_{};
  bool stale_ = false;  // parameters handed out for writing since the last repack

  /// The recurrent layers' packed weights from the parameters.
  void repack() {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            if constexpr (read[I] && packed_floats<I> != 0)
              row<I>::full::stream_pack(params_of<I>(), work_.data() + L.packed[I]);
          }(),
          ...);
    }(std::make_index_sequence<N>{});
    stale_ = false;
  }

  template <std::size_t I>
  std::array<T*, 4> params_of() {
    std::array<T*, 4> param{};
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((param[J] = param_ptr<I, J>()), ...);
    }(std::make_index_sequence<P.nodes[I].param_count>{});
    return param;
  }

  template <std::size_t I>
  const T* value() {
    if constexpr (P.nodes[I].role == node_role::input) {
      constexpr std::size_t slot = [] {
        for (std::size_t s = 0; s < Graph::leaf_count; ++s)
          if (Graph::leaf_ids.first[s] == I) return s;
        return none;
      }();
      return leaf_data_[slot];
    } else {
      return work_.data() + L.value[I];
    }
  }

  template <std::size_t S, std::size_t K, class... F>
  void bind(const F&... feeds) {
    constexpr std::size_t id = Graph::leaf_ids.first[S];
    if constexpr (read[id] && P.nodes[id].role == node_role::input) {
      static_assert(K != none, "ctnn::streaming::step: an input the output depends on is not fed");
      if constexpr (K != none) {
        const auto& f = detail::nth_feed<K>(feeds...);
        static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(f)>::value_type, T>,
                      "ctnn::streaming::step: feed inputs in the streaming object's scalar type");
        detail::check_feed_size(f, 1, row<id>::out_shape::size, "ctnn::streaming::step");
        leaf_data_[S] = f.data;
      }
    }
  }

  template <std::size_t I, std::size_t J>
  T* param_ptr() {
    const param_decl& d = P.nodes[I].params[J];
    return (d.trainable ? params_.data() : state_.data()) + P.param_offset[I][J];
  }

  template <std::size_t I>
  void run() {
    constexpr bool leaf = P.nodes[I].role == node_role::input || P.nodes[I].role == node_role::label;
    if constexpr (!leaf && read[I]) {
      const std::array<T*, 4> param = params_of<I>();
      T* out = work_.data() + L.value[I];
      if constexpr (row<I>::recurrent) {
        row<I>::full::stream_step(value<P.nodes[I].input[0]>(), param, work_.data() + L.packed[I],
                                  work_.data() + L.state[I], out);
      } else {
        forward_args<T> a;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
          ((a.in[K] = value<P.nodes[I].input[K]>()), ...);
        }(std::make_index_sequence<P.nodes[I].arity>{});
        a.out = out;
        a.param = param;
        a.scratch = work_.data() + L.scratch[I];
        a.training = false;
        row<I>::spec::template forward<1>(a);
      }
    }
  }
};

}  // namespace ctnn
