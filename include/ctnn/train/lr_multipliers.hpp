/// @file lr_multipliers.hpp
/// Per-parameter learning-rate multipliers and frozen parameters (transfer
/// learning, seed 003: "train green, freeze everything else", and "a smaller
/// learning rate for ConvNet weights that are being fine-tuned").
///
/// A multiplier m scales a tensor's *update*: the trainer keeps a copy of
/// the tensor before the optimizer's fused pass and afterwards sets
///   w ← w_before + m·(w_after − w_before).
/// For every per-step optimizer here (SGD, Nesterov, AdaGrad, RMSProp, Adam)
/// the update is proportional to lr, so this is exactly training that tensor
/// with lr·m. Scaling the gradient instead would not be: Adam, RMSProp and
/// AdaGrad divide the gradient by its own running magnitude, so a gradient
/// scaled by m gives the same update.
///
/// m = 0 freezes the tensor: its gradient is set to 0 before clipping (so it
/// counts neither in the global gradient norm nor in the optimizer's moment
/// estimates), and its values are copied back after the update and again
/// after the max-norm constraint, so neither momentum carried over from
/// earlier steps, nor weight decay, nor the constraint can move it: a frozen
/// tensor stays bit for bit as it was.
///
/// Tensors are named by their full name ("fc1.weight") or by their layer
/// ("fc1": every trainable tensor whose name starts with "fc1."). The ranges
/// in the flat buffer come from the compile-time parameter table
/// (trainable_tensors<Graph>); setting a multiplier rebuilds the list of
/// affected ranges and allocates the copy buffer, so step() itself allocates
/// nothing. Only trainable tensors can be frozen: batch norm's running
/// statistics are updated by the training forward pass, not by the optimizer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/train/regularization.hpp"

namespace ctnn {

template <class Graph, class T = float>
class lr_multipliers {
  static constexpr const auto& tensors = trainable_tensors<Graph>;
  static constexpr std::size_t count = tensors.size();

 public:
  lr_multipliers() : multiplier_(count, 1.0) {}

  /// Sets the multiplier of the named tensors (a full name or a layer name);
  /// m must be finite and ≥ 0. Throws std::invalid_argument for a bad m or a
  /// name that matches no trainable tensor (the message lists them). Kept as
  /// double and applied as T(m), like the optimizers' lr.
  void set(std::string_view name, double m) {
    if (!(m >= 0.0) || !std::isfinite(m))
      throw std::invalid_argument("ctnn: the learning-rate multiplier of '" + std::string(name) +
                                  "' must be a finite value >= 0 (0 freezes it)");
    const std::vector<std::size_t> hit = match(name);
    for (std::size_t k : hit) multiplier_[k] = m;
    rebuild();
  }
  void freeze(std::string_view name) { set(name, 0.0); }
  /// Every multiplier back to 1.
  void reset() {
    std::fill(multiplier_.begin(), multiplier_.end(), 1.0);
    rebuild();
  }

  /// The multiplier of one trainable tensor, by full name.
  double multiplier(std::string_view name) const {
    for (std::size_t k = 0; k < count; ++k)
      if (tensors[k].name == name) return multiplier_[k];
    throw std::invalid_argument(unknown("no trainable tensor named '" + std::string(name) + "'"));
  }
  /// The full names of the frozen tensors, sorted.
  std::vector<std::string> frozen() const {
    std::vector<std::string> out;
    for (std::size_t k = 0; k < count; ++k)
      if (multiplier_[k] == 0.0) out.emplace_back(tensors[k].name);
    std::sort(out.begin(), out.end());
    return out;
  }
  /// Whether any multiplier differs from 1.
  bool active() const { return !ranges_.empty(); }

  /// Before clipping and the update: zeroes the frozen gradients and copies
  /// every tensor whose multiplier is not 1.
  void before_update(const T* w, T* g) {
    for (const range& r : ranges_) {
      if (r.m == 0.0) std::fill_n(g + r.offset, r.size, T(0));
      std::copy_n(w + r.offset, r.size, copy_.data() + r.copy);
    }
  }
  /// After the update: w ← w_before + m·(w − w_before); frozen tensors are
  /// copied back exactly.
  void after_update(T* w) const {
    for (const range& r : ranges_) {
      const T* before = copy_.data() + r.copy;
      T* wr = w + r.offset;
      if (r.m == 0.0) {
        std::copy_n(before, r.size, wr);
        continue;
      }
      const T m = T(r.m);
      detail::range_pass<T>(r.size, [&]<class X>(std::size_t i) {
        const X b = optim::detail::load<X>(before + i);
        optim::detail::store(wr + i, optim::detail::fma(X(m), optim::detail::load<X>(wr + i) - b, b));
      });
    }
  }
  /// After the constraints (max-norm): the frozen tensors copied back again.
  void restore_frozen(T* w) const {
    for (const range& r : ranges_)
      if (r.m == 0.0) std::copy_n(copy_.data() + r.copy, r.size, w + r.offset);
  }

 private:
  struct range {
    std::size_t offset, size, copy;  // in the flat buffers; in copy_ (64-byte aligned)
    double m;
  };

  static std::string unknown(const std::string& what) {
    std::vector<std::string_view> sorted;
    for (const param_entry& e : tensors) sorted.push_back(e.name);
    std::sort(sorted.begin(), sorted.end());
    std::string names;
    for (std::string_view n : sorted) names += (names.empty() ? "" : ", ") + std::string(n);
    return "ctnn: " + what + "; the trainable tensors are: " + names;
  }

  static std::vector<std::size_t> match(std::string_view name) {
    std::vector<std::size_t> hit;
    for (std::size_t k = 0; k < count; ++k) {
      const std::string_view t = tensors[k].name;
      if (t == name || (t.size() > name.size() && t.starts_with(name) && t[name.size()] == '.')) hit.push_back(k);
    }
    if (hit.empty()) {
      const bool state = [&] {
        for (std::size_t i = 0; i < Graph::node_count; ++i)
          for (std::size_t j = 0; j < Graph::plan.nodes[i].param_count; ++j)
            if (!Graph::plan.nodes[i].params[j].trainable && Graph::plan.nodes[i].params[j].name == name) return true;
        return false;
      }();
      throw std::invalid_argument(unknown(state ? "'" + std::string(name) +
                                                      "' is not trainable (running statistics are updated by the "
                                                      "forward pass, not by the optimizer)"
                                                : "no trainable tensor or layer named '" + std::string(name) + "'"));
    }
    return hit;
  }

  void rebuild() {
    constexpr std::size_t align = 64 / sizeof(T);
    std::vector<range> r;
    std::size_t total = 0;
    for (std::size_t k = 0; k < count; ++k) {
      if (multiplier_[k] == 1.0) continue;
      const std::size_t n = tensors[k].shape.size();
      r.push_back({tensors[k].offset, n, total, multiplier_[k]});
      total += (n + align - 1) / align * align;
    }
    if (copy_.size() != total) copy_ = aligned_buffer<T>(total);
    ranges_ = std::move(r);
  }

  std::vector<double> multiplier_;
  std::vector<range> ranges_;
  aligned_buffer<T> copy_;
};

}  // namespace ctnn
