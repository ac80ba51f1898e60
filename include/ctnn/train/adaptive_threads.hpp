/// @file adaptive_threads.hpp
/// Chooses the OpenMP team size for training steps by measuring them.
///
/// Two threads make a step about 1.4× faster on an idle 2-core machine, and
/// 20× slower when another process keeps one core busy: every GEMM ends at a
/// barrier that waits for the thread the scheduler has put aside. No setting
/// is right for both, so the choice is measured: the steps are run a few at a
/// time with each candidate team size, the one whose median step is fastest
/// wins (not the best step: with a core shared, the team's steps are fast
/// while the other process waits for its turn and slow the rest of the time), and the measurement
/// is repeated every `interval` steps so that a core freed by another
/// process is noticed, and at once when steps of the team become much slower
/// than measured (a core taken). The probing steps are real training steps:
/// nothing is computed twice.
///
/// With a core held by another process a step of the team costs tens of
/// one-thread steps, so probing it is what such a run pays for: one thread is
/// measured first, a team's probe gives up at its first counted step 1.5
/// times as slow as one thread's median (unless an earlier step beat that
/// median), and while the team keeps losing the interval between probes
/// doubles (up to 32 times). A team's first step after one thread's is not
/// counted: it finds the parameters in the other core's cache and, the first
/// time, starts the threads (the MLP's, on two dies: 673 µs against one
/// thread's 330-360), and counted it had an idle machine's runs keep one
/// thread in 6 of 7. A team wins only when its median step is at least 10%
/// shorter than one thread's: a smaller gain is within what a shared core or
/// two cores far apart make of the same step from one probe to the next, and
/// a wrong team costs far more than a wrong single thread.
/// Once chosen, a team is watched window by window (twice the probe's
/// steps): a window whose mean step is longer than one thread's median
/// (a core shared part of the time: fast steps between slow ones) sends it
/// back to measuring.
///
/// Steps are timed with `Clock` (std::chrono::steady_clock in
/// `adaptive_threads`); a test gives a clock of its own to make the step
/// times exact.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include <omp.h>

namespace ctnn {

template <class Clock>
class basic_adaptive_threads {
 public:
  /// Candidates 1 and `max_threads` (≥ 1), in that order; `probe_steps`
  /// timed steps per candidate, their median counting (the faster, of two); a new measurement
  /// after `interval` steps with the chosen size (longer while one thread
  /// keeps winning).
  explicit basic_adaptive_threads(int max_threads, std::size_t probe_steps = 6, std::size_t interval = 1000)
      : probe_steps_(probe_steps), interval_(interval) {
    if (max_threads < 1) throw std::invalid_argument("ctnn::adaptive_threads: max_threads must be at least 1");
    if (probe_steps < 1) throw std::invalid_argument("ctnn::adaptive_threads: probe_steps must be at least 1");
    candidates_ = max_threads == 1 ? std::vector<int>{1} : std::vector<int>{1, max_threads};
    best_time_.assign(candidates_.size(), 0.0);
    median_time_.assign(candidates_.size(), 0.0);
    samples_.assign(probe_steps, 0.0);
    chosen_ = candidates_.front();
    probing_ = candidates_.size() > 1;
  }

  /// Always `threads`: no measuring.
  static basic_adaptive_threads fixed(int threads) {
    basic_adaptive_threads a(1);
    if (threads < 1) throw std::invalid_argument("ctnn::adaptive_threads: threads must be at least 1");
    a.candidates_ = {threads};
    a.chosen_ = threads;
    return a;
  }

  /// Runs one step, f(), with the team size this step gets; returns f()'s result.
  template <class F>
  decltype(auto) run(F&& f) {
    if (candidates_.size() == 1) {
      omp_set_num_threads(chosen_);
      return std::forward<F>(f)();
    }
    const bool probe = probing_;
    if (probe) {
      omp_set_num_threads(candidates_[probe_index_]);
    } else {
      omp_set_num_threads(chosen_);
      if (++since_probe_ >= interval_ * backoff_) restart_probe();
    }
    // Timed until f returns (or throws): a probe's time is recorded, a chosen
    // size's time watched for a slowdown.
    struct timed_step {
      basic_adaptive_threads& self;
      bool probe;
      typename Clock::time_point t0 = Clock::now();
      ~timed_step() {
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        probe ? self.record(s) : self.watch(s);
      }
    } timer{*this, probe};
    return std::forward<F>(f)();
  }

