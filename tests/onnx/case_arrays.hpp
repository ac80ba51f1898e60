// The arrays of one ONNX-derived test case, read from an .npz: input_K and
// expected_K (float32), as tests/onnx/conformance.py and torch_round_trip.py
// write them. Shared by the conformance programs and the PyTorch round trip.
#pragma once

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/io/data_error.hpp>
#include <ctnn/io/npz.hpp>

namespace ctnn_onnx_tests {

class case_arrays {
 public:
  explicit case_arrays(const std::filesystem::path& file) {
    for (const auto& a : ctnn::io::read_npz(file)) {
      if (a.dtype != "<f4") throw ctnn::io::data_error(file.string() + ": " + a.name + " is not float32");
      std::vector<float> v(a.size());
      std::memcpy(v.data(), a.bytes.data(), v.size() * sizeof(float));
      if (a.name.starts_with("input_")) place(inputs_, a.name.substr(6), std::move(v));
      else if (a.name.starts_with("expected_")) place(expected_, a.name.substr(9), std::move(v));
    }
  }
  std::size_t input_count() const { return inputs_.size(); }
  std::size_t expected_count() const { return expected_.size(); }
  std::span<const float> input(std::size_t k) const { return inputs_.at(k); }
  std::span<const float> expected(std::size_t k) const { return expected_.at(k); }

 private:
  static void place(std::vector<std::vector<float>>& list, const std::string& index, std::vector<float> v) {
    const std::size_t k = std::stoul(index);
    if (list.size() <= k) list.resize(k + 1);
    list[k] = std::move(v);
  }
  std::vector<std::vector<float>> inputs_, expected_;
};

}  // namespace ctnn_onnx_tests
