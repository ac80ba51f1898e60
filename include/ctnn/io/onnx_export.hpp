/// @file onnx_export.hpp
/// Exporting a network to ONNX: `describe_onnx<Net>()` walks the nodes that
/// the network's outputs depend on (losses and labels are left out) and
/// writes each through its translation (ctnn/io/onnx_operators.hpp);
/// `export_onnx(path, model)` writes that description as JSON and the
/// model's parameters and running statistics beside it (.npz, a checkpoint),
/// which tools/onnx_export.py turns into an .onnx file. Not part of
/// <ctnn/ctnn.hpp>: include it where a network is exported.
///
/// A network with an op that has no translation does not compile:
/// CTNN_ONNX_EXPORT names the first such op by kind and layer name.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/op.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/io/graph_description.hpp"
#include "ctnn/io/onnx_operators.hpp"
#include "ctnn/train/checkpoint.hpp"

namespace ctnn::diagnostic {

/// `Kind` is the op's kind as the summary prints it ("maxout", "dense+step"),
/// `Layer` its name ("" for ops without one).
template <fixed_string Kind, fixed_string Layer>
struct op_cannot_be_exported_to_onnx {
  static_assert(Kind.size() == std::size_t(-1),
                "CTNN_ONNX_EXPORT: this op has no ONNX translation (ctnn/io/onnx_operators.hpp) and the network "
                "cannot be exported; the template arguments name the op's kind and its layer");
};

}  // namespace ctnn::diagnostic

namespace ctnn::io {

namespace detail {

/// The first node `predict` runs (an input is not run) whose op cannot be
/// exported, or node_count when there is none.
template <class Net>
constexpr std::size_t first_unexportable = []<std::size_t... I>(std::index_sequence<I...>) {
  constexpr std::array<bool, sizeof...(I)> ok{
      (!Net::plan.in_inference[I] || Net::infos[I].role == node_role::input ||
       onnx_operators<typename Net::template node_at<I>::op>::exportable)...};
  for (std::size_t i = 0; i < ok.size(); ++i)
    if (!ok[i]) return i;
  return ok.size();
}(std::make_index_sequence<Net::node_count>{});

inline std::vector<std::size_t> dims_of(const shape_info& s) {
  return std::vector<std::size_t>(s.dims.begin(), s.dims.begin() + s.rank);
}

/// A node's name in ONNX: its layer name, or its kind's first word and its
/// index ("max_pool_4"); made unique with "_<index>" (tied layers share a name).
inline std::string onnx_name(const node_info& n, std::size_t index, const std::vector<std::string>& taken) {
  std::string base(n.name);
  if (base.empty()) base = std::string(n.kind.substr(0, n.kind.find_first_of(" +"))) + "_" + std::to_string(index);
  std::string name = base;
  for (std::size_t k = 2; std::find(taken.begin(), taken.end(), name) != taken.end(); ++k)
    name = base + "_" + std::to_string(k);
  return name;
}

template <class Net, std::size_t I>
void describe_node(graph_description& g, std::vector<std::string>& tensor, std::vector<std::string>& taken) {
  constexpr const node_info& info = Net::infos[I];
  if constexpr (!Net::plan.in_inference[I]) {
    return;
  } else {
    tensor[I] = onnx_name(info, I, taken);
    taken.push_back(tensor[I]);
    if constexpr (info.role == node_role::input) {
      g.inputs.push_back({tensor[I], dims_of(info.out)});
    } else {
      using node = typename Net::template node_at<I>;
      onnx_node_context c{g, tensor[I], {}, tensor[I], {}};
      for (std::size_t k = 0; k < info.arity; ++k) c.inputs.push_back(tensor[info.input[k]]);
      c.params.assign(info.params.begin(), info.params.begin() + info.param_count);
      onnx_operators<typename node::op>::template describe<typename node::spec>(c);
    }
  }
}
}  // namespace detail
}  // namespace ctnn::io

namespace ctnn {

/// Whether every op `Net`'s outputs depend on has an ONNX translation.
template <class Net>
inline constexpr bool exportable_to_onnx = io::detail::first_unexportable<Net> == Net::node_count;

/// The ONNX graph of `Net`'s predict(): its inputs, the nodes its outputs
/// depend on, and its outputs in order; `parameters` names the .npz file of
/// its tensors. An op without a translation is CTNN_ONNX_EXPORT.
template <class Net>
io::graph_description describe_onnx(std::string name, std::string parameters) {
  constexpr std::size_t bad = io::detail::first_unexportable<Net>;
  constexpr std::size_t shown = bad == Net::node_count ? 0 : bad;
  using culprit = typename Net::template node_at<shown>;
  static_assert(diagnostic::check_unless<bad == Net::node_count,
                                         diagnostic::op_cannot_be_exported_to_onnx<
                                             ctnn::detail::spec_kind<typename culprit::spec>(), culprit::op::name>>);
  io::graph_description g;
  g.name = std::move(name);
  g.parameters = std::move(parameters);
  std::vector<std::string> tensor(Net::node_count), taken;
  if constexpr (bad == Net::node_count) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      // A braced list, not a fold: in order, and clang caps folds at 256 operands.
      [[maybe_unused]] int in_order[] = {0, (io::detail::describe_node<Net, I>(g, tensor, taken), 0)...};
    }(std::make_index_sequence<Net::node_count>{});
    for (std::size_t o : Net::output_ids) g.outputs.push_back({tensor[o], io::detail::dims_of(Net::infos[o].out)});
  }
  return g;
}

/// Writes `json` (the description of m's network, named after the file's
/// stem) and, beside it with the extension .npz, m's parameters and running
/// statistics: `tools/onnx_export.py json -o model.onnx` makes the ONNX
/// model of them. Throws std::runtime_error naming a file it cannot write.
template <class Model>
void export_onnx(const std::filesystem::path& json, Model& m) {
  std::filesystem::path npz = json;
  npz.replace_extension(".npz");
  const io::graph_description g =
      describe_onnx<typename Model::graph_type>(json.stem().string(), npz.filename().string());
  save_checkpoint(npz, m);
  std::ofstream out(json, std::ios::binary | std::ios::trunc);
  const std::string text = to_json(g);
  out.write(text.data(), std::streamsize(text.size()));
  out.close();
  if (!out) throw std::runtime_error("ctnn::export_onnx: cannot write '" + json.string() + "'");
}

}  // namespace ctnn
