/// @file onnx_operators.hpp
/// How each op is written as ONNX operators (opset 13) for export:
/// `onnx_operators<Op>` says whether the op can be exported and, given its
/// spec, appends its ONNX nodes and initializers to a graph description
/// (ctnn/io/graph_description.hpp). Every translation is exact: an exported
/// network computes what the ctnn network's predict() computes, in float.
/// An op without a translation (the primary template) cannot be exported;
/// ctnn/io/onnx_export.hpp reports it by kind and name at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/core/real.hpp"
#include "ctnn/io/graph_description.hpp"
#include "ctnn/ops/activation.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/ops/batch_norm.hpp"
#include "ctnn/ops/channel_dropout.hpp"
#include "ctnn/ops/conv2d.hpp"
#include "ctnn/ops/dense.hpp"
#include "ctnn/ops/dropout.hpp"
#include "ctnn/ops/flatten.hpp"
#include "ctnn/ops/log_softmax.hpp"
#include "ctnn/ops/node.hpp"
#include "ctnn/ops/pool.hpp"
#include "ctnn/ops/window.hpp"

namespace ctnn::io {

/// What a translation writes one node with: the node's unique name (its
/// layer name, or e.g. "max_pool_3"), the tensors it reads and the tensor
/// its value must end in, and its parameter declarations.
struct onnx_node_context {
  graph_description& graph;
  std::string name;
  std::vector<std::string> inputs;
  std::string output;
  std::vector<param_decl> params;

  /// An intermediate tensor of this node, named after the operator writing it.
  std::string tensor(std::string_view op_type) const { return name + "/" + std::string(op_type); }

  /// Appends an ONNX node "<name>/<op_type>" (the importer recovers the
  /// layer name from it, as from PyTorch's "/fc1/Gemm").
  void add(std::string_view op_type, std::vector<std::string> in, std::string out,
           std::vector<onnx_attribute> attributes = {}) {
    graph.nodes.push_back(
        {std::string(op_type), tensor(op_type), std::move(in), {std::move(out)}, std::move(attributes)});
  }

  /// Parameter j as an initializer named like the parameter ("fc1.weight"),
  /// its axes in the order `permutation` gives (ONNX axis k is ctnn axis
  /// permutation[k]); a tied parameter is one initializer per axis order.
  std::string parameter(std::size_t j, std::vector<std::size_t> permutation = {}) {
    const param_decl& d = params[j];
    std::string name(d.name);
    for (const onnx_initializer& t : graph.initializers)
      if (t.array == d.name && t.permutation == permutation) return t.name;
    for (const onnx_initializer& t : graph.initializers)
      if (t.name == name) name += "/transposed";  // the same tensor in another axis order
    std::vector<std::size_t> shape(d.shape.dims.begin(), d.shape.dims.begin() + d.shape.rank);
    if (!permutation.empty()) {
      std::vector<std::size_t> permuted;
      for (std::size_t k : permutation) permuted.push_back(shape[k]);
      shape = permuted;
    }
    graph.initializers.push_back({name, std::string(d.name), std::move(permutation), std::move(shape), {}});
    return name;
  }

