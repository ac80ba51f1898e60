/// @file summary.hpp
/// A printable table of a network, computed entirely by the compiler: per
/// node its op, name, output shape, parameters, FLOPs and activation bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>

#include "ctnn/graph/network.hpp"

namespace ctnn {

namespace detail {
inline std::string pad(std::string s, std::size_t w) {
  s.append(s.size() < w ? w - s.size() : 1, ' ');  // a long value still ends with a space
  return s;
}
inline std::string grouped(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string s = buf, out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}
}  // namespace detail

/// `std::cout << ctnn::summary<Net>();`
template <class Graph, std::size_t BytesPerValue = sizeof(float)>
std::string summary() {
  using detail::grouped;
  using detail::pad;
  const auto& p = Graph::plan;
  std::size_t name_width = 16;  // wider when a name needs it (GoogLeNet's "inception_4e/3x3_reduce")
  for (std::size_t i = 0; i < Graph::node_count; ++i) name_width = std::max(name_width, p.nodes[i].name.size() + 1);
  std::string s = pad("#", 5) + pad("op", 32) + pad("name", name_width) + pad("output", 16) + pad("params", 12) +
                  pad("flops", 14) + "bytes\n";
  double bytes = 0;
  std::size_t param_total = 0;
  for (std::size_t i = 0; i < Graph::node_count; ++i) {
    const node_info& n = p.nodes[i];
    std::size_t params = 0;
    for (std::size_t j = 0; j < n.param_count; ++j)
      if (n.params[j].trainable) params += n.params[j].shape.size();
    param_total += params;
    const double b = double(n.out.size() * BytesPerValue);
    if (n.role != node_role::input) bytes += b;
    std::string kind(n.kind);
    if (p.is_loss_root[i]) kind += " (loss)";
    if (p.is_output[i]) kind += " (output)";
    s += pad(std::to_string(i), 5) + pad(kind, 32) + pad(std::string(n.name), name_width) + pad(to_string(n.out), 16) +
         pad(grouped(double(params)), 12) + pad(grouped(n.flops), 14) + grouped(b) + "\n";
  }
  s += "parameters: " + grouped(double(Graph::param_count)) + " (" + std::to_string(p.params.unique) +
       " tensors; " + grouped(double(param_total - Graph::param_count)) + " shared by name)\n";
  if (p.params.state_count) s += "non-trainable state: " + grouped(double(p.params.state_count)) + "\n";
  s += "forward flops per sample: " + grouped(Graph::flops) + "\n";
  s += "activations per sample: " + grouped(bytes) + " bytes; planned workspace per sample: training " +
       grouped(double((p.value_elems + p.scratch_elems + p.grad_elems + p.temp_elems) * BytesPerValue)) +
       " bytes, inference " + grouped(double(p.infer_elems * BytesPerValue)) + " bytes\n";
  return s;
}

}  // namespace ctnn
