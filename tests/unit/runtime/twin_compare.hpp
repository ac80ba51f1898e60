/// @file twin_compare.hpp
/// What the twin's comparison tests share: a relative error per tensor, the
/// parameter-by-parameter check of a twin against its static model, and
/// deterministic data.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <ctnn/runtime.hpp>

namespace twin_compare {

inline constexpr double tolerance = 1e-5;

/// max |a − b| / max(|a|, |b|) over a tensor.
inline double relative_error(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, scale = 1e-30;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max({scale, std::abs(double(a[i])), std::abs(double(b[i]))});
  }
  return diff / scale;
}
inline double relative_error(float a, float b) { return relative_error(std::span(&a, 1), std::span(&b, 1)); }

/// Every parameter (or its gradient) of the twin against the static model's.
template <class StaticModel>
void check_parameters(StaticModel& s, ctnn::runtime::model& r, bool gradients, const std::string& when) {
  for (const ctnn::runtime::param_spec& p : r.source().params()) {
    const double e = gradients ? relative_error(s.grad_span(p.name), r.grad(p.name))
                               : relative_error(s.param_span(p.name), r.param(p.name));
    INFO(when << ": " << (gradients ? "gradient of " : "") << p.name << " relative error " << e);
    CHECK(e <= tolerance);
  }
}

inline std::vector<float> uniform(std::size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}
/// n classes in [0, k), as T (int for labels fed as integers, float for ids).
template <class T = int>
std::vector<T> classes(std::size_t n, int k, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> d(0, k - 1);
  std::vector<T> v(n);
  for (T& x : v) x = T(d(gen));
  return v;
}

}  // namespace twin_compare
