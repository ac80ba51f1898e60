/// @file activation_stats.hpp
/// Statistics of a network's outputs after a training forward: the seeds'
/// activation-statistics check (000/004, "look at distributions at each
/// layer": per layer, the mean and the standard deviation over the batch and
/// the units), plus how many values are saturated or exactly zero. Name the
/// hidden layers as outputs (`ctnn::outputs(ref<h1>, ref<h2>, ...)`), run
/// `forward`, then read them here. Used by the initialization experiment
/// (dsl/apps/init_experiment.cpp).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <span>

namespace ctnn {

struct activation_stats {
  double mean = 0;
  double stddev = 0;      // population std over all B × size values, as np.std
  double mean_abs = 0;    // mean |h|
  double saturated = 0;   // fraction with |h| ≥ the threshold (tanh: ±1)
  double zero = 0;        // fraction exactly 0 (ReLU: inactive units)
};

/// Statistics of `values` (double accumulators).
template <class T>
activation_stats statistics_of(std::span<const T> values, double saturation_threshold = 0.99) {
  activation_stats s;
  if (values.empty()) return s;
  double sum = 0, abs_sum = 0;
  std::size_t saturated = 0, zero = 0;
  for (const T v : values) {
    sum += double(v);
    abs_sum += std::abs(double(v));
    saturated += std::abs(double(v)) >= saturation_threshold;
    zero += v == T(0);
  }
  const double n = double(values.size());
  s.mean = sum / n;
  double sq = 0;  // second pass: no cancellation when the mean is large
  for (const T v : values) sq += (double(v) - s.mean) * (double(v) - s.mean);
  s.stddev = std::sqrt(sq / n);
  s.mean_abs = abs_sum / n;
  s.saturated = double(saturated) / n;
  s.zero = double(zero) / n;
  return s;
}

/// The statistics of every output of `m`'s last training forward
/// (`m.forward(...)`), in the order the network's outputs are listed.
template <class Model>
auto output_statistics(Model& m, double saturation_threshold = 0.99) {
  using graph = typename Model::graph_type;
  std::array<activation_stats, graph::output_count> out{};
  for (std::size_t k = 0; k < graph::output_count; ++k)
    out[k] = statistics_of(m.value(graph::output_ids[k]), saturation_threshold);
  return out;
}

}  // namespace ctnn
