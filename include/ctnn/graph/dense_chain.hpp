/// @file dense_chain.hpp
/// Whether an output of a network is a small chain of dense layers from one
/// input, x → dense → dense → … → output, that one-sample inference runs as a
/// single fused kernel (kernels/dense_chain.hpp): decided from the graph's
/// type, so a network either always takes the fused path at batch 1 or never.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "ctnn/graph/feed_check.hpp"
#include "ctnn/kernels/dense_chain.hpp"
#include "ctnn/ops/dense.hpp"

namespace ctnn::detail {

template <class Op>
struct is_dense_with_bias : std::false_type {};
template <fixed_string Name, std::size_t Out, class Act, class WeightInit, class BiasInit>
struct is_dense_with_bias<dense_op<Name, Out, true, Act, WeightInit, BiasInit>> : std::true_type {};

template <class Graph, std::size_t I>
constexpr bool is_flat_dense_node() {
  using node = typename Graph::template node_at<I>;
  if constexpr (is_dense_with_bias<typename node::op>::value) return node::spec::rows == 1;
  else return false;
}

/// The weights of a fused chain stay within this many bytes (an L1 cache):
/// beyond it the layers stream their weights from L2, the GEMM path's case.
inline constexpr std::size_t dense_chain_max_bytes = 48 * 1024;

/// Output K of Graph with scalar type T, as a dense chain: `fusable`, and the
/// chain's node ids in running order.
template <class Graph, std::size_t K, class T>
struct dense_chain_plan {
  static constexpr auto read = nodes_read<Graph, K>;
  static constexpr std::size_t length = [] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < Graph::node_count; ++i)
      n += read[i] && Graph::infos[i].role == node_role::compute;
    return n;
  }();
  static constexpr std::array<std::size_t, length> ids = [] {
    std::array<std::size_t, length> r{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < Graph::node_count; ++i)
      if (read[i] && Graph::infos[i].role == node_role::compute) r[n++] = i;
    return r;
  }();
  // Per node: a dense layer with a bias, on one sample's flat vector.
  static constexpr std::array<bool, Graph::node_count> dense_flat = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bool, Graph::node_count>{is_flat_dense_node<Graph, I>()...};
  }(std::make_index_sequence<Graph::node_count>{});

  static constexpr bool fusable = [] {
    if constexpr (length < 2) {
      return false;  // one layer is one GEMM call already
    } else {
      std::size_t bytes = 0;
      for (std::size_t c = 0; c < length; ++c) {
        const node_info& n = Graph::infos[ids[c]];
        if (!dense_flat[ids[c]] || n.arity != 1) return false;
        const std::size_t from = n.input[0];
        if (c == 0 ? Graph::infos[from].role != node_role::input : from != ids[c - 1]) return false;
        const std::size_t in = Graph::infos[from].out.size(), out = n.out.size();
        if (!kernels::chain_width_fits<T>(out, c + 1 == length)) return false;
        bytes += (in * out + out) * sizeof(T);
      }
      return ids[length - 1] == Graph::output_ids[K] && bytes <= dense_chain_max_bytes;
    }
  }();
};

}  // namespace ctnn::detail
