/// @file team_slice.hpp
/// How a flat pass over the parameters (or their gradients) is shared by the
/// OpenMP team: thread t of nt takes one contiguous slice of the vectors.
/// Every such pass uses this one split, so the thread that checks a slice of
/// the gradients is the thread that then updates those parameters: on two
/// cores on different dies, a pass that reads what the other core just
/// touched waits for the line to cross.
#pragma once

#include <cstddef>

namespace ctnn::kernels {

/// Buffers at least this long are swept by the whole team; shorter ones are
/// cheaper than waking it.
inline constexpr std::size_t team_pass_min = std::size_t(1) << 16;

/// [begin, end) of a slice, in the caller's units.
struct team_slice_range {
  std::size_t begin, end;
};

/// Thread t's slice of `count` items shared by a team of nt threads.
constexpr team_slice_range team_slice(std::size_t count, std::size_t t, std::size_t nt) {
  return {count * t / nt, count * (t + 1) / nt};
}

}  // namespace ctnn::kernels
