/// @file plan.hpp
/// The compile-time plan of a network: who consumes what, which gradients are
/// needed and whether each write overwrites or accumulates, the parameter
/// table over one flat buffer, and workspace offsets with liveness reuse.
/// Plain constexpr code over arrays: it costs milliseconds of compile time
/// where type-level maps and sets cost minutes (see docs/design.md).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctnn/graph/gradient_plan.hpp"
#include "ctnn/graph/node_info.hpp"

namespace ctnn {

/// Every buffer starts on a 64-byte boundary for floats (and 128 for doubles):
/// offsets are in elements and rounded up to this many.
inline constexpr std::size_t align_elems = 16;
constexpr std::size_t align_up(std::size_t n) { return (n + align_elems - 1) / align_elems * align_elems; }

inline constexpr std::size_t none = std::size_t(-1);

/// A buffer that is live from step `first` to step `last` (inclusive).
struct live_range {
  std::size_t first = 0, last = 0, size = 0;
};

/// Places live ranges so that ranges alive at the same time never overlap;
/// returns the total and writes the offsets. First fit over the few ranges
/// alive at once, so the cost stays near linear in the number of buffers.
template <std::size_t N>
constexpr std::size_t place_ranges(const std::array<live_range, N>& r, std::array<std::size_t, N>& offset) {
  // Visit the ranges by first step, ties by index: a stable counting sort
  // (every caller's first steps are below N): linear, where a comparison
  // sort would cost a third of the planner's constexpr steps.
  std::array<std::size_t, N + 1> start{};
  for (std::size_t i = 0; i < N; ++i) ++start[std::min(r[i].first, N - 1) + 1];
  for (std::size_t f = 1; f <= N; ++f) start[f] += start[f - 1];
  std::array<std::size_t, N> order{};
  for (std::size_t i = 0; i < N; ++i) order[start[std::min(r[i].first, N - 1)]++] = i;
  std::array<std::size_t, N> active{};  // indices of placed, still-live ranges, by offset
  std::size_t n_active = 0, total = 0;
  for (std::size_t oi = 0; oi < N; ++oi) {
    const std::size_t i = order[oi];
    offset[i] = 0;
    if (r[i].size == 0) continue;
    std::size_t kept = 0;
    for (std::size_t a = 0; a < n_active; ++a)
      if (r[active[a]].last >= r[i].first) active[kept++] = active[a];
    n_active = kept;
    std::size_t at = 0, pos = 0;
    for (; pos < n_active; ++pos) {  // first gap large enough
      if (offset[active[pos]] >= at + r[i].size) break;
      at = std::max(at, offset[active[pos]] + r[active[pos]].size);
    }
    offset[i] = at;
    for (std::size_t a = n_active; a > pos; --a) active[a] = active[a - 1];
    active[pos] = i;
    ++n_active;
    total = std::max(total, at + r[i].size);
  }
  return total;
}

/// Where each parameter of each node lives in the flat parameter buffer.
struct param_table {
  std::size_t unique = 0;       // distinct parameters (by name)
  std::size_t floats = 0;       // length of the flat trainable buffer, with alignment
  std::size_t count = 0;        // trainable scalars, without alignment padding
  std::size_t state_floats = 0; // length of the non-trainable state buffer
  std::size_t state_count = 0;  // non-trainable scalars
  bool tie_mismatch = false;    // same name, different shapes
  std::size_t tie_a = 0, tie_b = 0;
  shape_info tie_shape_a{}, tie_shape_b{};
  bool init_mismatch = false;   // same name and shape, different initializers
  std::size_t init_a = 0;       // the node of the first use
};

template <std::size_t N>
struct graph_plan {
  std::array<node_info, N> nodes{};
  // consumers
  std::array<std::size_t, N> last_consumer{};  // none if unused
  std::array<std::size_t, N> fan_out{};
  std::array<bool, N> is_root{};
  std::array<bool, N> is_loss_root{};
  std::array<bool, N> is_output{};
  // gradients
  std::array<bool, N> needs_grad{};
  std::array<unsigned, N> grad_mask{};
  // parameters
  param_table params{};
  std::array<std::array<std::size_t, max_params>, N> param_offset{};
  // training workspace (elements per sample)
  std::array<std::size_t, N> value_offset{};    // forward outputs, all kept for backward
  std::array<std::size_t, N> scratch_offset{};
  std::array<std::size_t, N> grad_offset{};     // gradients, reused by liveness
  std::size_t value_elems = 0, scratch_elems = 0, grad_elems = 0, temp_elems = 0;
  // inference workspace (elements per sample)
  std::array<bool, N> in_inference{};
  std::array<std::size_t, N> infer_offset{};
  std::array<std::size_t, N> infer_scratch_offset{};
  std::size_t infer_elems = 0;
  // duplicate leaves
  bool leaf_clash = false;
  std::size_t clash_a = 0, clash_b = 0;
  // totals
  double flops = 0;
};

namespace detail {
/// The node facts as graph/gradient_plan.hpp's phases see a graph: nodes in
/// topological order by id, parameters by their canonical use.
template <std::size_t N>
struct static_graph_view {
  const std::array<node_info, N>& nodes;
  const std::array<std::size_t, N * max_params>& canon;  // each use -> the first use of its name
  constexpr std::size_t count() const { return N; }
  constexpr std::size_t node(std::size_t p) const { return p; }
  constexpr std::size_t arity(std::size_t i) const { return nodes[i].arity; }
  constexpr std::size_t input(std::size_t i, std::size_t k) const { return nodes[i].input[k]; }
  constexpr bool wants_gradient(std::size_t i) const {
    bool g = nodes[i].input_gradient;
    for (std::size_t j = 0; j < nodes[i].param_count; ++j) g = g || nodes[i].params[j].trainable;
    return g;
  }
  constexpr std::size_t param_count(std::size_t i) const { return nodes[i].param_count; }
  constexpr bool param_trainable(std::size_t i, std::size_t j) const { return nodes[i].params[j].trainable; }
  constexpr std::size_t param_id(std::size_t i, std::size_t j) const { return canon[i * max_params + j]; }
  constexpr bool differentiable(std::size_t, std::size_t) const { return true; }
};
}  // namespace detail

/// Builds the plan from the node facts. `roots` are the loss roots;
/// `outputs` the nodes predict() returns.
template <std::size_t N, std::size_t R, std::size_t O>
constexpr graph_plan<N> make_plan(const std::array<node_info, N>& nodes, const std::array<std::size_t, R>& roots,
                                  const std::array<std::size_t, O>& outputs) {
  graph_plan<N> p;
  p.nodes = nodes;
  for (std::size_t i = 0; i < N; ++i) p.last_consumer[i] = none;
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t k = 0; k < nodes[i].arity; ++k) {
      const std::size_t c = nodes[i].input[k];
      p.last_consumer[c] = i;  // nodes are in topological order: the last writer wins
      ++p.fan_out[c];
    }
  for (std::size_t r : roots) p.is_root[r] = p.is_loss_root[r] = true;
  for (std::size_t o : outputs) p.is_root[o] = p.is_output[o] = true;

