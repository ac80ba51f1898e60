// The team-size chooser: with step times that depend on the team size, it
// picks the faster size, probes with real steps only, and measures again
// after its interval (a core taken by another process is given up), giving
// up a losing team's probe at its first slow step; a team's first step in a
// probe, which finds the data in the other core's cache, is not counted.
#include <catch2/catch.hpp>

#include <chrono>
#include <utility>

#include <omp.h>

#include <ctnn/train/adaptive_threads.hpp>

namespace {

// A clock that moves only when a fake step says it took its time: the step
// times the tuner sees are exact, whatever else runs on the machine.
struct step_clock {
  using duration = std::chrono::microseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<step_clock>;
  static inline time_point current{};
  static time_point now() { return current; }
  static void take(int us) { current += duration(us); }
};
using tuner_on_step_clock = ctnn::basic_adaptive_threads<step_clock>;

// Keeps the thread busy for `us` microseconds, as a step's arithmetic would.
void spin_for(int us) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < end) {
  }
}

// A step that takes `fast` or `slow` microseconds depending on the team size
// (on the step clock).
struct fake_step {
  int fast_threads;
  int slow_us = 12000;
  int fast_us = 2000;
  int calls = 0;
  int operator()() {
    ++calls;
    step_clock::take(omp_get_max_threads() == fast_threads ? fast_us : slow_us);
    return omp_get_max_threads();
  }
};

}  // namespace

TEST_CASE("adaptive_threads keeps the team size whose steps are faster", "[train][threads]") {
  const int saved = omp_get_max_threads();
  for (const int fast : {1, 2}) {
    tuner_on_step_clock tuner(2, /*probe_steps=*/3, /*interval=*/10);
    fake_step step{fast};
    // 3 probes with 1 thread, then the team's first step (not counted) and 3
    // with 2; or only 1 when that one is 6× slower than one thread's best.
    const int probes = fast == 2 ? 7 : 5;
    for (int i = 0; i < probes - 1; ++i) tuner.run(step);
    CHECK_FALSE(tuner.settled());
    tuner.run(step);
    CHECK(tuner.settled());
    CHECK(tuner.threads() == fast);
    CHECK(tuner.best_time(fast) < tuner.best_time(3 - fast));
    CHECK(tuner.run(step) == fast);  // the next step runs with it
    CHECK(step.calls == probes + 1); // every probe was a real step
  }
  omp_set_num_threads(saved);
}

TEST_CASE("adaptive_threads measures again after its interval", "[train][threads]") {
  const int saved = omp_get_max_threads();
  tuner_on_step_clock tuner(2, 2, 5);
  fake_step step{2, 6000};
  for (int i = 0; i < 5; ++i) tuner.run(step);
  REQUIRE(tuner.threads() == 2);
  // Now 1 thread is faster, but 2 are neither twice as slow as they were
  // nor slower than one thread was:
  step.fast_threads = 1;
  step.slow_us = 3500;
  for (int i = 0; i < 4; ++i) tuner.run(step);
  CHECK(tuner.settled());  // only the interval notices
  tuner.run(step);         // the interval runs out
  CHECK_FALSE(tuner.settled());
  for (int i = 0; i < 4; ++i) tuner.run(step);
  CHECK(tuner.settled());
  CHECK(tuner.threads() == 1);
  omp_set_num_threads(saved);
}

TEST_CASE("adaptive_threads measures again at once when steps become much slower", "[train][threads]") {
  const int saved = omp_get_max_threads();
  tuner_on_step_clock tuner(2, 2, 1000);
  fake_step step{2};
  for (int i = 0; i < 5; ++i) tuner.run(step);
  REQUIRE(tuner.threads() == 2);
  step.fast_threads = 1;  // 2 threads now take 6× longer
  tuner.run(step);
  CHECK(tuner.settled());  // one slow step is not enough
  tuner.run(step);
  CHECK_FALSE(tuner.settled());  // two in a row are, long before the interval
  for (int i = 0; i < 4; ++i) tuner.run(step);
  CHECK(tuner.threads() == 1);
  omp_set_num_threads(saved);
}

