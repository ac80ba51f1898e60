// A pass as one parallel region (kernels/step_team.hpp): every thread runs the
// same calls, splits take their parts, serial work runs once on thread 0, and
// each reads what the calls before it wrote, on any team size. The team's
// threads are kept between passes (kernels/team_pool.hpp) and rest between
// them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/parallel_region.hpp"
#include "ctnn/kernels/parallel_samples.hpp"
#include "ctnn/kernels/parameter_layout.hpp"
#include "ctnn/kernels/step_team.hpp"
#include "ctnn/kernels/team_pool.hpp"

namespace {

using ctnn::kernels::active_team;
using ctnn::kernels::in_parallel_region;
using ctnn::kernels::on_one_thread;
using ctnn::kernels::region_thread_num;
using ctnn::kernels::run_on_team;
using ctnn::kernels::step_team;

// values[i] = i + offset on the team's parts (or all here). The offset is
// read inside the part: a value that serial work wrote is visible to the
// other threads only after the barrier at the start of the split.
void fill(std::vector<long>& values, const long& offset) {
  const auto part = [&](std::size_t t, std::size_t nt) {
    for (std::size_t i = t; i < values.size(); i += nt) values[i] = long(i) + offset;
  };
  if (step_team* team = active_team()) team->split(part);
  else part(0, 1);
}

}  // namespace

TEST_CASE("run_on_team: splits and serial work see each other's results", "[kernels][threads]") {
  for (int threads : {1, 2, 3}) {
    INFO(threads << " threads");
    std::vector<long> values(97, -1);
    long first_sum = 0, second_sum = 0;
    int serial_runs = 0, team_size = 0;
    bool serial_has_no_team = false;
    run_on_team(threads, [&] {
      if (step_team* team = active_team()) team->split([&](std::size_t t, std::size_t nt) { if (t == 0) team_size = int(nt); });
      else team_size = 1;
      fill(values, 0);
      on_one_thread([&] {  // after a split: waits for every part
        ++serial_runs;
        first_sum = std::accumulate(values.begin(), values.end(), 0L);
        // No team inside serial work, and no region of its own either.
        serial_has_no_team = active_team() == nullptr && in_parallel_region() == (threads > 1);
      });
      on_one_thread([&] { ++serial_runs; });  // serial after serial: no barrier needed, still once
      fill(values, first_sum);                // after serial work: reads first_sum as thread 0 wrote it
      on_one_thread([&] { second_sum = std::accumulate(values.begin(), values.end(), 0L); });
    });
    CHECK(serial_runs == 2);
    CHECK(team_size == threads);
    CHECK(serial_has_no_team);
    CHECK(first_sum == 97 * 96 / 2);
    CHECK(second_sum == 97 * 96 / 2 + 97 * first_sum);
    CHECK(active_team() == nullptr);
  }
}

TEST_CASE("unordered_after_split: the next split starts at once, serial work still waits for both",
          "[kernels][threads]") {
  // Thread 0's part of the first split waits (up to 10 s) for thread 1 to
  // enter the second: with a barrier between the splits it never would.
  std::atomic<bool> second_entered{false};
  bool seen = false;
  std::vector<long> first(2, 0), second(2, 0);
  long sum = 0;
  run_on_team(2, [&] {
    step_team* team = active_team();
    REQUIRE(team != nullptr);
    team->split([&](std::size_t t, std::size_t) {
      if (t == 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!second_entered.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
        seen = second_entered.load();
      }
      first[t] = long(t) + 1;
    });
    ctnn::kernels::unordered_after_split();
    team->split([&](std::size_t t, std::size_t) {
      if (t == 1) second_entered.store(true);
      second[t] = long(t) + 10;
    });
    on_one_thread([&] { sum = first[0] + first[1] + second[0] + second[1]; });  // after the barrier
  });
  CHECK(seen);
  CHECK(sum == 1 + 2 + 10 + 11);
  // Outside a team it does nothing.
  ctnn::kernels::unordered_after_split();
  CHECK(active_team() == nullptr);
}

