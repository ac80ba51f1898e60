/// @file overfit_check.hpp
/// The first sanity test of babysitting a network (seed 003): "Make sure that
/// you can overfit very small portion of the training data. Take 20 samples,
/// turn off regularization and make sure that you can get a loss of 0. If you
/// can't overfit there is a problem: or there is something broken or you have
/// to scale up your network."
///
/// `overfit_check` trains on the first N samples only (20 by default), batch
/// after batch, until the loss over them falls below a target (near zero) or
/// a step budget runs out, and reports what happened. Give it a fresh trainer
/// without regularization (and ideally without dropout, whose noise keeps the
/// loss from reaching 0): it trains that trainer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/graph/feed.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

struct overfit_options {
  std::size_t samples = 20;      // the size of the subset
  std::size_t max_steps = 1000;  // the step budget
  double target_loss = 0.01;     // "near zero": reached when the subset's loss falls below this
};

struct overfit_result {
  std::size_t samples = 0;
  std::size_t steps = 0;       // steps taken
  double initial_loss = 0;     // the first step's loss
  double final_loss = 0;       // the mean loss over the last pass over the subset
  bool reached = false;        // final_loss < target_loss
  std::vector<double> losses;  // every step's batch loss

  std::string verdict() const {
    if (reached)
      return "overfits " + std::to_string(samples) + " samples (loss " + std::to_string(final_loss) + " after " +
             std::to_string(steps) + " steps): forward, backward and update work";
    return "cannot overfit " + std::to_string(samples) + " samples (loss " + std::to_string(initial_loss) + " -> " +
           std::to_string(final_loss) + " in " + std::to_string(steps) +
           " steps): something is broken, the learning rate is off, or the network is too small";
  }
};

/// The general form: `step(k)` runs training step k on the subset (the k-th
/// of the batches that cycle through it) and returns its loss; one pass over
/// the subset takes `steps_per_pass` steps. Stops when the mean loss of the
/// last pass is below the target.
template <class Step>
overfit_result overfit_check_steps(Step&& step, std::size_t steps_per_pass, const overfit_options& o) {
  if (steps_per_pass == 0) throw std::invalid_argument("ctnn::overfit_check: steps_per_pass must be positive");
  overfit_result r;
  r.samples = o.samples;
  r.losses.reserve(o.max_steps);
  for (std::size_t k = 0; k < o.max_steps; ++k) {
    const double loss = double(step(k));
    r.losses.push_back(loss);
    r.steps = k + 1;
    if (k == 0) r.initial_loss = loss;
    const std::size_t window = std::min(steps_per_pass, r.losses.size());
    double sum = 0;
    for (std::size_t i = r.losses.size() - window; i < r.losses.size(); ++i) sum += r.losses[i];
    r.final_loss = sum / double(window);
    if (r.losses.size() >= steps_per_pass && r.final_loss < o.target_loss) {
      r.reached = true;
      break;
    }
  }
  return r;
}

/// For a trainer whose network has one input and one label (a classifier or
/// a regression): trains `t` on the first `o.samples` of the `count` samples
/// given (inputs row-major, one label or target row per sample). A batch of B
/// takes the subset's samples in turn, wrapping around, so with N ≤ B every
/// batch holds the whole subset (some samples more than once).
template <class Trainer, class X, class Y>
overfit_result overfit_check(Trainer& t, const X* inputs, const Y* labels, std::size_t count,
                             const overfit_options& o = {}) {
  using model_type = typename Trainer::model_type;
  using Graph = typename model_type::graph_type;
  using T = typename model_type::value_type;
  constexpr std::size_t B = model_type::batch_size;
  static_assert(Graph::leaf_count == 2,
                "ctnn::overfit_check: the network must have one input and one label; use overfit_check_steps");
  // The input is the leaf with the input role (the first, if both are inputs: a regression target).
  constexpr bool first_is_input = Graph::plan.nodes[Graph::leaf_ids.first[0]].role == node_role::input;
  constexpr std::size_t input_id = Graph::leaf_ids.first[first_is_input ? 0 : 1];
  constexpr std::size_t target_id = Graph::leaf_ids.first[first_is_input ? 1 : 0];
  constexpr std::size_t features = Graph::plan.nodes[input_id].out.size();
  constexpr std::size_t targets = Graph::plan.nodes[target_id].out.size();
  if (o.samples == 0 || o.samples > count)
    throw std::invalid_argument("ctnn::overfit_check: needs 1 to " + std::to_string(count) + " samples, asked for " +
                                std::to_string(o.samples));
  aligned_buffer<T> x(B * features);
  std::vector<Y> y(B * targets);
  const std::size_t passes = (o.samples + B - 1) / B;
  return overfit_check_steps(
      [&](std::size_t k) {
        for (std::size_t b = 0; b < B; ++b) {
          const std::size_t n = (k * B + b) % o.samples;
          std::copy_n(inputs + n * features, features, x.data() + b * features);
          std::copy_n(labels + n * targets, targets, y.data() + b * targets);
        }
        return t.step(feed<Graph::template node_at<input_id>::op::name>(x.data()),
                      feed<Graph::template node_at<target_id>::op::name>(y.data()));
      },
      passes, o);
}

}  // namespace ctnn