TEST_CASE("adaptive_threads probes a losing team less and less often, and one thread's slowdown not at all",
          "[train][threads]") {
  const int saved = omp_get_max_threads();
  tuner_on_step_clock tuner(2, 2, 4);
  fake_step step{1};  // the team's steps take 6× longer: a core is held
  for (int i = 0; i < 4; ++i) tuner.run(step);  // 2 probes with 1 thread, the team's first step, 1 with it
  REQUIRE(tuner.settled());
  REQUIRE(tuner.threads() == 1);
  // The interval is doubled: 8 steps, not 4, until the next measurement.
  for (int i = 0; i < 7; ++i) tuner.run(step);
  CHECK(tuner.settled());
  tuner.run(step);
  CHECK_FALSE(tuner.settled());
  for (int i = 0; i < 4; ++i) tuner.run(step);
  REQUIRE(tuner.settled());
  REQUIRE(tuner.threads() == 1);
  // Now 16 steps. One thread's steps become 6× slower (the machine got busier
  // still): more threads would not help, so no measurement before the interval.
  step.fast_threads = 2;
  for (int i = 0; i < 15; ++i) tuner.run(step);
  CHECK(tuner.settled());
  tuner.run(step);
  CHECK_FALSE(tuner.settled());
  // The core is back (the team's steps are the fast ones): the team wins, and
  // the interval is 4 steps again.
  for (int i = 0; i < 5; ++i) tuner.run(step);
  REQUIRE(tuner.settled());
  CHECK(tuner.threads() == 2);
  for (int i = 0; i < 3; ++i) tuner.run(step);
  CHECK(tuner.settled());
  tuner.run(step);
  CHECK_FALSE(tuner.settled());
  omp_set_num_threads(saved);
}

// A core shared with another process: the team's steps are fast while the
// other process waits for its turn and eight times slower the rest of the time
// (starting slow, with the team's first step, which is not counted).
struct shared_core_step {
  int calls = 0;
  int operator()() {
    const int us = omp_get_max_threads() == 1 ? 10000 : (calls % 2 == 1 ? 5000 : 40000);
    ++calls;
    step_clock::take(us);
    return omp_get_max_threads();
  }
};

TEST_CASE("adaptive_threads goes by the median step, not the luckiest", "[train][threads]") {
  const int saved = omp_get_max_threads();
  tuner_on_step_clock tuner(2, 4, 1000);
  shared_core_step step;
  for (int i = 0; i < 9; ++i) tuner.run(step);  // 4 probes with 1 thread, the team's first step, 4 with 2
  REQUIRE(tuner.settled());
  CHECK(tuner.best_time(2) < tuner.best_time(1));  // the team's best step beats one thread's
  CHECK(tuner.median_time(2) > tuner.median_time(1));
  CHECK(tuner.threads() == 1);
  omp_set_num_threads(saved);
}

TEST_CASE("adaptive_threads keeps one thread unless the team is clearly faster", "[train][threads]") {
  const int saved = omp_get_max_threads();
  // The team's steps 5% shorter: within a probe's noise, one thread stays;
  // 11% shorter: the team wins.
  for (const auto& [team_us, team_wins] : {std::pair{9500, false}, std::pair{8900, true}}) {
    tuner_on_step_clock tuner(2, 3, 1000);
    fake_step step{2, 10000, team_us};
    for (int i = 0; i < 7; ++i) tuner.run(step);
    REQUIRE(tuner.settled());
    CHECK(tuner.median_time(2) == Approx(team_us * 1e-6));
    CHECK(tuner.median_time(1) == Approx(0.01));
    CHECK(tuner.threads() == (team_wins ? 2 : 1));
  }
  omp_set_num_threads(saved);
}

