/// @file parameter_layout.hpp
/// Which thread of a step's team sweeps which part of the flat parameter
/// buffer (the gradient check and the update): each weight by the blocks
/// of rows its gradient Aᵀ·B gave that thread, so that a thread checks and
/// updates the lines it wrote, and the forward that splits a weight's depth
/// in halves reads the lines it updated. On cores on different dies a line
/// the other core wrote costs about 9 ns to take back; halving the MLP's
/// buffer flat gave thread 0 68 rows of fc1's weight that thread 1 had
/// written, and thread 1 fc2's weight, half of it written by thread 0.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

namespace ctnn::kernels {

/// One parameter tensor's stretch of the flat buffer, [begin, end) in
/// elements, the alignment padding after it included. Split by blocks of
/// `block_rows` rows of `row_length` elements, as Aᵀ·B splits its rows on a
/// team; rows == 0: thread 0 sweeps it whole (a bias, a small weight).
struct parameter_stretch {
  std::size_t begin = 0, end = 0;
  std::size_t rows = 0, row_length = 0;
  // Its gradient is written whole by one product that watches the values
  // it stores (kernels/finite.hpp): the check before an update skips it.
  bool watched = false;
};

/// The stretches of a flat buffer of `floats` elements, in order.
struct parameter_layout {
  std::span<const parameter_stretch> stretches;
  std::size_t floats = 0;
  std::size_t block_rows = 1;

  /// f(begin, end) for each of thread t's parts (of a team of nt), in
  /// order: element ranges whose ends are multiples of `align` (a vector's
  /// lanes) or the buffer's end; together the threads' parts cover it once.
  template <class F>
  void for_parts(std::size_t t, std::size_t nt, std::size_t align, F&& f) const {
    for_parts_of(t, nt, align, f, false);
  }
  /// for_parts over the stretches that are not watched.
  template <class F>
  void for_unwatched_parts(std::size_t t, std::size_t nt, std::size_t align, F&& f) const {
    for_parts_of(t, nt, align, f, true);
  }

 private:
  template <class F>
  void for_parts_of(std::size_t t, std::size_t nt, std::size_t align, F& f, bool skip_watched) const {
    for (const parameter_stretch& s : stretches) {
      if (skip_watched && s.watched) continue;
      if (s.rows == 0) {
        if (t == 0) f(s.begin, s.end);
        continue;
      }
      const auto cut = [&](std::size_t u) {
        if (u == nt) return s.end;
        const std::size_t blocks = (s.rows + block_rows - 1) / block_rows;
        const std::size_t row = std::min(s.rows, blocks * u / nt * block_rows);
        return std::max(s.begin, (s.begin + row * s.row_length) / align * align);
      };
      const std::size_t b = cut(t), e = cut(t + 1);
      if (b < e) f(b, e);
    }
  }
};

}  // namespace ctnn::kernels
