/// @file parallel_samples.hpp
/// The samples of a batch side by side on the OpenMP team. A convolution's
/// per-sample products are small (LeNet's conv2: 50×64×500), so splitting
/// each of them over threads pays a fork and a barrier per sample; splitting
/// the batch pays one per layer. Each sample's arithmetic is the same whatever
/// the team size, so results do not depend on the thread count.
#pragma once

#include <cstddef>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "ctnn/kernels/parallel_region.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

/// Batches with less work than this (multiply-adds) stay on the calling thread.
inline constexpr double parallel_samples_threshold = 4.0e5;

/// f(b) for every sample b of the batch (a `fixed<B>` or a run-time count);
/// over the team when the batch has more than one sample and enough work and
/// no team is running yet (nested calls stay serial).
template <extent SB, class F>
inline void for_each_sample(SB batch, double multiply_adds_per_sample, F&& f) {
  const std::size_t n = extent_value(batch);
#if defined(_OPENMP)
  if constexpr (!is_static_extent_v<SB> || extent_value(SB{}) > 1) {
    if (n > 1 && omp_get_max_threads() > 1 && !in_parallel_region() &&
        double(n) * multiply_adds_per_sample > parallel_samples_threshold) {
#pragma omp parallel for schedule(static)
      for (std::ptrdiff_t b = 0; b < std::ptrdiff_t(n); ++b) f(std::size_t(b));
      return;
    }
  }
#endif
  (void)multiply_adds_per_sample;
  for (std::size_t b = 0; b < n; ++b) f(b);
}
template <std::size_t B, class F>
inline void for_each_sample(double multiply_adds_per_sample, F&& f) {
  for_each_sample(fixed<B>{}, multiply_adds_per_sample, static_cast<F&&>(f));
}

/// Which of `batch` per-sample buffers the calling thread may use for the
/// sample it is running inside for_each_sample: its number in its region
/// (OpenMP's or a step's team, parallel_region.hpp). A thread runs one
/// sample at a time, and only the first `batch` threads of a team get
/// samples; outside a team (or nested in one) the loop is serial.
template <extent SB>
inline std::size_t sample_slot(SB batch) {
  return region_thread_num() % extent_value(batch);
}
template <std::size_t B>
inline std::size_t sample_slot() {
  return sample_slot(fixed<B>{});
}

/// f(0) and f(1), on two threads when a team is available and the work
/// is worth it, else one after the other: the two halves of a reduction
/// whose split must not depend on the thread count.
template <class F>
inline void both_halves(double multiply_adds, F&& f) {
#if defined(_OPENMP)
  if (omp_get_max_threads() > 1 && !in_parallel_region() && multiply_adds > parallel_samples_threshold) {
#pragma omp parallel for schedule(static) num_threads(2)
    for (int h = 0; h < 2; ++h) f(std::size_t(h));
    return;
  }
#endif
  (void)multiply_adds;
  f(0);
  f(1);
}

}  // namespace ctnn::kernels
