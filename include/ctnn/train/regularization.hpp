/// @file regularization.hpp
/// Weight penalties and the max-norm constraint over exactly the parameters
/// that are regularized, found at compile time from the network's parameter
/// table.
///
/// Which parameters: every trainable parameter whose declaration says
/// `regularize` (ctnn::param_decl): the weights of dense layers and
/// variables, not biases, batch norm's γ and β, nor running statistics (those
/// are not trainable at all). This follows the seeds (002, "Regularization":
/// L2 and L1 are "only applied on weights, not on biases"). Asked for with
/// `IncludeAll = true` (the trainer's `regularize_all`), every trainable
/// parameter is included. A tied parameter (one name used by several ops) is
/// one tensor and appears once; it is regularized if any of its declarations
/// says so.
///
/// The penalties act on the gradient, before the optimizer's update:
///   L2 (weight decay)   g += λ₂·w          loss ½·λ₂·‖w‖²
///   L1                  g += λ₁·sign(w)    loss λ₁·‖w‖₁      (sign(0) = 0)
///   elastic net         both
/// (The seeds write the L2 penalty as λ·‖W‖², whose gradient is 2λW; ctnn
/// uses the ½ so that λ₂ is the weight-decay factor itself, as the
/// optimizers' `weight_decay` is.) The constraint acts on the parameters,
/// after the update: max-norm clamps the L2 norm of each unit's incoming
/// weight vector to at most c. A dense weight is [in, out], so a unit's
/// incoming weights are one column; every regularized parameter of rank 2 is
/// constrained column by column.
///
/// All passes take the model's flat, 64-byte-aligned parameter and gradient
/// buffers (`model.parameters().data()`, `model.gradients().data()`). The
/// ranges are a constexpr array; each starts on an aligned element and is one
/// xsimd-vectorized loop (a vector body, then the scalar tail).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ctnn/core/shape.hpp"
#include "ctnn/graph/node_info.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/train/optim/common.hpp"

