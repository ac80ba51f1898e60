// libFuzzer target: loading a checkpoint into a model, as `ctnn_train
// --init-from` does (ctnn::load_shared_parameters). A data_error is the
// documented answer to a bad file, and a load that throws must leave the
// model as it was.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "checkpoint_network.hpp"
#include "input_file.hpp"

namespace {

std::vector<float> snapshot(ctnn_fuzz::checkpoint_net::model& m) {
  std::vector<float> v(m.parameters().begin(), m.parameters().end());
  v.insert(v.end(), m.state().begin(), m.state().end());
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ctnn_fuzz::input_file file;
  static ctnn_fuzz::checkpoint_net::model m(1);
  const std::vector<float> before = snapshot(m);
  try {
    ctnn::load_shared_parameters(file.hold(data, size), m);
  } catch (const ctnn::io::data_error&) {
    const std::vector<float> after = snapshot(m);
    // Bitwise: a NaN the file did not load must compare equal to itself here.
    if (!std::equal(before.begin(), before.end(), after.begin(), after.end(),
                    [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }))
      std::abort();
  }
  return 0;
}