  /// A float scalar initializer of this node ("<name>/<what>").
  std::string scalar(std::string_view what, double value) {
    std::string n = tensor(what);
    graph.initializers.push_back({n, "", {}, {}, {value}});
    return n;
  }
};

/// The ONNX operator of an elementwise activation; `exportable` false for
/// those ONNX lacks (the perceptron's step).
template <class F>
struct onnx_activation {
  static constexpr bool exportable = false;
};
template <>
struct onnx_activation<act::identity> {
  static constexpr bool exportable = true;
  static void add(onnx_node_context& c, std::string in, std::string out) { c.add("Identity", {std::move(in)}, out); }
};
template <>
struct onnx_activation<act::relu> {
  static constexpr bool exportable = true;
  static void add(onnx_node_context& c, std::string in, std::string out) { c.add("Relu", {std::move(in)}, out); }
};
template <>
struct onnx_activation<act::sigmoid> {
  static constexpr bool exportable = true;
  static void add(onnx_node_context& c, std::string in, std::string out) { c.add("Sigmoid", {std::move(in)}, out); }
};
template <>
struct onnx_activation<act::tanh> {
  static constexpr bool exportable = true;
  static void add(onnx_node_context& c, std::string in, std::string out) { c.add("Tanh", {std::move(in)}, out); }
};
// ONNX keeps alpha as a float32, which is what a float model computes with.
template <real Slope>
struct onnx_activation<act::leaky_relu<Slope>> {
  static constexpr bool exportable = true;
  static void add(onnx_node_context& c, std::string in, std::string out) {
    c.add("LeakyRelu", {std::move(in)}, out, {float_attribute("alpha", Slope.value())});
  }
};
template <real Alpha>
struct onnx_activation<act::elu<Alpha>> {
  static constexpr bool exportable = true;
  static void add(onnx_node_context& c, std::string in, std::string out) {
    c.add("Elu", {std::move(in)}, out, {float_attribute("alpha", Alpha.value())});
  }
};

namespace detail {
/// An op's output through its fused activation: the op writes `out` itself
/// when there is none, else an intermediate the activation reads.
template <class Act>
std::string before_activation(const onnx_node_context& c, std::string_view op_type) {
  return act::is_identity_v<Act> ? c.output : c.tensor(op_type);
}
template <class Act>
void fused_activation(onnx_node_context& c, std::string_view op_type) {
  if constexpr (!act::is_identity_v<Act>) onnx_activation<Act>::add(c, c.tensor(op_type), c.output);
}
// A square window's kernel_shape, strides or dilations, and its pads (begin and end of both axes).
inline std::vector<std::int64_t> both_axes(std::size_t v) { return std::vector<std::int64_t>(2, std::int64_t(v)); }
inline std::vector<std::int64_t> all_sides(std::size_t v) { return std::vector<std::int64_t>(4, std::int64_t(v)); }
}  // namespace detail

/// The primary template: an op with no ONNX translation.
template <class Op>
struct onnx_operators {
  static constexpr bool exportable = false;
};

/// dense: Gemm (transB = 1: ONNX's usual [out, in] weight, ctnn's [in, out]
/// transposed) on a flat input; on a sequence [T, in], MatMul with the
/// weight as it is, then Add of the bias. Then the fused activation.
template <fixed_string Name, std::size_t Out, bool HasBias, class Act, class WeightInit, class BiasInit>
struct onnx_operators<dense_op<Name, Out, HasBias, Act, WeightInit, BiasInit>> {
  static constexpr bool exportable = onnx_activation<Act>::exportable;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    if constexpr (Spec::out_shape::rank == 1) {
      std::vector<std::string> in{c.inputs[0], c.parameter(0, {1, 0})};
      if constexpr (HasBias) in.push_back(c.parameter(1));
      c.add("Gemm", std::move(in), detail::before_activation<Act>(c, "Gemm"), {int_attribute("transB", 1)});
      detail::fused_activation<Act>(c, "Gemm");
    } else if constexpr (HasBias) {
      c.add("MatMul", {c.inputs[0], c.parameter(0)}, c.tensor("MatMul"));
      c.add("Add", {c.tensor("MatMul"), c.parameter(1)}, detail::before_activation<Act>(c, "Add"));
      detail::fused_activation<Act>(c, "Add");
    } else {
      c.add("MatMul", {c.inputs[0], c.parameter(0)}, detail::before_activation<Act>(c, "MatMul"));
      detail::fused_activation<Act>(c, "MatMul");
    }
  }
};

/// conv2d: Conv, whose weight [C_out, C_in/G, F, F] is ctnn's layout; ONNX
/// rounds the output size down, as floor_mode does (and exact needs none).
template <fixed_string Name, std::size_t Out, std::size_t F, std::size_t S, std::size_t P, std::size_t D,
          std::size_t G, bool HasBias, class Act, class WeightInit, class BiasInit, window_rounding R>
