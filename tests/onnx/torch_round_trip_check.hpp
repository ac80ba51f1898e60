// The C++ side of the PyTorch round trip (tests/onnx/torch_round_trip.py
// writes one test per model that includes this): the batch PyTorch ran and
// its outputs, read from torch_<model>.npz (input_K, expected_K, float32),
// and the comparison of an imported network's output with PyTorch's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/io/npz.hpp>

namespace ctnn_torch {

// Each element within atol·max(1, largest) + rtol·|PyTorch's|, largest the
// output's largest |value|: two float computations summing in different
// orders. PyTorch's float outputs are themselves up to 4.7e-6 from its
// float64 ones (LeNet-aux, values up to 5); ctnn's are up to 9.9e-6 from
// PyTorch's. The floor covers outputs near zero, whose relative error means
// nothing; it grows with the output's scale because such an element is the
// difference of terms of that scale (ResNet-18's random batch norms give
// outputs up to 517, and PyTorch's own float error reaches 2.4e-4 there).
inline constexpr double rtol = 1e-4;
inline constexpr double atol = 1e-5;

class data_set {
 public:
  explicit data_set(const std::string& file) {
    for (const auto& a : ctnn::io::read_npz(file)) {
      REQUIRE(a.dtype == "<f4");
      std::vector<float> v(a.size());
      std::memcpy(v.data(), a.bytes.data(), v.size() * sizeof(float));
      const auto slot = [&](std::vector<std::vector<float>>& list, std::size_t prefix) {
        const std::size_t k = std::stoul(a.name.substr(prefix));
        if (list.size() <= k) list.resize(k + 1);
        list[k] = std::move(v);
      };
      if (a.name.starts_with("input_")) slot(inputs_, 6);
      else if (a.name.starts_with("expected_")) slot(expected_, 9);
    }
    REQUIRE(!inputs_.empty());
    REQUIRE(!expected_.empty());
  }

  const std::vector<float>& input(std::size_t k) const { return inputs_.at(k); }

  // Output k of the imported network against PyTorch's; prints the largest errors.
  void check(std::size_t k, std::span<const float> got) const {
    const std::vector<float>& expected = expected_.at(k);
    REQUIRE(got.size() == expected.size());
    double max_abs = 0, max_rel = 0, largest = 0;
    for (const float e : expected) largest = std::max(largest, std::abs(double(e)));
    const double floor = atol * std::max(1.0, largest);
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double e = expected[i], d = std::abs(double(got[i]) - e);
      max_abs = std::max(max_abs, d);
      if (e != 0) max_rel = std::max(max_rel, d / std::abs(e));
      INFO("output " << k << " element " << i << ": " << got[i] << ", PyTorch " << e);
      REQUIRE(d <= floor + rtol * std::abs(e));
    }
    std::printf("output %zu: %zu values up to %.3g; max abs error %.3g, max relative error %.3g\n", k, got.size(),
                largest, max_abs, max_rel);
  }

 private:
  std::vector<std::vector<float>> inputs_, expected_;
};

}  // namespace ctnn_torch
