/// @file parallel_region.hpp
/// Whether the calling thread already runs in a parallel region, and its
/// number there. Two kinds of region exist: OpenMP's, and a step's team
/// (step_team.hpp), whose threads are ctnn's own and invisible to OpenMP. A
/// kernel that would open a region of its own inside either runs serially
/// instead, and per-thread scratch is indexed by the region's thread number.
#pragma once

#include <cstddef>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ctnn::kernels {

namespace detail {
/// Set by run_on_team on each of its threads for the whole of its body
/// (inside splits and serial work too).
struct team_membership {
  bool inside = false;
  unsigned id = 0;
};
inline thread_local team_membership this_team_thread;
}  // namespace detail

/// Whether the calling thread is in a step's team or an OpenMP region.
inline bool in_parallel_region() {
  if (detail::this_team_thread.inside) return true;
#if defined(_OPENMP)
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

/// The calling thread's number in its region (0 outside one).
inline std::size_t region_thread_num() {
  if (detail::this_team_thread.inside) return detail::this_team_thread.id;
#if defined(_OPENMP)
  return std::size_t(omp_get_thread_num());
#else
  return 0;
#endif
}

}  // namespace ctnn::kernels
