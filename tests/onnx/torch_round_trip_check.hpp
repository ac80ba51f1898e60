// The C++ side of the PyTorch round trip (tests/onnx/torch_round_trip.py
// writes one test per model that includes this): the batch PyTorch ran and
// its outputs, read from torch_<model>.npz (input_K, expected_K, floor_K;
// float32), and the comparison of an imported network's output with PyTorch's.
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

#include "case_arrays.hpp"

namespace ctnn_torch {

// Each element within floor_K + rtol·|PyTorch's|: two float computations
// summing in different orders. The floor covers outputs near zero, whose
// relative error means nothing: torch_round_trip.py writes it per output, the
// larger of 1e-5 of the output's largest |value| (such an element is the
// difference of terms of that scale) and twice PyTorch's own float32 error
// against float64 (ctnn may stray as far on the other side; it grows with
// depth: 4.7e-6 for LeNet-aux, 7e-5 for ResNet-50). A data set without
// floor_K gets atol, the floor of shallow models.
inline constexpr double rtol = 1e-4;
inline constexpr double atol = 1e-5;

class data_set : public ctnn_onnx_tests::case_arrays {
 public:
  explicit data_set(const std::string& file) : case_arrays(file) {
    REQUIRE(input_count() > 0);
    REQUIRE(expected_count() > 0);
    // case_arrays reads inputs and outputs; the floors are this test's own.
    for (const auto& a : ctnn::io::read_npz(file)) {
      if (!a.name.starts_with("floor_")) continue;
      REQUIRE((a.dtype == "<f4" && a.size() == 1));
      const std::size_t k = std::stoul(a.name.substr(6));
      if (floors_.size() <= k) floors_.resize(k + 1, atol);
      float f;
      std::memcpy(&f, a.bytes.data(), sizeof f);
      floors_[k] = f;
    }
  }

  // Output k of the imported network against PyTorch's; prints the largest errors.
  void check(std::size_t k, std::span<const float> got) const {
    const std::span<const float> expected = this->expected(k);
    REQUIRE(got.size() == expected.size());
    double max_abs = 0, max_rel = 0, largest = 0;
    for (const float e : expected) largest = std::max(largest, std::abs(double(e)));
    const double floor = k < floors_.size() ? floors_[k] : atol;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double e = expected[i], d = std::abs(double(got[i]) - e);
      max_abs = std::max(max_abs, d);
      if (e != 0) max_rel = std::max(max_rel, d / std::abs(e));
      INFO("output " << k << " element " << i << ": " << got[i] << ", PyTorch " << e);
      REQUIRE(d <= floor + rtol * std::abs(e));
    }
    std::printf("output %zu: %zu values up to %.3g; max abs error %.3g (floor %.3g), max relative error %.3g\n", k,
                got.size(), largest, max_abs, floor, max_rel);
  }

 private:
  std::vector<double> floors_;
};

}  // namespace ctnn_torch