// The team's probe fell in a spell when the other process waited (every
// step 5 ms, one thread's 10 ms); after it, the team's steps alternate
// between 5 and 40 ms: never two slow ones in a row, but 22.5 ms on average.
struct spell_step {
  int calls = 0;
  int operator()() {
    const int us = omp_get_max_threads() == 1 ? 10000 : (calls < 6 || calls % 2 == 0 ? 5000 : 40000);
    ++calls;
    step_clock::take(us);
    return omp_get_max_threads();
  }
};

TEST_CASE("adaptive_threads gives a team up when its steps take longer than one thread's on average",
          "[train][threads]") {
  const int saved = omp_get_max_threads();
  tuner_on_step_clock tuner(2, 3, 1000);
  spell_step step;
  for (int i = 0; i < 7; ++i) tuner.run(step);  // 3 probes with 1 thread, the team's first step, 3 with 2
  REQUIRE(tuner.settled());
  REQUIRE(tuner.threads() == 2);
  for (int i = 0; i < 5; ++i) tuner.run(step);
  CHECK(tuner.settled());  // no two slow steps in a row, and the window of 6 is not full
  tuner.run(step);
  CHECK_FALSE(tuner.settled());  // its mean, 22.5 ms, is longer than one thread's 10 ms
  omp_set_num_threads(saved);
}

// The team's first step finds every parameter in the other core's cache: 4×
// one thread's step (on two dies the MLP's took more than 1.5×), the
// team's later steps half of it.
struct cold_team_step {
  int team_calls = 0;
  int operator()() {
    const int us = omp_get_max_threads() == 1 ? 10000 : (team_calls++ == 0 ? 40000 : 5000);
    step_clock::take(us);
    return omp_get_max_threads();
  }
};

TEST_CASE("adaptive_threads does not count a team's first step in a probe", "[train][threads]") {
  const int saved = omp_get_max_threads();
  tuner_on_step_clock tuner(2, 3, 6);
  cold_team_step step;
  for (int i = 0; i < 6; ++i) tuner.run(step);  // 3 probes with 1 thread, the team's first step, 2 with it
  CHECK_FALSE(tuner.settled());  // that slow step did not end the probe
  tuner.run(step);
  REQUIRE(tuner.settled());
  CHECK(tuner.threads() == 2);  // counted, the 40 ms step would have ended the probe
  CHECK(step.team_calls == 4);
  // At the next measurement the team's first step is slow again, and again
  // not counted: the team stays.
  for (int i = 0; i < 6; ++i) tuner.run(step);  // the interval
  CHECK_FALSE(tuner.settled());
  step.team_calls = 0;
  for (int i = 0; i < 7; ++i) tuner.run(step);
  CHECK(tuner.settled());
  CHECK(tuner.threads() == 2);
  omp_set_num_threads(saved);
}

TEST_CASE("adaptive_threads with one thread never probes", "[train][threads]") {
  ctnn::adaptive_threads tuner(1);
  fake_step step{1};
  CHECK(tuner.run(step) == 1);
  CHECK(tuner.settled());
  CHECK_THROWS_AS(ctnn::adaptive_threads(0), std::invalid_argument);
}

// The same choice on the steady clock, with steps that spin: milliseconds
// and a 6× difference, so that a test process preempted for a time slice
// (a few ms, when other tests share the cores) does not swap them.
TEST_CASE("adaptive_threads times real steps on the steady clock", "[train][threads]") {
  const int saved = omp_get_max_threads();
  for (const int fast : {1, 2}) {
    ctnn::adaptive_threads tuner(2, 3, 10);
    const auto step = [&] {
      spin_for(omp_get_max_threads() == fast ? 2000 : 12000);
      return omp_get_max_threads();
    };
    for (int i = 0; i < 7 && !tuner.settled(); ++i) tuner.run(step);
    REQUIRE(tuner.settled());
    CHECK(tuner.threads() == fast);
    CHECK(tuner.median_time(fast) >= 0.002);
    CHECK(tuner.median_time(fast) < 0.012);
  }
  omp_set_num_threads(saved);
}
