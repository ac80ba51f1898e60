/// @file team_slice.hpp
/// How a flat pass over the parameters (or their gradients) is shared by the
/// OpenMP team: thread t of nt takes one contiguous slice of the vectors.
/// Every such pass uses this one split, so the thread that checks a slice of
/// the gradients is the thread that then updates those parameters: on two
/// cores on different dies, a pass that reads what the other core just
/// touched waits for the line to cross.
#pragma once

#include <algorithm>
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

/// Thread t's samples of a batch shared by a team of nt threads, in whole
/// blocks of `block` samples (the last block may be short): a product over
/// the batch's rows cut at a multiple of its row tile takes, in each share,
/// the tiles it takes whole, and so gives the same bits.
constexpr team_slice_range sample_share(std::size_t batch, std::size_t block, std::size_t t, std::size_t nt) {
  const std::size_t blocks = (batch + block - 1) / block;
  const auto cut = [&](std::size_t u) { return u == nt ? batch : std::min(batch, blocks * u / nt * block); };
  return {cut(t), cut(t + 1)};
}

}  // namespace ctnn::kernels
