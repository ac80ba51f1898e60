// libFuzzer target: ctnn::io::read_idx_images on any bytes, raw and gzipped.
// Whatever it returns must be consistent with what it says it holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "idx_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ctnn_fuzz::read_idx_both_ways(data, size, [](const std::filesystem::path& p) {
    const ctnn::io::idx_images img = ctnn::io::read_idx_images(p);
    if (img.count == 0 || img.rows == 0 || img.cols == 0 || img.pixels.size() != img.count * img.rows * img.cols)
      std::abort();
  });
  return 0;
}
