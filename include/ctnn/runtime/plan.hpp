/// @file plan.hpp
/// What a runtime model decides once, when it is built, and never again per
/// call: the execution order (Kahn's algorithm over the node list), which
/// nodes need gradients and whether each backward write overwrites or adds,
/// and which buffers may share memory (live ranges packed into a pool of
/// tensors). The static planner (ctnn/graph/plan.hpp) makes the same
/// decisions at compile time; the gradient ones are its own phases
/// (ctnn/graph/gradient_plan.hpp), run here when the model is built.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/graph/gradient_plan.hpp"
#include "ctnn/runtime/graph.hpp"

namespace ctnn::runtime {

inline constexpr std::size_t unplanned = std::size_t(-1);

struct schedule {
  std::vector<std::size_t> order;     // the nodes the roots need, each after its inputs
  std::vector<std::size_t> position;  // node → index in order, or unplanned
  std::vector<char> needs_grad;       // per node
  std::vector<unsigned> mode;         // per node: grad_mode bits for its backward
  std::vector<char> is_loss_root, is_output;
  std::vector<std::size_t> leaves;    // needed leaves in graph order: the order step() binds them
};

namespace detail {
// A cycle among the nodes Kahn's algorithm could not order, as "a → b → a".
// Every such node waits on at least one input that is also unordered, so
// walking back along those inputs must come round.
inline std::string describe_cycle(const graph& g, const std::vector<std::size_t>& waiting) {
  std::vector<std::size_t> seen_at(g.size(), unplanned), path;
  std::size_t i = 0;
  while (i < g.size() && waiting[i] == 0) ++i;
  while (seen_at[i] == unplanned) {
    seen_at[i] = path.size();
    path.push_back(i);
    const auto& n = g.at_node(i);
    for (std::size_t k = 0; k < n.f->arity(); ++k)
      if (waiting[n.in[k].index] != 0) {
        i = n.in[k].index;
        break;
      }
  }
  // In the direction data flows (path[p + 1] feeds path[p]), starting from
  // the earliest added node of the cycle.
  std::vector<std::size_t> cycle(path.rbegin(), path.rend() - std::ptrdiff_t(seen_at[i]));
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string s;
  for (std::size_t c : cycle) s += g.at_node(c).f->label() + " -> ";
  return s + g.at_node(cycle.front()).f->label();
}

/// The graph as graph/gradient_plan.hpp's phases see it: the scheduled
/// nodes in their order; every parameter of the twin is trainable.
struct graph_view {
  const graph& g;
  const std::vector<std::size_t>& order;
  std::size_t count() const { return order.size(); }
  std::size_t node(std::size_t p) const { return order[p]; }
  std::size_t arity(std::size_t i) const { return g.at_node(i).f->arity(); }
  std::size_t input(std::size_t i, std::size_t k) const { return g.at_node(i).in[k].index; }
  bool wants_gradient(std::size_t i) const {
    const op& f = *g.at_node(i).f;
    if (const auto* in = dynamic_cast<const input_op*>(&f)) return in->requires_grad();
    return !f.params().empty();
  }
  std::size_t param_count(std::size_t i) const { return g.at_node(i).f->params().size(); }
  bool param_trainable(std::size_t, std::size_t) const { return true; }
  std::size_t param_id(std::size_t i, std::size_t j) const { return g.at_node(i).param[j]; }
  bool differentiable(std::size_t i, std::size_t k) const { return g.at_node(i).f->differentiable(k); }
};
}  // namespace detail

inline schedule make_schedule(const graph& g) {
  const std::size_t n = g.size();
  schedule s;
  s.position.assign(n, unplanned);
  s.needs_grad.assign(n, 0);
  s.mode.assign(n, 0);
  s.is_loss_root.assign(n, 0);
  s.is_output.assign(n, 0);
  if (g.losses().empty() && g.outputs().empty())
    throw std::invalid_argument("ctnn::runtime: the graph has no loss and no output; declare them with "
                                "graph::loss() and graph::output()");
  for (node_id r : g.losses()) s.is_loss_root[r.index] = 1;
  for (node_id o : g.outputs()) s.is_output[o.index] = 1;

  // The nodes the roots need: a depth-first walk back along the inputs.
  std::vector<char> needed(n, 0);
  std::vector<std::size_t> stack;
  for (std::size_t i = 0; i < n; ++i)
    if (s.is_loss_root[i] || s.is_output[i]) stack.push_back(i);
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    if (needed[i]) continue;
    needed[i] = 1;
    const auto& nd = g.at_node(i);
    for (std::size_t k = 0; k < nd.f->arity(); ++k) stack.push_back(nd.in[k].index);
  }