namespace ctnn {

/// One trainable tensor of a network: where it lives in the flat trainable
/// buffer, its shape, and whether it is regularized. Tied parameters appear
/// once, named by their first declaration.
struct param_entry {
  std::string_view name;
  std::size_t offset = 0;  // elements from the start of the flat parameter buffer
  shape_info shape{};
  bool regularize = true;
};

/// A range of the flat parameter (and gradient) buffer.
struct param_range {
  std::size_t offset = 0, size = 0;
};

/// A rank-2 parameter [rows, cols] for the max-norm constraint: `cols` units,
/// each with `rows` incoming weights.
struct param_matrix {
  std::size_t offset = 0, rows = 0, cols = 0;
};

namespace detail {

// Every trainable (node, slot) use, sorted by offset; uses of one tensor share
// an offset (the planner gives each name one slot), so equal neighbours are
// one tensor. O(n log n), no pairwise name comparisons.
template <class Graph>
struct trainable_table {
  static constexpr std::size_t U = Graph::node_count * max_params;
  static constexpr auto found = [] {
    const auto& p = Graph::plan;
    std::array<param_entry, U> use{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < Graph::node_count; ++i)
      for (std::size_t j = 0; j < p.nodes[i].param_count; ++j) {
        const param_decl& d = p.nodes[i].params[j];
        if (!d.trainable || d.shape.size() == 0) continue;
        use[n++] = {d.name, p.param_offset[i][j], d.shape, d.regularize};
      }
    std::sort(use.begin(), use.begin() + n, [](const param_entry& a, const param_entry& b) {
      return a.offset != b.offset ? a.offset < b.offset : a.name < b.name;
    });
    std::array<param_entry, U> unique{};
    std::size_t m = 0;
    for (std::size_t u = 0; u < n; ++u) {
      if (m > 0 && unique[m - 1].offset == use[u].offset) {
        unique[m - 1].regularize = unique[m - 1].regularize || use[u].regularize;
        continue;
      }
      unique[m++] = use[u];
    }
    return std::pair{unique, m};
  }();
  static constexpr auto entries = [] {
    std::array<param_entry, found.second> e{};
    for (std::size_t k = 0; k < found.second; ++k) e[k] = found.first[k];
    return e;
  }();
};

template <class Graph, bool IncludeAll>
struct regularized_table {
  static constexpr const auto& all = trainable_table<Graph>::entries;
  static constexpr std::size_t count = [] {
    std::size_t n = 0;
    for (const param_entry& e : all) n += (IncludeAll || e.regularize) ? 1 : 0;
    return n;
  }();
  static constexpr auto ranges = [] {
    std::array<param_range, count> r{};
    std::size_t n = 0;
    for (const param_entry& e : all)
      if (IncludeAll || e.regularize) r[n++] = {e.offset, e.shape.size()};
    return r;
  }();
  static constexpr std::size_t matrix_count = [] {
    std::size_t n = 0;
    for (const param_entry& e : all) n += ((IncludeAll || e.regularize) && e.shape.rank == 2) ? 1 : 0;
    return n;
  }();
  static constexpr auto matrices = [] {
    std::array<param_matrix, matrix_count> r{};
    std::size_t n = 0;
    for (const param_entry& e : all)
      if ((IncludeAll || e.regularize) && e.shape.rank == 2) r[n++] = {e.offset, e.shape.dims[0], e.shape.dims[1]};
    return r;
  }();
};

// One pass over [0, n) of a range that starts 64-byte aligned (every
// parameter does): body<vec<T>>(i) while a whole vector fits, then body<T>(i)
// for the tail. The ranges are compile-time constants, but the loop over them
// is not unrolled: one instantiation serves every range, however many
// tensors the network has (binary size), and the passes are memory-bound.
template <class T, class Body>
inline void range_pass(std::size_t n, Body body) {
  constexpr std::size_t L = kernels::lanes<T>;
  const std::size_t nv = n / L * L;
  for (std::size_t i = 0; i < nv; i += L) body.template operator()<kernels::vec<T>>(i);
  for (std::size_t i = nv; i < n; ++i) body.template operator()<T>(i);
}

template <class X>
inline X signum(const X& x) {
  if constexpr (std::is_floating_point_v<X>) {
    return X(x > X(0)) - X(x < X(0));
  } else {
    return xsimd::select(x > X(0), X(1), X(0)) - xsimd::select(x < X(0), X(1), X(0));
  }
}
template <class X>
inline X magnitude(const X& x) {
  if constexpr (std::is_floating_point_v<X>) return std::abs(x);
  else return xsimd::abs(x);
}

}  // namespace detail

/// Every trainable tensor of the network, tied ones once, in buffer order.
template <class Graph>
inline constexpr const auto& trainable_tensors = detail::trainable_table<Graph>::entries;

/// The (offset, size) ranges of the flat parameter buffer that regularization
/// applies to: the `regularize` parameters, or with IncludeAll every
/// trainable one. Computed at compile time from Graph::plan.
template <class Graph, bool IncludeAll = false>
inline constexpr const auto& regularized_ranges = detail::regularized_table<Graph, IncludeAll>::ranges;

/// The rank-2 regularized parameters: what max-norm constrains.
template <class Graph, bool IncludeAll = false>
inline constexpr const auto& max_norm_matrices = detail::regularized_table<Graph, IncludeAll>::matrices;

/// g += l2·w + l1·sign(w) over the regularized ranges (w, g: the model's flat
/// parameter and gradient buffers), one vectorized pass per range. Nothing is
/// done when both are 0.
template <class Graph, bool IncludeAll = false, class T>
void add_regularization_gradient(const T* w, T* g, T l2, T l1) {
  if (l2 == T(0) && l1 == T(0)) return;
  for (const param_range& r : regularized_ranges<Graph, IncludeAll>) {
    const T* wr = w + r.offset;
    T* gr = g + r.offset;
    detail::range_pass<T>(r.size, [&]<class X>(std::size_t i) {
      const X wi = optim::detail::load<X>(wr + i);
      const X gi = optim::detail::fma(X(l2), wi, optim::detail::load<X>(gr + i));
      optim::detail::store(gr + i, optim::detail::fma(X(l1), detail::signum(wi), gi));
    });
  }
}

/// The regularization loss ½·l2·‖w‖² + l1·‖w‖₁ over the regularized ranges,
/// for reporting: the trainer's step() returns the data loss only, so the
/// objective being minimized is step()'s value plus this one.
template <class Graph, bool IncludeAll = false, class T>
T regularization_loss(const T* w, T l2, T l1) {
  if (l2 == T(0) && l1 == T(0)) return T(0);
  kernels::vec<T> sq(T(0)), ab(T(0));
  T sq_tail = 0, ab_tail = 0;
  for (const param_range& r : regularized_ranges<Graph, IncludeAll>) {
    const T* wr = w + r.offset;
    detail::range_pass<T>(r.size, [&]<class X>(std::size_t i) {
      const X wi = optim::detail::load<X>(wr + i);
      if constexpr (std::is_same_v<X, T>) {
        sq_tail += wi * wi;
        ab_tail += detail::magnitude(wi);
      } else {
        sq = optim::detail::fma(wi, wi, sq);
        ab += detail::magnitude(wi);
      }
    });
  }
  const T s2 = xsimd::hadd(sq) + sq_tail, s1 = xsimd::hadd(ab) + ab_tail;
  return T(0.5) * l2 * s2 + l1 * s1;
}

/// Clamps the L2 norm of each column of a [rows, cols] row-major matrix (each
/// unit's incoming weights) to at most c: a column with norm > c is scaled by
/// c/norm, every other column is left bit for bit as it was. Per block of up
/// to 256 columns: one pass over the rows for the norms (vectorized across
/// columns), and a second one only if some column of the block is over the
/// limit. No allocation (the block's norms live on the stack).
template <class T>
void max_norm_columns(T* w, std::size_t rows, std::size_t cols, T c) {
  using V = kernels::vec<T>;
  constexpr std::size_t L = kernels::lanes<T>;
  constexpr std::size_t block = 256;
  alignas(64) T scale[block];
  for (std::size_t j0 = 0; j0 < cols; j0 += block) {
    const std::size_t width = std::min(block, cols - j0);
    const std::size_t wv = width / L * L;
    for (std::size_t k = 0; k < width; ++k) scale[k] = T(0);
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = w + r * cols + j0;
      std::size_t k = 0;
      for (; k < wv; k += L) {
        const V x = V::load_unaligned(row + k);
        optim::detail::fma(x, x, V::load_aligned(scale + k)).store_aligned(scale + k);
      }
      for (; k < width; ++k) scale[k] = row[k] * row[k] + scale[k];
    }
    bool any_over = false;
    for (std::size_t k = 0; k < width; ++k) {
      const T norm = std::sqrt(scale[k]);
      const bool over = norm > c;
      any_over = any_over || over;
      scale[k] = over ? c / norm : T(1);
    }
    if (!any_over) continue;
    for (std::size_t r = 0; r < rows; ++r) {
      T* row = w + r * cols + j0;
      std::size_t k = 0;
      for (; k < wv; k += L) (V::load_unaligned(row + k) * V::load_aligned(scale + k)).store_unaligned(row + k);
      for (; k < width; ++k) row[k] = row[k] * scale[k];  // × 1 is exact: columns within the limit do not change
    }
  }
}

/// The max-norm constraint on every rank-2 regularized parameter (after the
/// optimizer's update). c must be positive.
template <class Graph, bool IncludeAll = false, class T>
void apply_max_norm(T* w, T c) {
  for (const param_matrix& m : max_norm_matrices<Graph, IncludeAll>) max_norm_columns(w + m.offset, m.rows, m.cols, c);
}

}  // namespace ctnn
