/// @file monitor.hpp
/// The update/weight ratio monitor (seed 003, babysitting the learning
/// process, "Track the ratio of weight updates / weight magnitudes": "You
/// want weight_updates/weight_magnitudes = 0.001. If this is too high to
/// decrease learning rate. If it is too low to increase learning rate").
///
/// For every trainable tensor (by name, tied ones once) it reports
///   ratio = ‖Δw‖ / ‖w‖,   Δw = w_after − w_before,  ‖w‖ = ‖w_before‖
/// over one update (as cs231n computes it: the weight scale before the
/// update). The verdict gives the seeds' ≈1e-3 an order of magnitude either
/// way: below 1e-4 "too small" (raise the learning rate), above 1e-2 "too
/// large" (lower it), between them "healthy". A tensor whose weights were all
/// zero (a bias at its first step) has no ratio: "undefined".
///
/// It is a diagnostic: it allocates a snapshot of the parameters (and its
/// report) when constructed, and copies the parameters before every
/// monitored step; the trainer's step() itself is unchanged.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ctnn/train/regularization.hpp"

namespace ctnn {

/// The thresholds of the verdict (seed 003: ≈1e-3 is healthy).
inline constexpr double update_ratio_too_small = 1e-4;
inline constexpr double update_ratio_too_large = 1e-2;

enum class update_verdict { healthy, too_small, too_large, undefined };

inline std::string_view to_string(update_verdict v) {
  switch (v) {
    case update_verdict::healthy: return "healthy";
    case update_verdict::too_small: return "too small: raise the learning rate";
    case update_verdict::too_large: return "too large: lower the learning rate";
    case update_verdict::undefined: break;
  }
  return "undefined: the weights were zero";
}

/// The verdict on one ratio (NaN or infinity: undefined).
inline update_verdict judge_update_ratio(double ratio) {
  if (!std::isfinite(ratio)) return update_verdict::undefined;
  if (ratio < update_ratio_too_small) return update_verdict::too_small;
  if (ratio > update_ratio_too_large) return update_verdict::too_large;
  return update_verdict::healthy;
}

/// One tensor's last update.
struct tensor_update {
  std::string_view name;
  std::size_t size = 0;
  double weight_norm = 0;  // ‖w‖ before the update
  double update_norm = 0;  // ‖Δw‖
  double ratio = 0;        // update_norm / weight_norm (NaN when weight_norm is 0)
  update_verdict verdict = update_verdict::undefined;
};

/// Watches one model (a ctnn::model; for a trainer, its model()).
template <class Model>
class update_monitor {
  using graph = typename Model::graph_type;
  using T = typename Model::value_type;
  static constexpr const auto& tensors = trainable_tensors<graph>;

 public:
  explicit update_monitor(Model& m)
      : model_(&m), before_(m.parameters().size()), report_(tensors.size()), order_(tensors.size()) {
    // Reported by name (the buffer order follows the planner's name hashes).
    for (std::size_t k = 0; k < tensors.size(); ++k) order_[k] = k;
    std::sort(order_.begin(), order_.end(), [](std::size_t a, std::size_t b) { return tensors[a].name < tensors[b].name; });
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      report_[k].name = tensors[order_[k]].name;
      report_[k].size = tensors[order_[k]].shape.size();
    }
  }

  /// Remembers the current parameters.
  void snapshot() {
    const auto w = model_->parameters();
    std::copy(w.begin(), w.end(), before_.begin());
    has_snapshot_ = true;
  }

  /// Compares the current parameters with the snapshot, tensor by tensor.
  const std::vector<tensor_update>& measure() {
    if (!has_snapshot_) throw std::logic_error("ctnn::update_monitor::measure: call snapshot() before the update");
    const auto w = model_->parameters();
    for (std::size_t k = 0; k < tensors.size(); ++k) {
      double ww = 0, dd = 0;
      const std::size_t off = tensors[order_[k]].offset, n = tensors[order_[k]].shape.size();
      for (std::size_t i = 0; i < n; ++i) {
        const double a = double(before_[off + i]), d = double(w[off + i]) - a;
        ww += a * a;
        dd += d * d;
      }
      tensor_update& r = report_[k];
      r.weight_norm = std::sqrt(ww);
      r.update_norm = std::sqrt(dd);
      r.ratio = r.weight_norm > 0 ? r.update_norm / r.weight_norm : std::numeric_limits<double>::quiet_NaN();
      r.verdict = judge_update_ratio(r.ratio);
    }
    return report_;
  }

  /// snapshot(), trainer.step(feeds...), measure(); returns step()'s loss.
  /// `trainer` must train the monitored model.
  template <class Trainer, class... F>
  auto step(Trainer& trainer, const F&... feeds) {
    if (&trainer.model() != model_)
      throw std::logic_error("ctnn::update_monitor::step: the trainer does not train the monitored model");
    snapshot();
    const auto loss = trainer.step(feeds...);
    measure();
    return loss;
  }

  /// The last measurement, one entry per trainable tensor, by name.
  const std::vector<tensor_update>& report() const { return report_; }

  /// A table: name, ‖w‖, ‖Δw‖, ratio, verdict; one line per tensor.
  std::string table() const {
    std::size_t width = 4;
    for (const tensor_update& r : report_) width = std::max(width, r.name.size());
    std::string s;
    char line[256];
    std::snprintf(line, sizeof line, "%-*s  %12s  %12s  %10s  %s\n", int(width), "name", "|w|", "|dw|", "ratio",
                  "verdict");
    s += line;
    for (const tensor_update& r : report_) {
      std::snprintf(line, sizeof line, "%-*.*s  %12.5g  %12.5g  %10.3g  ", int(width), int(r.name.size()),
                    r.name.data(), r.weight_norm, r.update_norm, r.ratio);
      s += line;
      s += to_string(r.verdict);
      s += '\n';
    }
    return s;
  }

 private:
  Model* model_;
  std::vector<T> before_;
  std::vector<tensor_update> report_;
  std::vector<std::size_t> order_;  // report_[k] is tensors[order_[k]]
  bool has_snapshot_ = false;
};

}  // namespace ctnn
