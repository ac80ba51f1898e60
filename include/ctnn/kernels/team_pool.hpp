/// @file team_pool.hpp
/// The threads a step's team runs on, kept from one step to the next.
///
/// An OpenMP region costs about 6 µs per step on two cores on different dies
/// (2.5 µs until the first thread runs the body, 3.5 µs from its end until
/// the caller goes on); waking a thread that waits on one cache line and
/// waiting for it on another costs 0.1-0.5 µs. Between runs a worker spins
/// 2¹⁶ pauses (1.3 ms on Zen 5), then sleeps (std::atomic::wait), so that a
/// program that stops stepping leaves no core busy; with OMP_WAIT_POLICY=
/// passive it sleeps at once, as OpenMP's threads then do. One caller at a
/// time: a pass that finds the pool running runs on its own thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#if __has_include(<pthread.h>)
#include <pthread.h>
#define CTNN_TEAM_POOL_ATFORK 1
#else
#define CTNN_TEAM_POOL_ATFORK 0
#endif

namespace ctnn::kernels {

/// The spin-wait hint (PAUSE), where there is one.
inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Waits until done(): a few thousand pauses (tens of microseconds), then
/// yielding, so that a thread it waits for that has no core of its own (one
/// taken by another process) gets one.
template <class Done>
inline void wait_spinning(Done&& done) {
  for (unsigned spins = 0; !done(); ++spins) {
    if (spins < (1u << 12)) cpu_pause();
    else std::this_thread::yield();
  }
}

/// Pauses a worker spins after a run before it sleeps, given the value of
/// OMP_WAIT_POLICY (or null): none for PASSIVE (any case, as OpenMP reads
/// it), 2¹⁶ otherwise: ACTIVE asks for spinning, but a worker that never
/// slept would keep a core busy after the last step.
inline unsigned idle_spins_for(const char* wait_policy) {
  const auto same_letter = [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; };
  const bool passive = wait_policy != nullptr &&
                       std::ranges::equal(std::string_view(wait_policy), std::string_view("passive"), same_letter);
  return passive ? 0 : 1u << 16;
}

class team_pool {
 public:
  /// The pool of the process.
  static team_pool& shared() {
    static team_pool pool;
#if CTNN_TEAM_POOL_ATFORK
    // A child process has none of its parent's threads: it starts its own.
    static const int forks_handled = pthread_atfork(nullptr, nullptr, [] { shared().forget_workers(); });
    (void)forks_handled;
#endif
    return pool;
  }

  /// Workers that spin `idle_spins` pauses after a run before they sleep.
  explicit team_pool(unsigned idle_spins = idle_spins_for(std::getenv("OMP_WAIT_POLICY")))
      : idle_spins_(idle_spins) {}
  team_pool(const team_pool&) = delete;
  team_pool& operator=(const team_pool&) = delete;
  ~team_pool() {
    stopping_.store(true, std::memory_order_release);
    for (auto& w : workers_) {
      w->go.fetch_add(1, std::memory_order_release);
      w->go.notify_one();
    }
    for (auto& w : workers_) w->thread.join();
  }

  /// job(t, n) for every t in [0, n): t = 0 on the calling thread, the
  /// others on the pool's threads (started the first time they are needed;
  /// n is lowered to the threads there are when the system starts no more).
  /// False, with nothing run, when another thread is running the pool or
  /// the team would be the caller alone. job must not throw.
  template <class Job>
  bool run(unsigned n, Job& job) {
    std::unique_lock lock(busy_, std::try_to_lock);
    if (!lock) return false;
    try {
      while (workers_.size() + 1 < n) start_worker();
    } catch (...) {  // no thread (std::system_error) or no memory for one
      n = unsigned(workers_.size()) + 1;
      if (n == 1) return false;
    }
    size_ = n;
    call_ = [](void* j, unsigned t, unsigned nt) noexcept { (*static_cast<Job*>(j))(t, nt); };
    job_ = &job;
    remaining_.store(n - 1, std::memory_order_relaxed);
    for (unsigned t = 1; t < n; ++t) {
      worker& w = *workers_[t - 1];
      w.go.fetch_add(1, std::memory_order_release);  // publishes call_ and job_
      w.go.notify_one();
    }
    call_(job_, 0, n);
    wait_spinning([&] { return remaining_.load(std::memory_order_acquire) == 0; });
    return true;
  }

 private:
  struct worker {
    alignas(64) std::atomic<unsigned> go{0};
    std::thread thread;
  };

  void start_worker() {
    workers_.reserve(workers_.size() + 1);  // the push_back below cannot throw with a thread running
    auto w = std::make_unique<worker>();
    const unsigned id = unsigned(workers_.size()) + 1;
    worker* self = w.get();
    w->thread = std::thread([this, self, id] { work(*self, id); });
    workers_.push_back(std::move(w));
  }

  // In a child process: the workers' threads stayed in the parent. Their
  // state is left behind unfreed (a joinable std::thread may not be destroyed).
  void forget_workers() {
    for (auto& w : workers_) (void)w.release();
    workers_.clear();
  }

  void work(worker& w, unsigned id) {
    unsigned seen = 0;
    for (;;) {
      unsigned now = w.go.load(std::memory_order_acquire);
      for (unsigned spins = 0; now == seen; now = w.go.load(std::memory_order_acquire)) {
        if (spins < idle_spins_) {
          ++spins;
          cpu_pause();
        } else {
          w.go.wait(seen, std::memory_order_acquire);
        }
      }
      seen = now;
      if (stopping_.load(std::memory_order_acquire)) return;
      call_(job_, id, size_);
      remaining_.fetch_sub(1, std::memory_order_release);
    }
  }

  const unsigned idle_spins_;  // pauses a worker spins between runs before it sleeps
  std::mutex busy_;
  std::vector<std::unique_ptr<worker>> workers_;
  void (*call_)(void*, unsigned, unsigned) noexcept = nullptr;
  void* job_ = nullptr;
  unsigned size_ = 0;
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<unsigned> remaining_{0};
};

}  // namespace ctnn::kernels
