// libFuzzer target: ctnn::io::read_npz on any bytes. A data_error is the
// documented answer to a bad archive; whatever it returns must hold exactly
// the bytes its dtype and shape call for.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <ctnn/io/npz.hpp>

#include "input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ctnn_fuzz::input_file file;
  try {
    for (const ctnn::io::npy_array& a : ctnn::io::read_npz(file.hold(data, size)))
      if (a.bytes.size() != a.size() * ctnn::io::detail::npy_item_size(a.dtype)) std::abort();
  } catch (const ctnn::io::data_error&) {
  }
  return 0;
}
