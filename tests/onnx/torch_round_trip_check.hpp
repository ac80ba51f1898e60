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

#include "case_arrays.hpp"

namespace ctnn_torch {

// Each element within atol + rtol·|PyTorch's|: two float computations summing
// in different orders. PyTorch's float outputs are themselves up to 4.7e-6
// from its float64 ones (LeNet-aux, values up to 5); ctnn's are up to 9.9e-6
// from PyTorch's. The floor covers outputs near zero, whose relative error
// means nothing.
inline constexpr double rtol = 1e-4;
inline constexpr double atol = 1e-5;

class data_set : public ctnn_onnx_tests::case_arrays {
 public:
  explicit data_set(const std::string& file) : case_arrays(file) {
    REQUIRE(input_count() > 0);
    REQUIRE(expected_count() > 0);
  }

  // Output k of the imported network against PyTorch's; prints the largest errors.
  void check(std::size_t k, std::span<const float> got) const {
    const std::span<const float> expected = this->expected(k);
    REQUIRE(got.size() == expected.size());
    double max_abs = 0, max_rel = 0, largest = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double e = expected[i], d = std::abs(double(got[i]) - e);
      max_abs = std::max(max_abs, d);
      largest = std::max(largest, std::abs(e));
      if (e != 0) max_rel = std::max(max_rel, d / std::abs(e));
      INFO("output " << k << " element " << i << ": " << got[i] << ", PyTorch " << e);
      REQUIRE(d <= atol + rtol * std::abs(e));
    }
    std::printf("output %zu: %zu values up to %.3g; max abs error %.3g, max relative error %.3g\n", k, got.size(),
                largest, max_abs, max_rel);
  }
};

}  // namespace ctnn_torch
