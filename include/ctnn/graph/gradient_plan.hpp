/// @file gradient_plan.hpp
/// Which nodes need a gradient, and for every backward write whether it
/// overwrites or adds: the planning phases the static network (graph/plan.hpp,
/// at compile time) and the runtime twin (runtime/plan.hpp, when a model is
/// built) share, so that both make the same decisions by the same code.
///
/// A phase sees a graph through a view with these members:
///   count()                 how many nodes are planned;
///   node(p)                 the p-th of them in topological order (a node id);
///   arity(i), input(i, k)   node i's inputs;
///   wants_gradient(i)       whether i owns a trainable parameter or is an
///                           input whose gradient the caller asked for;
///   param_count(i), param_trainable(i, j),
///   param_id(i, j)          node i's parameters; tied uses share one id;
///   differentiable(i, k)    whether i can give its input k a gradient.
/// Per-node flags and modes live in any container indexed by node id.
#pragma once

#include <cstddef>

#include "ctnn/ops/node.hpp"

namespace ctnn::detail {

/// A node needs a gradient when it wants one itself or reads a node that
/// needs one, and lies on a path from a loss root back to the leaves: the
/// gradient of anything else is never read. `on_path` is scratch (one flag
/// per node, cleared here).
template <class View, class Flags, class Scratch>
constexpr void mark_gradients(const View& g, const Flags& is_loss_root, Flags& needs_grad, Scratch& on_path) {
  for (std::size_t p = 0; p < g.count(); ++p) {
    const std::size_t i = g.node(p);
    bool need = g.wants_gradient(i);
    for (std::size_t k = 0; k < g.arity(i); ++k) need = need || bool(needs_grad[g.input(i, k)]);
    needs_grad[i] = need;
  }
  for (std::size_t p = 0; p < g.count(); ++p) on_path[g.node(p)] = bool(is_loss_root[g.node(p)]);
  for (std::size_t p = g.count(); p-- > 0;) {
    const std::size_t i = g.node(p);
    if (on_path[i])
      for (std::size_t k = 0; k < g.arity(i); ++k) on_path[g.input(i, k)] = true;
  }
  for (std::size_t p = 0; p < g.count(); ++p) {
    const std::size_t i = g.node(p);
    needs_grad[i] = bool(needs_grad[i]) && bool(on_path[i]);
  }
}

/// A node input that needs a gradient its node cannot give (none: there is
/// no such input).
struct gradient_gap {
  std::size_t node = std::size_t(-1), input = 0;
  constexpr bool found() const { return node != std::size_t(-1); }
};

/// The grad_mode bits of every node that needs a gradient: walking backward
/// (the last node first), the first write to an input's gradient or to a
/// parameter's overwrites it and later writes add; loss roots are seeded
/// before the walk. `written` is scratch with one flag per node, and
/// `param_written` one per parameter id, all clear.
template <class View, class Flags, class Modes, class Written, class ParamWritten>
constexpr gradient_gap assign_grad_modes(const View& g, const Flags& is_loss_root, const Flags& needs_grad,
                                         Modes& mode, Written& written, ParamWritten& param_written) {
  gradient_gap gap;
  for (std::size_t p = 0; p < g.count(); ++p) written[g.node(p)] = bool(is_loss_root[g.node(p)]);
  for (std::size_t p = g.count(); p-- > 0;) {
    const std::size_t i = g.node(p);
    if (!needs_grad[i]) continue;
    unsigned m = 0;
    for (std::size_t k = 0; k < g.arity(i); ++k) {
      const std::size_t c = g.input(i, k);
      if (!needs_grad[c]) continue;
      if (!g.differentiable(i, k) && !gap.found()) gap = {i, k};
      m |= grad_mode::input(k);
      if (written[c]) m |= grad_mode::input_accumulate(k);
      written[c] = true;
    }
    for (std::size_t j = 0; j < g.param_count(i); ++j) {
      if (!g.param_trainable(i, j)) continue;
      m |= grad_mode::param(j);
      const std::size_t id = g.param_id(i, j);
      if (param_written[id]) m |= grad_mode::param_accumulate(j);
      param_written[id] = true;
    }
    mode[i] = m;
  }
  return gap;
}

}  // namespace ctnn::detail
