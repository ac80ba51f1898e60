/// @file step_team.hpp
/// One parallel region for a whole pass instead of one per parallel product.
///
/// Opening an OpenMP region costs 2.9 µs on two cores on different dies, a
/// barrier inside one 1.35 µs (GOMP's), and a barrier that one spinning
/// cache line carries 0.5 µs. A training step of the MLP opened seven. A
/// pass's team runs on threads kept between passes (team_pool.hpp). Inside
/// run_on_team, every thread runs the same sequence of calls; a kernel that
/// splits its work takes its part (step_team::split), anything else runs on thread 0
/// while the others go on to the next split (on_one_thread). A barrier
/// comes only where one thread's results meet another's: before a split,
/// and before serial work that follows one.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>

#include "ctnn/kernels/parallel_region.hpp"
#include "ctnn/kernels/parameter_layout.hpp"
#include "ctnn/kernels/team_pool.hpp"
#include "ctnn/kernels/team_slice.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ctnn::kernels {

/// A barrier for a fixed team: the last thread to arrive starts the next
/// generation. The others spin on it, and yield once the wait is long (a
/// core taken by another process must be able to run the thread they wait for).
class team_barrier {
 public:
  void wait(unsigned team_size) {
    const unsigned g = generation_.load(std::memory_order_relaxed);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == team_size) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(g + 1, std::memory_order_release);
      return;
    }
    wait_spinning([&] { return generation_.load(std::memory_order_acquire) != g; });
  }

 private:
  alignas(64) std::atomic<unsigned> arrived_{0};
  alignas(64) std::atomic<unsigned> generation_{0};
};

class step_team;
template <class Body>
void run_on_team(int threads, Body&& body, const parameter_layout* parameters = nullptr);
namespace detail {
inline thread_local step_team* active_step_team = nullptr;
}  // namespace detail

/// What the threads of run_on_team share.
struct team_shared {
  team_barrier barrier;
  std::atomic<bool> failed{false};  // serial work threw: the rest of the pass is skipped
  std::atomic<unsigned> votes_against{0};
  const parameter_layout* parameters = nullptr;  // how passes over the flat parameter buffer split
};

/// The calling thread's place in the team of run_on_team.
class step_team {
 public:
  step_team(unsigned id, unsigned size, team_shared& shared) : id_(id), size_(size), shared_(&shared) {}

  unsigned id() const { return id_; }
  unsigned size() const { return size_; }

  /// part(t, nt) on every thread, after the barrier that makes every
  /// earlier result visible (none before the first call): what serial work
  /// wrote is read inside the part, not before the call.
  template <class Part>
  void split(Part&& part) {
    if (last_ != last_call::none && last_ != last_call::unordered) shared_->barrier.wait(size_);
    last_ = last_call::split;
    if (failed()) return;
    detail::active_step_team = nullptr;  // kernels inside a part do not split again
    part(std::size_t(id_), std::size_t(size_));
    detail::active_step_team = this;
  }

  /// part(b0, b1) on every thread that has samples: its sample_share of a
  /// batch, for work that reads and writes only its samples' rows of
  /// per-sample buffers (and reads what came before the last barrier).
  /// Right after another split_samples of the same batch and block it
  /// waits for no barrier, each thread reading only rows it wrote itself;
  /// a caller whose next work may write where another thread still reads
  /// (a reused workspace slot) calls end_sample_run first.
  template <class Part>
  void split_samples(std::size_t batch, std::size_t block, Part&& part) {
    const bool continues = last_ == last_call::samples && samples_batch_ == batch && samples_block_ == block;
    if (!continues && last_ != last_call::none) shared_->barrier.wait(size_);
    last_ = last_call::samples;
    samples_batch_ = batch;
    samples_block_ = block;
    if (failed()) return;
    const auto [b0, b1] = sample_share(batch, block, id_, size_);
    if (b0 == b1) return;
    detail::active_step_team = nullptr;
    part(b0, b1);
    detail::active_step_team = this;
  }

  /// The next split_samples waits for every thread, as split does.
  void end_sample_run() {
    if (last_ == last_call::samples) last_ = last_call::split;
  }

  /// The next split starts without waiting for the last one: for parts
  /// that read nothing the last split wrote and write nothing it read (a
  /// dense layer's input-gradient product after its weight-gradient
  /// product). Serial work and split_samples still wait.
  void unordered_after_split() {
    if (last_ == last_call::split) last_ = last_call::unordered;
  }

  /// split, where part(t, nt) returns a bool: whether it holds on every
  /// thread's part, the same answer on every thread.
  template <class Part>
  bool split_all(Part&& part) {
    bool mine = true;
    split([&](std::size_t t, std::size_t nt) { mine = part(t, nt); });
    if (!mine) shared_->votes_against.fetch_add(1, std::memory_order_relaxed);
    shared_->barrier.wait(size_);
    // Counted, never reset: every thread compares with the count it saw last.
    // A thread votes again only after the barrier that starts the next split,
    // when every thread has read this count.
    const unsigned against = shared_->votes_against.load(std::memory_order_relaxed);
    const bool all = against == votes_seen_;
    votes_seen_ = against;
    return all;
  }

