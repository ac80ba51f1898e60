/// @file finite.hpp
/// Whether a buffer holds only finite numbers, as one vectorized pass: the
/// trainer's guard before an update, cheap next to the step it guards.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "ctnn/kernels/parameter_layout.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/kernels/step_team.hpp"
#include "ctnn/kernels/team_slice.hpp"

namespace ctnn::kernels {

/// True when none of p[0..n) is NaN or ±inf. x - x is 0 for a finite x and
/// NaN otherwise, so the sum of the differences is NaN exactly when one of
/// them is not finite (a NaN never turns back into a number).
template <class T>
bool all_finite(const T* p, std::size_t n) {
  constexpr std::size_t L = lanes<T>;
  // Four sums, so that the adds' latency is not the loop's: with one, a
  // pass over the MLP's 235k gradients in L2 took 8.1 µs, with four 5.9.
  vec<T> acc[4] = {vec<T>(T(0)), vec<T>(T(0)), vec<T>(T(0)), vec<T>(T(0))};
  std::size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L)
    for (std::size_t q = 0; q < 4; ++q) {
      const vec<T> v = vec<T>::load_unaligned(p + i + q * L);
      acc[q] += v - v;
    }
  for (; i + L <= n; i += L) {
    const vec<T> v = vec<T>::load_unaligned(p + i);
    acc[0] += v - v;
  }
  if (i < n) {  // the tail as one masked vector: its other lanes are zeros
    const vec<T> v = load_partial(p + i, n - i);
    acc[1] += v - v;
  }
  return !std::isnan(xsimd::hadd((acc[0] + acc[1]) + (acc[2] + acc[3])));
}

// ---- a gradient watched as it is written ------------------------------------

namespace detail {
// Σ (x − x) over the values this thread's watched products stored since
// the last reset, in lanes: NaN once one was not finite. Trivial, so
// reading it costs no initialization check.
template <class T>
alignas(64) inline thread_local T watched_sums[lanes<T>] = {};
}  // namespace detail

/// An epilogue for a product that writes a gradient: it stores the values
/// unchanged and sums x − x over them, so the check before an update need
/// not read that gradient again (the MLP's weights: 4.5 to 7 µs of a
/// 2-thread step reading what the products had just written). The packed
/// tiles copy it and call finish() once per tile, which adds the tile's
/// sum to the calling thread's watch. Only for a product that writes its
/// output whole (=, not +=).
template <class T>
struct finite_watch {
  mutable vec<T> sum = vec<T>(T(0));
  template <class V>
  V operator()(V x, std::size_t) const {
    if constexpr (std::is_floating_point_v<V>) sum += vec<T>(x - x);
    else sum += x - x;
    return x;
  }
  void finish() const {
    (vec<T>::load_aligned(detail::watched_sums<T>) + sum).store_aligned(detail::watched_sums<T>);
    sum = vec<T>(T(0));
  }
};

/// Starts the calling thread's watch afresh (at the start of a pass).
template <class T>
void reset_gradient_watch() {
  for (T& v : detail::watched_sums<T>) v = T(0);
}

/// Whether every value the calling thread's watched products stored since
/// the last reset was finite.
template <class T>
bool watched_gradients_finite() {
  return !std::isnan(xsimd::hadd(vec<T>::load_aligned(detail::watched_sums<T>)));
}

/// Whether thread t's parts (of a team of nt) of a parameter buffer laid
/// out as `layout` are finite: the watched stretches by the calling
/// thread's watch, the others read.
template <class T>
bool parts_finite(const T* p, const parameter_layout& layout, std::size_t t, std::size_t nt) {
  bool finite = watched_gradients_finite<T>();
  layout.for_unwatched_parts(t, nt, lanes<T>,
                             [&](std::size_t b, std::size_t e) { finite = finite && all_finite(p + b, e - b); });
  return finite;
}

/// all_finite, on the OpenMP team for buffers of at least team_pass_min
/// values: each thread checks the part that the optimizer's update then
/// gives it (the parameter layout of a step's team, or its team_slice), so
/// no thread reads gradients only to hand them to the other core (on one
/// thread, the check read the whole buffer, half of it written by the
/// other core).
template <class T>
bool all_finite_on_team(const T* p, std::size_t n) {
  constexpr std::size_t L = lanes<T>;
  if (step_team* const team = active_team()) {
    // The parameter buffer: its watched stretches were checked as the
    // team's threads wrote them (each has its own watch).
    if (const parameter_layout* layout = team->layout_of(n))
      return team->split_all([&](std::size_t t, std::size_t nt) { return parts_finite(p, *layout, t, nt); });
    const std::size_t vectors = n / L;
    return team->split_all([&](std::size_t t, std::size_t nt) {
      const auto [begin, end] = team_slice(vectors, t, nt);
      const bool tail = t + 1 < nt || all_finite(p + vectors * L, n - vectors * L);  // beside the last slice
      return tail && all_finite(p + begin * L, (end - begin) * L);
    });
  }
#if defined(_OPENMP)
  if (n >= team_pass_min && omp_get_max_threads() > 1 && !in_parallel_region()) {
    const std::size_t vectors = n / L;
    bool finite = true;
#pragma omp parallel reduction(&& : finite)
    {
      const auto [begin, end] = team_slice(vectors, std::size_t(omp_get_thread_num()), std::size_t(omp_get_num_threads()));
      finite = all_finite(p + begin * L, (end - begin) * L);
    }
    return finite && all_finite(p + vectors * L, n - vectors * L);
  }
#endif
  return all_finite(p, n);
}

/// The index of the first value of p[0..n) that is NaN or ±inf, or n.
template <class T>
std::size_t first_non_finite(const T* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return i;
  return n;
}

}  // namespace ctnn::kernels