  // Kahn's algorithm; among the ready nodes the earliest added goes first, so
  // a graph built in order runs in the order it was written.
  std::vector<std::size_t> waiting(n, 0);  // inputs not yet ordered
  std::vector<std::vector<std::size_t>> consumers(n);
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!needed[i]) continue;
    ++count;
    const auto& nd = g.at_node(i);
    for (std::size_t k = 0; k < nd.f->arity(); ++k) {
      ++waiting[i];
      consumers[nd.in[k].index].push_back(i);
    }
  }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (needed[i] && waiting[i] == 0) ready.push(i);
  while (!ready.empty()) {
    const std::size_t i = ready.top();
    ready.pop();
    s.position[i] = s.order.size();
    s.order.push_back(i);
    for (std::size_t c : consumers[i])
      if (--waiting[c] == 0) ready.push(c);
  }
  if (s.order.size() != count)
    throw std::invalid_argument("ctnn::runtime: the graph has a cycle: " + detail::describe_cycle(g, waiting));

  for (std::size_t i = 0; i < n; ++i)
    if (needed[i] && g.at_node(i).f->arity() == 0) s.leaves.push_back(i);

  // Which nodes need gradients and how each backward write lands: the
  // static planner's phases (graph/gradient_plan.hpp), over the order above.
  const detail::graph_view view{g, s.order};
  std::vector<char> scratch(n, 0), param_written(g.params().size(), 0);
  ctnn::detail::mark_gradients(view, s.is_loss_root, s.needs_grad, scratch);
  const ctnn::detail::gradient_gap gap =
      ctnn::detail::assign_grad_modes(view, s.is_loss_root, s.needs_grad, s.mode, scratch, param_written);
  if (gap.found()) {
    const auto& nd = g.at_node(gap.node);
    throw std::invalid_argument("ctnn::runtime: " + nd.f->label() + " cannot give its input " +
                                std::to_string(gap.input) + " (" + g.at_node(nd.in[gap.input].index).f->label() +
                                ") a gradient");
  }
  return s;
}

/// A buffer needed from step `first` to step `last`, inclusive.
struct live_range {
  std::size_t first = 0, last = 0, size = 0;
};

/// Buffers packed into a few tensors: a range takes a tensor whose tenant is
/// dead (the best fit, or else the largest, grown), or a new one.
struct pool_plan {
  std::vector<std::size_t> slot;      // per range; unplanned for size 0
  std::vector<std::size_t> capacity;  // per tensor, in elements
};

inline pool_plan plan_pool(const std::vector<live_range>& r) {
  pool_plan p;
  p.slot.assign(r.size(), unplanned);
  std::vector<std::size_t> by_first(r.size()), busy_until;
  for (std::size_t i = 0; i < r.size(); ++i) by_first[i] = i;
  std::stable_sort(by_first.begin(), by_first.end(), [&](std::size_t a, std::size_t b) { return r[a].first < r[b].first; });
  for (std::size_t i : by_first) {
    if (r[i].size == 0) continue;
    std::size_t best = unplanned;
    for (std::size_t t = 0; t < p.capacity.size(); ++t) {
      if (busy_until[t] >= r[i].first) continue;
      if (best == unplanned) best = t;
      const bool fits = p.capacity[t] >= r[i].size, best_fits = p.capacity[best] >= r[i].size;
      if (fits ? (!best_fits || p.capacity[t] < p.capacity[best]) : (!best_fits && p.capacity[t] > p.capacity[best]))
        best = t;
    }
    if (best == unplanned) {
      best = p.capacity.size();
      p.capacity.push_back(0);
      busy_until.push_back(0);
    }
    p.capacity[best] = std::max(p.capacity[best], r[i].size);
    busy_until[best] = r[i].last;
    p.slot[i] = best;
  }
  return p;
}

}  // namespace ctnn::runtime
