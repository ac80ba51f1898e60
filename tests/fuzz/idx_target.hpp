// What the two IDX fuzz targets share: each input is read twice, as the file
// it is (raw IDX, or a gzip stream the fuzzer mutates) and gzip-compressed
// (so that mutations of the IDX bytes also reach the reader through a valid
// gzip stream, which random changes to compressed bytes rarely leave intact).
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <ctnn/io/idx.hpp>

#include "input_file.hpp"

namespace ctnn_fuzz {

/// The bytes as a gzip file (level 1, fast).
inline std::string gzipped(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  // The smallest window and memory: zlib's large defaults cost more than the read under ASan.
  if (deflateInit2(&z, 1, Z_DEFLATED, 9 + 16, 1, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  // deflateBound, not compressBound: with memLevel 1 incompressible input
  // expands by more than compressBound's defaults allow (a crash the idx_images
  // fuzzer found in this helper, kept in regressions/idx_images).
  std::string out(deflateBound(&z, uLong(size)), '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = uInt(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// Calls read(path) on the input as it is, then gzip-compressed. A data_error
/// is the documented answer to a bad file; anything else escapes and is a finding.
template <class Read>
void read_idx_both_ways(const std::uint8_t* data, std::size_t size, Read read) {
  static input_file file;
  try {
    read(file.hold(data, size));
  } catch (const ctnn::io::data_error&) {
  }
  const std::string gz = gzipped(data, size);
  try {
    read(file.hold(reinterpret_cast<const std::uint8_t*>(gz.data()), gz.size()));
  } catch (const ctnn::io::data_error&) {
  }
}

}  // namespace ctnn_fuzz