struct onnx_operators<conv2d_op<Name, Out, F, S, P, D, G, HasBias, Act, WeightInit, BiasInit, R>> {
  static constexpr bool exportable = onnx_activation<Act>::exportable;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    std::vector<std::string> in{c.inputs[0], c.parameter(0)};
    if constexpr (HasBias) in.push_back(c.parameter(1));
    c.add("Conv", std::move(in), detail::before_activation<Act>(c, "Conv"),
          {ints_attribute("kernel_shape", detail::both_axes(F)), ints_attribute("strides", detail::both_axes(S)),
           ints_attribute("pads", detail::all_sides(P)), ints_attribute("dilations", detail::both_axes(D)),
           int_attribute("group", std::int64_t(G))});
    detail::fused_activation<Act>(c, "Conv");
  }
};

/// max_pool: MaxPool (padding is ignored, as ctnn's); ceil_mode 1 for
/// ceil_mode. avg_pool: AveragePool dividing by F·F, padding included
/// (count_include_pad 1), as ctnn does; not with ceil_mode, where a window
/// past the padding would be divided by F·F in ctnn and by less in ONNX.
template <pool_kind Kind, std::size_t F, std::size_t S, std::size_t P, window_rounding R>
struct onnx_operators<pool_op<Kind, F, S, P, R>> {
  static constexpr bool exportable = Kind == pool_kind::max || R != window_rounding::ceil;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    std::vector<onnx_attribute> a{ints_attribute("kernel_shape", detail::both_axes(F)),
                                  ints_attribute("strides", detail::both_axes(S)),
                                  ints_attribute("pads", detail::all_sides(P))};
    if constexpr (Kind == pool_kind::max) {
      if constexpr (R == window_rounding::ceil) a.push_back(int_attribute("ceil_mode", 1));
      c.add("MaxPool", {c.inputs[0]}, c.output, std::move(a));
    } else {
      a.push_back(int_attribute("count_include_pad", 1));
      c.add("AveragePool", {c.inputs[0]}, c.output, std::move(a));
    }
  }
};

/// global_avg_pool: GlobalAveragePool gives [C, 1, 1], ctnn [C]: Flatten
/// makes it ctnn's shape, so that a Gemm can read it.
template <>
struct onnx_operators<global_avg_pool_op> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("GlobalAveragePool", {c.inputs[0]}, c.tensor("GlobalAveragePool"));
    c.add("Flatten", {c.tensor("GlobalAveragePool")}, c.output, {int_attribute("axis", 1)});
  }
};

template <>
struct onnx_operators<flatten_op> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("Flatten", {c.inputs[0]}, c.output, {int_attribute("axis", 1)});
  }
};

/// batch_norm: BatchNormalization in inference, by the running statistics
/// (ONNX's momentum has ctnn's meaning: the running value's weight).
template <fixed_string Name, real Momentum, real Epsilon>
struct onnx_operators<batch_norm_op<Name, Momentum, Epsilon>> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("BatchNormalization", {c.inputs[0], c.parameter(0), c.parameter(1), c.parameter(2), c.parameter(3)},
          c.output, {float_attribute("epsilon", Epsilon.value()), float_attribute("momentum", Momentum.value())});
  }
};

template <class F>
struct onnx_operators<activation_op<F>> {
  static constexpr bool exportable = onnx_activation<F>::exportable;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    onnx_activation<F>::add(c, c.inputs[0], c.output);
  }
};

/// softmax and log_softmax: over the last axis (ctnn's softmax takes a flat
/// vector, log_softmax also each row of a sequence).
template <>
struct onnx_operators<softmax_op> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("Softmax", {c.inputs[0]}, c.output, {int_attribute("axis", -1)});
  }
};
template <>
struct onnx_operators<log_softmax_op> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("LogSoftmax", {c.inputs[0]}, c.output, {int_attribute("axis", -1)});
  }
};

/// dropout and channel_dropout: Dropout with their ratio, in inference (no
/// training_mode input): the identity, as ctnn's predict().
template <real P>
struct onnx_operators<dropout_op<P>> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("Dropout", {c.inputs[0], c.scalar("ratio", P.value())}, c.output);
  }
};
template <real P>
struct onnx_operators<channel_dropout_op<P>> {
  static constexpr bool exportable = true;
  template <class Spec>
  static void describe(onnx_node_context& c) {
    c.add("Dropout", {c.inputs[0], c.scalar("ratio", P.value())}, c.output);
  }
};

}  // namespace ctnn::io