TEST_CASE("step_team::split_all: every thread gets the same answer, call after call", "[kernels][threads]") {
  for (int threads : {2, 3}) {
    INFO(threads << " threads");
    std::vector<int> answers;  // thread 0's, in order
    bool agreed = true, on_team = true;
    run_on_team(threads, [&] {
      step_team* team = active_team();
      if (!team) {  // no Catch2 assertion inside the region: it may throw
        on_team = false;
        return;
      }
      // Thread `against` says no in round r (none in the first and last
      // rounds): four answers in a row, no split between them.
      int mine[4];
      for (int r = 0; r < 4; ++r)
        mine[r] = team->split_all([&](std::size_t t, std::size_t) { return r == 0 || r == 3 || t != std::size_t(r % 2); });
      // Every thread's answers agree with thread 0's.
      std::vector<int> local(mine, mine + 4);
      if (team->id() == 0) answers = local;
      team->sync();
      if (local != answers) agreed = false;  // a benign race on a bool only when the test fails
    });
    REQUIRE(on_team);
    CHECK(agreed);
    CHECK(answers == std::vector<int>{1, 0, 0, 1});
  }
}

TEST_CASE("run_on_team: an exception in serial work skips the rest and is rethrown", "[kernels][threads]") {
  for (int threads : {1, 2}) {
    INFO(threads << " threads");
    std::vector<long> values(10, -1);
    int after = 0;
    std::atomic<int> saw_failure{0};
    CHECK_THROWS_WITH(run_on_team(threads,
                                  [&] {
                                    on_one_thread([] { throw std::out_of_range("token 12 is past the vocabulary"); });
                                    fill(values, 5);  // skipped on a team
                                    on_one_thread([&] { ++after; });
                                    if (ctnn::kernels::team_failed()) ++saw_failure;  // every thread, after the barrier
                                  }),
                      "token 12 is past the vocabulary");
    if (threads > 1) {
      CHECK(after == 0);
      CHECK(values[3] == -1);
      CHECK(saw_failure == threads);
    }
  }
}

TEST_CASE("on_product_columns: each thread the columns its forward product wrote", "[kernels][threads]") {
  constexpr std::size_t n = 256;
  const auto [a0, a1] = ctnn::kernels::product_columns<float>(n, 0, 2);
  const auto [b0, b1] = ctnn::kernels::product_columns<float>(n, 1, 2);
  CHECK(a0 == 0);
  CHECK(a1 == b0);
  CHECK(b1 == n);
  CHECK(a1 % (ctnn::kernels::lanes<float> * 2) == 0);  // whole panels of whole vectors
  std::vector<int> owner(n, -1);
  run_on_team(2, [&] {
    ctnn::kernels::on_product_columns<float>(n, [&](std::size_t c0, std::size_t c1) {
      for (std::size_t c = c0; c < c1; ++c) owner[c] = int(region_thread_num());
    });
  });
  for (std::size_t c = 0; c < n; ++c) CHECK(owner[c] == (c < a1 ? 0 : 1));
}

TEST_CASE("parameter_layout: every element in one thread's part, weights by their gradient's row blocks",
          "[kernels][threads]") {
  using ctnn::kernels::parameter_stretch;
  // A 37 × 20 weight (740 values, padded to 752), a bias of 20 (to 768), an
  // 8 × 3 weight left whole (to 784), a 100 × 16 weight (to 2384).
  constexpr parameter_stretch stretches[] = {{0, 752, 37, 20}, {752, 768, 0, 0}, {768, 784, 0, 0}, {784, 2384, 100, 16}};
  const ctnn::kernels::parameter_layout layout{stretches, 2384, 4};
  for (std::size_t align : {std::size_t(8), std::size_t(16)})
    for (std::size_t nt = 1; nt <= 3; ++nt) {
      std::vector<int> owner(layout.floats, -1);
      for (std::size_t t = 0; t < nt; ++t)
        layout.for_parts(t, nt, align, [&](std::size_t b, std::size_t e) {
          CHECK(b < e);
          CHECK(b % align == 0);
          CHECK((e % align == 0 || e == layout.floats));
          for (std::size_t i = b; i < e; ++i) {
            CHECK(owner[i] == -1);
            owner[i] = int(t);
          }
        });
      for (std::size_t i = 0; i < layout.floats; ++i) REQUIRE(owner[i] >= 0);
      // The bias and the small weight on thread 0 alone.
      for (std::size_t i = 752; i < 784; ++i) CHECK(owner[i] == 0);
      // The last thread's rows of the 100 × 16 weight start at its row blocks
      // (25 blocks of 4 rows): row 48 on two threads, row 64 on three.
      if (nt > 1) {
        const std::size_t first_row = nt == 2 ? 12 * 4 : 16 * 4;
        CHECK(owner[784 + first_row * 16 - 1] == int(nt) - 2);
        CHECK(owner[784 + first_row * 16] == int(nt) - 1);
      }
    }
}