  // Parameter table: sort all (node, slot) uses by name, then one entry per
  // name. The sort compares the names' 64-bit keys (hashed once per op type,
  // outside this evaluation) and looks at the characters only when two keys
  // are equal: tied uses, or a collision, which the name comparison resolves.
  constexpr std::size_t U = N * max_params;
  struct keyed_use {
    std::uint64_t key;
    std::size_t use;
  };
  std::array<keyed_use, U> use{};
  std::size_t n_use = 0;
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < nodes[i].param_count; ++j) use[n_use++] = {nodes[i].param_key[j], i * max_params + j};
  auto decl = [&](std::size_t u) -> const param_decl& { return nodes[u / max_params].params[u % max_params]; };
  std::sort(use.begin(), use.begin() + n_use, [&](const keyed_use& a, const keyed_use& b) {
    if (a.key != b.key) return a.key < b.key;
    const std::string_view na = decl(a.use).name, nb = decl(b.use).name;
    return na != nb ? na < nb : a.use < b.use;
  });
  std::array<std::size_t, U> canon{};  // each use -> the first use of its name
  std::size_t offset = 0, state_offset = 0;
  for (std::size_t u = 0; u < n_use; ++u) {
    const std::size_t here = use[u].use;
    const param_decl& d = decl(here);
    if (u > 0 && use[u - 1].key == use[u].key && decl(use[u - 1].use).name == d.name) {
      const std::size_t first = canon[use[u - 1].use];
      canon[here] = first;
      p.param_offset[here / max_params][here % max_params] = p.param_offset[first / max_params][first % max_params];
      if (!(decl(first).shape == d.shape && decl(first).trainable == d.trainable) && !p.params.tie_mismatch) {
        p.params.tie_mismatch = true;
        p.params.tie_a = first / max_params;
        p.params.tie_b = here / max_params;
        p.params.tie_shape_a = decl(first).shape;
        p.params.tie_shape_b = d.shape;
      }
      if (!(decl(first).init == d.init) && !p.params.init_mismatch) {
        p.params.init_mismatch = true;
        p.params.init_a = first / max_params;
      }
      continue;
    }
    canon[here] = here;
    ++p.params.unique;
    if (d.trainable) {
      p.param_offset[here / max_params][here % max_params] = offset;
      offset += align_up(d.shape.size());
      p.params.count += d.shape.size();
    } else {
      p.param_offset[here / max_params][here % max_params] = state_offset;
      state_offset += align_up(d.shape.size());
      p.params.state_count += d.shape.size();
    }
  }
  p.params.floats = offset;
  p.params.state_floats = state_offset;

  // Which nodes need gradients and how each backward write lands
  // (graph/gradient_plan.hpp, shared with the runtime twin's planner).
  const detail::static_graph_view<N> view{nodes, canon};
  std::array<bool, N> on_loss_path{}, grad_written{};
  std::array<bool, U> param_written{};
  detail::mark_gradients(view, p.is_loss_root, p.needs_grad, on_loss_path);
  detail::assign_grad_modes(view, p.is_loss_root, p.needs_grad, p.grad_mask, grad_written, param_written);

  // Training workspace. Values (except inputs, which are read in place) and
  // scratch are kept from forward to backward; gradients live from their
  // first write to their node's own backward step.
  std::size_t vo = 0, so = 0;
  std::array<live_range, N> grad_live{};
  for (std::size_t i = 0; i < N; ++i) {
    if (nodes[i].role != node_role::input) {
      p.value_offset[i] = vo;
      vo += align_up(nodes[i].out.size());
    }
    p.scratch_offset[i] = so;
    so += align_up(nodes[i].scratch);
    p.temp_elems = std::max(p.temp_elems, align_up(nodes[i].temp));
    if (p.needs_grad[i]) {
      const std::size_t first_write = p.is_loss_root[i] ? 0 : N - 1 - p.last_consumer[i];
      // An input's gradient is the caller's: it lives past the last step.
      const std::size_t last = nodes[i].role == node_role::input ? N : N - 1 - i;
      grad_live[i] = {first_write, last, align_up(nodes[i].out.size())};
    }
  }
  p.value_elems = vo;
  p.scratch_elems = so;
  p.grad_elems = place_ranges(grad_live, p.grad_offset);

  // Inference workspace: only what the outputs need, each value freed after
  // its last consumer (outputs live to the end).
  for (std::size_t o : outputs) p.in_inference[o] = true;
  for (std::size_t i = N; i-- > 0;)
    if (p.in_inference[i])
      for (std::size_t k = 0; k < nodes[i].arity; ++k) p.in_inference[nodes[i].input[k]] = true;
  std::array<std::size_t, N> last_use{};
  for (std::size_t i = 0; i < N; ++i)
    if (p.in_inference[i])
      for (std::size_t k = 0; k < nodes[i].arity; ++k) last_use[nodes[i].input[k]] = i;
  std::array<live_range, 2 * N> infer_live{};
  for (std::size_t i = 0; i < N; ++i) {
    if (!p.in_inference[i] || nodes[i].role == node_role::input) continue;
    const std::size_t last = p.is_output[i] ? N : std::max(last_use[i], i);
    infer_live[i] = {i, last, align_up(nodes[i].out.size())};
    infer_live[N + i] = {i, i, align_up(nodes[i].scratch)};
  }
  std::array<std::size_t, 2 * N> infer_off{};
  p.infer_elems = place_ranges(infer_live, infer_off);
  for (std::size_t i = 0; i < N; ++i) {
    p.infer_offset[i] = infer_off[i];
    p.infer_scratch_offset[i] = infer_off[N + i];
  }

  // Two leaves with one name are two declarations of one input.
  std::array<std::size_t, N> leaves{};
  std::size_t n_leaves = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (nodes[i].arity == 0) leaves[n_leaves++] = i;
  for (std::size_t a = 0; a < n_leaves && !p.leaf_clash; ++a)
    for (std::size_t b = a + 1; b < n_leaves && !p.leaf_clash; ++b)
      if (nodes[leaves[a]].name == nodes[leaves[b]].name) {
        p.leaf_clash = true;
        p.clash_a = leaves[a];
        p.clash_b = leaves[b];
      }

  for (std::size_t i = 0; i < N; ++i) p.flops += nodes[i].flops;
  return p;
}

}  // namespace ctnn
