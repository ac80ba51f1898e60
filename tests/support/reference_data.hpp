// Reference values from tests/data/*.npz, written by the committed
// python3-torch scripts beside them: read once per file, looked up by name,
// compared as the largest deviation relative to the reference's scale.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <ctnn/io/npz.hpp>

namespace ctnn_test {

/// Every array of tests/data/`file`.
inline const std::vector<ctnn::io::npy_array>& reference_arrays(const std::string& file) {
  static std::map<std::string, std::vector<ctnn::io::npy_array>> files;
  auto at = files.find(file);
  if (at == files.end()) at = files.emplace(file, ctnn::io::read_npz(std::string(CTNN_TEST_DATA_DIR) + "/" + file)).first;
  return at->second;
}

/// The float64 array `name` of tests/data/`file`.
inline std::vector<double> reference_array(const std::string& file, const std::string& name) {
  for (const auto& a : reference_arrays(file))
    if (a.name == name) {
      REQUIRE(a.dtype == "<f8");
      std::vector<double> v(a.size());
      std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
      return v;
    }
  FAIL("no array " << name << " in " << file);
  return {};
}

/// The values converted to the model's scalar type.
template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

/// max |a − b| / max(1, max |b|)
template <class T>
double deviation(std::span<const T> a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0, scale = 1;
  for (double v : b) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < b.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst / scale;
}

}  // namespace ctnn_test
