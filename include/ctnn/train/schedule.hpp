/// @file schedule.hpp
/// Learning-rate schedules: tiny value types with one member,
/// `double lr_at(std::size_t step) const`, the rate for the update numbered
/// `step` (0 for the first). Apply one before each step:
///
///   const ctnn::schedule::cosine s{.lr0 = 0.05, .total_steps = 10'000, .warmup_steps = 500};
///   for (std::size_t k = 0; k < 10'000; ++k) {
///     t.optimizer().lr = s.lr_at(k);
///     t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
///   }
///
/// Steps, not epochs: for a per-epoch schedule pass the epoch number, or
/// count steps in units of steps per epoch (step_decay{.every = 5 * steps_per_epoch}).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

namespace ctnn::schedule {

/// lr0 · factor^⌊step / every⌋: the seeds' step decay (e.g. halve every 5 epochs).
struct step_decay {
  double lr0 = 0.01;
  double factor = 0.5;
  std::size_t every = 1;  ///< 0: never decays

  double lr_at(std::size_t step) const { return every ? lr0 * std::pow(factor, double(step / every)) : lr0; }
};

/// lr0 · e^{−k·step}.
struct exponential_decay {
  double lr0 = 0.01;
  double k = 0.0;

  double lr_at(std::size_t step) const { return lr0 * std::exp(-k * double(step)); }
};

/// lr0 / (1 + k·step).
struct inverse_time_decay {
  double lr0 = 0.01;
  double k = 0.0;

  double lr_at(std::size_t step) const { return lr0 / (1.0 + k * double(step)); }
};

/// lr0 · (step + 1) / warmup_steps during the first warmup_steps updates, then
/// lr0. The first update already moves (lr0 / warmup_steps), the last warm-up
/// update uses lr0.
struct linear_warmup {
  double lr0 = 0.01;
  std::size_t warmup_steps = 0;

  double lr_at(std::size_t step) const {
    if (step >= warmup_steps) return lr0;
    return lr0 * double(step + 1) / double(warmup_steps);
  }
};

/// Cosine annealing from lr0 to lr_min over total_steps, after an optional
/// linear warm-up (as linear_warmup) that is part of total_steps:
///   p = (step − warmup_steps) / (total_steps − warmup_steps), clamped to [0, 1],
///   lr = lr_min + (lr0 − lr_min) · (1 + cos(π·p)) / 2.
/// From total_steps on, lr_min.
struct cosine {
  double lr0 = 0.01;
  double lr_min = 0.0;
  std::size_t total_steps = 1;
  std::size_t warmup_steps = 0;

  double lr_at(std::size_t step) const {
    if (step < warmup_steps) return lr0 * double(step + 1) / double(warmup_steps);
    if (total_steps <= warmup_steps) return lr_min;
    const double p = std::min(1.0, double(step - warmup_steps) / double(total_steps - warmup_steps));
    return lr_min + (lr0 - lr_min) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  }
};

}  // namespace ctnn::schedule