// Shares of a batch in whole blocks of samples: in order, every sample once.
static_assert(ctnn::kernels::sample_share(64, 8, 0, 2).begin == 0 && ctnn::kernels::sample_share(64, 8, 0, 2).end == 32);
static_assert(ctnn::kernels::sample_share(64, 6, 0, 2).end == 30 && ctnn::kernels::sample_share(64, 6, 1, 2).end == 64);
static_assert(ctnn::kernels::sample_share(20, 8, 1, 3).begin == 8 && ctnn::kernels::sample_share(20, 8, 2, 3).begin == 16 &&
              ctnn::kernels::sample_share(20, 8, 2, 3).end == 20);
static_assert(ctnn::kernels::sample_share(20, 8, 2, 5).begin == 8 && ctnn::kernels::sample_share(20, 8, 2, 5).end == 8,
              "more threads than blocks: some have none");

TEST_CASE("split_samples: a run over the same samples reads each thread's own rows, then the team meets",
          "[kernels][threads]") {
  constexpr std::size_t batch = 37, block = 4;
  for (int threads : {1, 2, 3}) {
    INFO(threads << " threads");
    std::vector<long> first(batch, -1), second(batch, -1), third(batch, -1);
    std::vector<int> owner(batch, -1);
    run_on_team(threads, [&] {
      const auto samples = [&](auto&& f) { ctnn::kernels::on_samples(batch, block, f); };
      samples([&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b) {
          first[b] = long(b) + 1;
          owner[b] = int(region_thread_num());
        }
      });
      // No barrier: the rows read are the ones this thread just wrote.
      samples([&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b) second[b] = first[b] * 10;
      });
      // After end_sample_run the team meets: any row may be read.
      ctnn::kernels::end_sample_run();
      samples([&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b) third[b] = second[batch - 1 - b];
      });
    });
    for (std::size_t b = 0; b < batch; ++b) {
      CHECK(second[b] == long(b + 1) * 10);
      CHECK(third[b] == long(batch - b) * 10);
      const auto [s0, s1] = ctnn::kernels::sample_share(batch, block, std::size_t(owner[b]), std::size_t(threads));
      CHECK((s0 <= b && b < s1));
    }
  }
  // Fewer blocks than threads: thread 0 takes the whole batch.
  std::vector<int> owner(6, -1);
  run_on_team(2, [&] {
    ctnn::kernels::on_samples(6, 8, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t b = b0; b < b1; ++b) owner[b] = int(region_thread_num());
    });
  });
  CHECK(std::count(owner.begin(), owner.end(), 0) == 6);
}

TEST_CASE("team_pool: each number once, 0 on the caller, the same threads from run to run", "[kernels][threads]") {
  ctnn::kernels::team_pool pool;
  const auto caller = std::this_thread::get_id();
  std::vector<std::thread::id> first(3), second(3);
  std::vector<std::atomic<int>> runs(3);
  auto record = [&](std::vector<std::thread::id>& into) {
    return [&into, &runs](unsigned t, unsigned) {
      into[t] = std::this_thread::get_id();
      ++runs[t];
    };
  };
  auto job1 = record(first);
  REQUIRE(pool.run(3, job1));
  auto job2 = record(second);
  REQUIRE(pool.run(3, job2));
  for (const auto& r : runs) CHECK(r.load() == 2);
  CHECK(first[0] == caller);
  CHECK(first[1] != caller);
  CHECK(first[2] != caller);
  CHECK(first[1] != first[2]);
  CHECK(second == first);
  // A smaller team leaves the third thread out.
  auto job3 = [&](unsigned t, unsigned nt) {
    if (nt == 2) ++runs[t];
  };
  REQUIRE(pool.run(2, job3));
  CHECK(runs[1].load() == 3);
  CHECK(runs[2].load() == 2);
}

