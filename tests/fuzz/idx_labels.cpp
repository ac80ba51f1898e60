// libFuzzer target: ctnn::io::read_idx_labels on any bytes, raw and gzipped.
// Whatever it returns must be consistent with what it says it holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "idx_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ctnn_fuzz::read_idx_both_ways(data, size, [](const std::filesystem::path& p) {
    const ctnn::io::idx_labels lab = ctnn::io::read_idx_labels(p);
    if (lab.count == 0 || lab.labels.size() != lab.count) std::abort();
  });
  return 0;
}