  /// The team size chosen by the last measurement.
  int threads() const { return chosen_; }
  /// Best step time per candidate in the last measurement, seconds (0: not measured).
  double best_time(int threads) const { return of(best_time_, threads); }
  /// Median step time per candidate in the last measurement, seconds (0: not
  /// measured); the fastest median wins.
  double median_time(int threads) const { return of(median_time_, threads); }
  /// Whether the steps now run with the chosen size (not measuring).
  bool settled() const { return !probing_; }

 private:
  double of(const std::vector<double>& times, int threads) const {
    for (std::size_t c = 0; c < candidates_.size(); ++c)
      if (candidates_[c] == threads) return times[c];
    return 0.0;
  }
  void record(double seconds) {
    if (warming_up_) {  // the team's first step: what one thread left in its cache moves
      warming_up_ = false;
      return;
    }
    double& best = best_time_[probe_index_];
    best = probe_count_ == 0 ? seconds : std::min(best, seconds);
    samples_[probe_count_++] = seconds;
    // A team's step half as slow again as one thread's median, and none of
    // its steps faster than that median: a core is taken, and more such
    // steps would only cost more.
    const bool gave_up = probe_index_ > 0 && seconds > 1.5 * median_time_[0] && best > median_time_[0];
    if (!gave_up && probe_count_ < probe_steps_) return;
    // The upper median (with half the steps slow, the slow ones); of one or
    // two steps, the faster (a step can always be slowed by a preemption).
    const auto middle = samples_.begin() + std::ptrdiff_t(probe_count_ >= 3 ? probe_count_ / 2 : 0);
    std::nth_element(samples_.begin(), middle, samples_.begin() + std::ptrdiff_t(probe_count_));
    median_time_[probe_index_] = *middle;
    probe_count_ = 0;
    if (!gave_up && ++probe_index_ < candidates_.size()) {
      warming_up_ = true;
      return;
    }
    std::size_t win = 0;
    for (std::size_t c = 1; c < candidates_.size(); ++c)
      if (median_time_[c] <= team_margin * median_time_[0] && median_time_[c] <= median_time_[win]) win = c;
    chosen_ = candidates_[win];
    backoff_ = chosen_ == 1 && candidates_.size() > 1 ? std::min<std::size_t>(backoff_ * 2, max_backoff) : 1;
    probing_ = false;
    since_probe_ = 0;
  }
  // Between measurements: `probe_steps` steps of the team in a row slower
  // than twice its measured median mean the conditions changed (another
  // process took a core), and so does a window of 2·probe_steps steps whose
  // mean is longer than one thread's median (the core is shared part of the
  // time): measure again now rather than at the end of the interval.
  // One thread's slowdown is not one more threads could help.
  void watch(double seconds) {
    if (probing_ || chosen_ == 1) return;
    slow_run_ = seconds > 2.0 * median_time(chosen_) ? slow_run_ + 1 : 0;
    window_time_ += seconds;
    if (++window_steps_ == 2 * probe_steps_) {
      const bool losing = window_time_ > double(window_steps_) * median_time_[0];
      window_time_ = 0.0;
      window_steps_ = 0;
      if (losing) return restart_probe();
    }
    if (slow_run_ >= probe_steps_) restart_probe();
  }
  void restart_probe() {
    slow_run_ = 0;
    window_steps_ = 0;
    window_time_ = 0.0;
    probing_ = true;
    probe_index_ = 0;
    probe_count_ = 0;
    warming_up_ = false;
  }

  static constexpr std::size_t max_backoff = 32;
  static constexpr double team_margin = 0.9;  // a team's median must be at most this × one thread's
  std::size_t probe_steps_, interval_, backoff_ = 1;
  std::vector<int> candidates_;
  std::vector<double> best_time_, median_time_;
  std::vector<double> samples_;  // the current candidate's probe steps
  int chosen_ = 1;
  bool probing_ = true;
  bool warming_up_ = false;  // the next step is a team's first in its probe: not counted
  std::size_t probe_index_ = 0, probe_count_ = 0, since_probe_ = 0, slow_run_ = 0, window_steps_ = 0;
  double window_time_ = 0.0;  // the steps of the current watch window, seconds
};

/// The team-size chooser on the steady clock.
using adaptive_threads = basic_adaptive_threads<std::chrono::steady_clock>;

}  // namespace ctnn
