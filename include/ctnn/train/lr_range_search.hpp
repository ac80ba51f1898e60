/// @file lr_range_search.hpp
/// The learning-rate range search (seed 003, babysitting: "find learning
/// rate that makes the loss not go down. Then, find learning rate that makes
/// the loss go down but at some point it explodes. The learning rate is in
/// between this range"), done in one short run as L. Smith's range test: the
/// rate grows exponentially from lr_min to lr_max over the steps while the
/// loss is recorded, until the loss explodes.
///
/// What it reports, from the loss smoothed by an exponential moving average
/// (bias-corrected, so the first values are not pulled towards 0):
///   lower_lr     the rate from which on the loss stays at least 10% below
///                its starting level: below it, the loss "does not go down";
///   steepest_lr  where the smoothed loss falls fastest against log(lr)
///                (the slope over a window of ±5% of the steps);
///   min_loss_lr  where the smoothed loss is lowest;
///   upper_lr     the rate at which the loss exploded: the smoothed loss
///                above `divergence` times its minimum, or not finite;
///   suggested_lr upper_lr / 2 (not below lower_lr), or min_loss_lr if the
///                loss never exploded (then lr_max was too small to tell).
/// For a quadratic loss with curvature λ along every direction, plain
/// gradient descent converges fastest at lr = 1/λ and diverges above 2/λ: the
/// explosion sits a little above 2/λ, and half of it lands on the optimum.
///
/// It trains the trainer it is given: use a fresh one (or a copy) and start
/// the real run afterwards from new weights.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn {

struct lr_range_options {
  double lr_min = 1e-6;
  double lr_max = 1.0;
  std::size_t steps = 100;   // rates lr_min·(lr_max/lr_min)^(k/(steps−1)), k = 0 ... steps−1
  double smoothing = 0.9;    // EMA factor β of the smoothed loss (0: none)
  double divergence = 4.0;   // exploded: smoothed loss > divergence × its minimum
};

struct lr_range_point {
  double lr = 0, loss = 0, smoothed = 0;
};

struct lr_range_result {
  std::vector<lr_range_point> points;  // up to and including the step that exploded
  bool diverged = false;
  double lower_lr = std::numeric_limits<double>::quiet_NaN();
  double steepest_lr = std::numeric_limits<double>::quiet_NaN();
  double min_loss_lr = std::numeric_limits<double>::quiet_NaN();
  double upper_lr = std::numeric_limits<double>::quiet_NaN();
  double suggested_lr = std::numeric_limits<double>::quiet_NaN();
};

/// The rate of step k.
inline double lr_range_rate(const lr_range_options& o, std::size_t k) {
  if (o.steps < 2) return o.lr_min;
  return o.lr_min * std::pow(o.lr_max / o.lr_min, double(k) / double(o.steps - 1));
}

/// The general form: `set_lr(lr)` sets the rate, `step(k)` trains one step
/// and returns its loss. A step that throws std::runtime_error (the
/// trainer's non-finite loss) counts as an explosion.
template <class SetLr, class Step>
lr_range_result lr_range_search(const lr_range_options& o, SetLr&& set_lr, Step&& step) {
  if (!(o.lr_min > 0) || !(o.lr_max > o.lr_min) || !std::isfinite(o.lr_max))
    throw std::invalid_argument("ctnn::lr_range_search: needs 0 < lr_min < lr_max");
  if (o.steps < 2) throw std::invalid_argument("ctnn::lr_range_search: needs at least 2 steps");
  if (!(o.smoothing >= 0 && o.smoothing < 1))
    throw std::invalid_argument("ctnn::lr_range_search: smoothing must lie in [0, 1)");
  if (!(o.divergence > 1)) throw std::invalid_argument("ctnn::lr_range_search: divergence must be above 1");

  lr_range_result r;
  double avg = 0, best = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < o.steps; ++k) {
    const double lr = lr_range_rate(o, k);
    set_lr(lr);
    double loss;
    try {
      loss = double(step(k));
    } catch (const std::runtime_error&) {
      loss = std::numeric_limits<double>::infinity();
    }
    if (!std::isfinite(loss)) {
      r.points.push_back({lr, loss, loss});
      r.diverged = true;
      r.upper_lr = lr;
      break;
    }
    avg = o.smoothing * avg + (1 - o.smoothing) * loss;
    const double smoothed = avg / (1 - std::pow(o.smoothing, double(k + 1)));
    r.points.push_back({lr, loss, smoothed});
    if (smoothed < best) {
      best = smoothed;
      r.min_loss_lr = lr;
    }
    if (smoothed > o.divergence * best) {
      r.diverged = true;
      r.upper_lr = lr;
      break;
    }
  }

  // Up to the minimum: where the loss starts to fall for good, and where it
  // falls fastest. The starting level is the mean raw loss of the first 5% of
  // the steps (mini-batch losses are noisy); the slope is taken over a window
  // of ±5% of the steps, from 10% of the steps on.
  std::size_t end = 0;
  while (end < r.points.size() && r.points[end].lr <= r.min_loss_lr) ++end;
  const std::size_t head = std::max<std::size_t>(1, std::min(end, o.steps / 20));
  double start = 0;
  for (std::size_t k = 0; k < head; ++k) start += r.points[k].loss / double(head);
  for (std::size_t k = end; k-- > 0;) {
    if (!(r.points[k].smoothed < 0.9 * start)) break;
    r.lower_lr = r.points[k].lr;
  }
  const std::size_t w = std::max<std::size_t>(1, o.steps / 20);
  double steepest = 0;
  for (std::size_t k = 2 * w; k + w < end; ++k) {  // the first w smoothed values average too few losses
    const double slope = (r.points[k + w].smoothed - r.points[k - w].smoothed) /
                         std::log(r.points[k + w].lr / r.points[k - w].lr);
    if (slope < steepest) {
      steepest = slope;
      r.steepest_lr = r.points[k].lr;
    }
  }
  if (r.diverged) {
    r.suggested_lr = r.upper_lr / 2;
    if (std::isfinite(r.lower_lr)) r.suggested_lr = std::max(r.suggested_lr, r.lower_lr);
  } else {
    r.suggested_lr = r.min_loss_lr;
  }
  return r;
}

/// For a trainer: sets `t.optimizer().lr` before each `step(k)`.
template <class Trainer, class Step>
lr_range_result lr_range_search(Trainer& t, Step&& step, const lr_range_options& o = {}) {
  using lr_type = decltype(t.optimizer().lr);
  return lr_range_search(o, [&](double lr) { t.optimizer().lr = lr_type(lr); }, step);
}

}  // namespace ctnn
