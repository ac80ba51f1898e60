// The C++ side of ONNX's backend test cases (tests/onnx/conformance.py writes
// one program per operator that includes this): each case's data set is read
// from its .npz (input_K, expected_K, float32), the case's network predicts
// and every output element must lie within ONNX's tolerance of the expected
// one. One line per case: "PASS <case> max_abs_err=..", or FAIL with the
// first element out of tolerance; the exit code is 1 when a case failed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/npz.hpp>

#include "case_arrays.hpp"

namespace ctnn_conformance {

// ONNX's backend test default (onnx/backend/test/runner): rtol 1e-3, atol 1e-7.
inline constexpr double rtol = 1e-3;
inline constexpr double atol = 1e-7;

// A case's inputs and expected outputs (input_K, expected_K).
using data_set = ctnn_onnx_tests::case_arrays;

struct result {
  double max_abs_err = 0;
  std::string failure;  // the first element out of tolerance, or why the case could not run

  void compare(std::size_t output, std::span<const float> got, std::span<const float> expected) {
    if (got.size() != expected.size()) {
      fail("output " + std::to_string(output) + " has " + std::to_string(got.size()) + " values, expected " +
           std::to_string(expected.size()));
      return;
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double g = got[i], e = expected[i];
      // NaN against NaN and an infinity against itself agree, as in NumPy's assert_allclose.
      if ((std::isnan(g) && std::isnan(e)) || (std::isinf(e) && g == e)) continue;
      const double d = std::abs(g - e);
      if (!(d <= max_abs_err)) max_abs_err = std::isnan(d) ? INFINITY : d;
      if (!(d <= atol + rtol * std::abs(e))) {
        char text[160];
        std::snprintf(text, sizeof text, "output %zu element %zu: %.9g, expected %.9g", output, i, g, e);
        fail(text);
      }
    }
  }
  void fail(const std::string& why) {
    if (failure.empty()) failure = why;
  }
};

class runner {
 public:
  // argv[1], if given, runs only the cases whose name contains it.
  runner(int argc, char** argv) : filter_(argc > 1 ? argv[1] : "") {}

  // Runs `body` on each data set of the case (cases/NS.K.npz, K < sets).
  template <class Body>
  void run(const char* label, const char* ns, int sets, Body body) {
    if (!filter_.empty() && std::string(label).find(filter_) == std::string::npos) return;
    result res;
    try {
      for (int k = 0; k < sets; ++k)
        body(data_set(std::filesystem::path(CTNN_CONFORMANCE_DIR) / "cases" /
                      (std::string(ns) + "." + std::to_string(k) + ".npz")),
             res);
    } catch (const std::exception& e) {
      res.fail(std::string("exception: ") + e.what());
    }
    const bool ok = res.failure.empty();
    (ok ? passed_ : failed_) += 1;
    std::printf("%s %s max_abs_err=%.3g%s%s\n", ok ? "PASS" : "FAIL", label, res.max_abs_err, ok ? "" : ": ",
                res.failure.c_str());
  }

  int finish() const {
    std::printf("%d passed, %d failed\n", passed_, failed_);
    return failed_ ? 1 : 0;
  }

 private:
  std::string filter_;
  int passed_ = 0, failed_ = 0;
};

}  // namespace ctnn_conformance