TEST_CASE("team_pool: a caller that finds it running runs alone, and a team inside a team is serial",
          "[kernels][threads]") {
  ctnn::kernels::team_pool pool;
  bool nested_refused = false;
  auto job = [&](unsigned t, unsigned) {
    if (t != 0) return;
    auto inner = [](unsigned, unsigned) {};
    nested_refused = !pool.run(2, inner);
  };
  REQUIRE(pool.run(2, job));
  CHECK(nested_refused);

  // On a step's team, a kernel that would open a region of its own runs on
  // its thread: for_each_sample does every sample there, in order.
  std::vector<std::vector<std::size_t>> seen(2);
  std::vector<std::size_t> numbers(2, 99);
  run_on_team(2, [&] {
    active_team()->split([&](std::size_t t, std::size_t) {
      numbers[t] = region_thread_num();
      ctnn::kernels::for_each_sample(ctnn::kernels::fixed<8>{}, 1e9, [&](std::size_t b) { seen[t].push_back(b); });
    });
  });
  CHECK(numbers == std::vector<std::size_t>{0, 1});
  const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5, 6, 7};
  CHECK(seen[0] == all);
  CHECK(seen[1] == all);
  CHECK_FALSE(in_parallel_region());
}

// The CPU time, in ms, of the thread that runs a pool's thread number 1:
// run(pool) makes a pass that records that thread's clock.
struct worker_cpu_time {
  clockid_t clock{};
  bool run(ctnn::kernels::team_pool& pool) {
    auto job = [this](unsigned t, unsigned) {
      if (t == 1) pthread_getcpuclockid(pthread_self(), &clock);
    };
    return pool.run(2, job);
  }
  double ms() const {
    timespec now{};
    clock_gettime(clock, &now);
    return 1e3 * double(now.tv_sec) + 1e-6 * double(now.tv_nsec);
  }
};

TEST_CASE("team_pool: its threads rest between runs", "[kernels][threads]") {
  // A worker spins about a millisecond after a run, then sleeps: over the
  // 200 ms that follow, its thread uses almost no CPU time. A worker that
  // kept spinning would use all of it. (The thread's own clock: OpenMP's
  // threads may spin that long after a region of an earlier test.)
  ctnn::kernels::team_pool pool;
  worker_cpu_time worker;
  for (int i = 0; i < 100; ++i) REQUIRE(worker.run(pool));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double start = worker.ms();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(worker.ms() - start < 20);
}

TEST_CASE("team_pool: with OMP_WAIT_POLICY=passive its threads sleep at once", "[kernels][threads]") {
  using ctnn::kernels::idle_spins_for;
  CHECK(idle_spins_for(nullptr) == 1u << 16);
  CHECK(idle_spins_for("active") == 1u << 16);
  CHECK(idle_spins_for("passive") == 0);
  CHECK(idle_spins_for("PASSIVE") == 0);
  CHECK(idle_spins_for("Passive") == 0);
  CHECK(idle_spins_for("pass") == 1u << 16);
  CHECK(idle_spins_for("passively") == 1u << 16);
  CHECK(idle_spins_for("") == 1u << 16);

  // Right after its runs, a worker that spun its 2^16 pauses (a millisecond
  // or more) would use that much CPU time; one that sleeps at once, the
  // few microseconds of going to sleep.
  ctnn::kernels::team_pool pool(idle_spins_for("passive"));
  worker_cpu_time worker;
  REQUIRE(worker.run(pool));
  // The median of 21 rounds: a round in which the host took the core from
  // the worker's virtual CPU counts that time as the worker's.
  std::vector<double> used;
  for (int i = 0; i < 21; ++i) {
    REQUIRE(worker.run(pool));
    const double start = worker.ms();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    used.push_back(worker.ms() - start);
  }
  std::nth_element(used.begin(), used.begin() + 10, used.end());
  CHECK(used[10] < 0.3);
}

TEST_CASE("team_pool: a child process runs its passes on threads of its own", "[kernels][threads]") {
  // The parent's workers do not exist in a child made by fork(): a pass
  // there that waited for them would never end.
  int outside = 0;
  run_on_team(2, [&] { on_one_thread([&] { ++outside; }); });  // the workers start in the parent
  REQUIRE(outside == 1);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(20);  // a hung child ends with SIGALRM
    std::vector<long> values(64, -1);
    const long offset = 3;
    run_on_team(2, [&] { fill(values, offset); });
    _exit(values[63] == 66 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