  /// f() on thread 0 alone, as on one thread: kernels it calls do not split.
  /// An exception stops the team's remaining work and is rethrown by
  /// run_on_team.
  template <class F>
  void serial(F&& f);

  /// A barrier outside split and serial, e.g. before reading a result every
  /// thread wrote; the next split then needs none.
  void sync() {
    shared_->barrier.wait(size_);
    last_ = last_call::none;
  }

  bool failed() const { return shared_->failed.load(std::memory_order_relaxed); }

  /// How a pass over a flat buffer of n elements splits, if it is the
  /// parameter buffer whose layout run_on_team was given (its gradients and
  /// the optimizer's state have the same length and indices); else nullptr.
  const parameter_layout* layout_of(std::size_t n) const {
    const parameter_layout* l = shared_->parameters;
    return l && l->floats == n ? l : nullptr;
  }

 private:
  enum class last_call { none, split, samples, serial, unordered };
  unsigned id_, size_;
  std::size_t samples_batch_ = 0, samples_block_ = 0;
  team_shared* shared_;
  unsigned votes_seen_ = 0;
  last_call last_ = last_call::none;
  std::exception_ptr error_;
  template <class Body>
  friend void run_on_team(int threads, Body&& body, const parameter_layout* parameters);
};

/// The team the calling thread runs in, or nullptr outside run_on_team (and
/// inside serial work).
inline step_team* active_team() { return detail::active_step_team; }

template <class F>
void step_team::serial(F&& f) {
  if (last_ == last_call::split || last_ == last_call::samples || last_ == last_call::unordered)
    shared_->barrier.wait(size_);
  last_ = last_call::serial;
  if (id_ != 0 || failed()) return;
  detail::active_step_team = nullptr;
  try {
    f();
  } catch (...) {
    error_ = std::current_exception();
    shared_->failed.store(true, std::memory_order_relaxed);
  }
  detail::active_step_team = this;
}

/// Whether the calling thread is thread 0 of the active team, or outside one:
/// the one that stores a result every thread computed alike.
inline bool leads_team() {
  const step_team* team = active_team();
  return !team || team->id() == 0;
}

/// Whether serial work of the active team threw: its splits are skipped,
/// and whatever a pass would have changed besides must stay as it was.
inline bool team_failed() {
  const step_team* team = active_team();
  return team && team->failed();
}

/// f() on thread 0 of the active team (the others skip it), or here.
template <class F>
void on_one_thread(F&& f) {
  if (step_team* team = active_team()) team->serial(f);
  else f();
}

/// f(b0, b1) over a batch of samples: on a step's team, each thread its
/// sample_share (step_team::split_samples), or all of them on thread 0 when
/// there are fewer blocks than threads; here f(0, batch).
template <class F>
void on_samples(std::size_t batch, std::size_t block, F&& f) {
  if (step_team* team = active_team()) {
    if ((batch + block - 1) / block >= team->size()) team->split_samples(batch, block, f);
    else team->serial([&] { f(std::size_t(0), batch); });
  } else {
    f(std::size_t(0), batch);
  }
}

/// Ends the active team's run of split_samples (step_team::end_sample_run).
inline void end_sample_run() {
  if (step_team* team = active_team()) team->end_sample_run();
}

/// The active team's next split does not wait for its last one
/// (step_team::unordered_after_split).
inline void unordered_after_split() {
  if (step_team* team = active_team()) team->unordered_after_split();
}

/// The team size a pass would get: OpenMP's (omp_set_num_threads), or 1.
inline int team_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// body() on `threads` threads, each with its step_team active; on one
/// thread (or without OpenMP, or inside another parallel region, or while
/// another thread's pass holds the team's threads), body() here with no
/// team. An exception from serial work is rethrown here, after the pass.
/// `parameters`: how the team's passes over the flat parameter buffer split
/// (step_team::layout_of).
template <class Body>
void run_on_team(int threads, Body&& body, const parameter_layout* parameters) {
#if defined(_OPENMP)
  if (threads > 1 && !in_parallel_region()) {
    team_shared shared;
    shared.parameters = parameters;
    std::exception_ptr error;
    auto job = [&](unsigned id, unsigned size) {
      step_team team(id, size, shared);
      detail::this_team_thread = {true, id};
      detail::active_step_team = &team;
      body();
      detail::active_step_team = nullptr;
      detail::this_team_thread = {};
      if (id == 0) error = team.error_;
    };
    if (team_pool::shared().run(unsigned(threads), job)) {
      if (error) std::rethrow_exception(error);
      return;
    }
  }
#endif
  (void)threads;
  (void)parameters;
  body();
}

}  // namespace ctnn::kernels
