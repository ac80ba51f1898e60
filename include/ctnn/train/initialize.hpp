/// @file initialize.hpp
/// Draws a parameter's initial values from its declaration (`param_decl::init`,
/// the schemes of ctnn/ops/init.hpp). Each parameter has its own generator,
/// seeded by the model's seed and the parameter's name, so adding, removing
/// or reordering layers leaves the others' initial values unchanged.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <string_view>
#include <vector>

#include "ctnn/ops/node.hpp"

namespace ctnn {

/// The generator seed of the parameter `name` under the model seed `seed`
/// (FNV-1a over the name, started from the mixed seed).
constexpr std::uint64_t parameter_seed(std::uint64_t seed, std::string_view name) {
  std::uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  for (char c : name) h = (h ^ std::uint8_t(c)) * 0x100000001b3ull;
  return h;
}

/// The rows of a parameter viewed as [rows, units], the units being its last
/// dimension (a dense weight [in, out]: in rows, one column per unit).
constexpr std::size_t init_rows(const shape_info& s) {
  return s.rank == 0 ? 1 : s.size() / s.dims[s.rank - 1];
}

/// Fills `p` (d.shape.size() values) as `d.init` says, from
/// std::mt19937_64(parameter_seed(seed, d.name)). Draws in double, stores as T.
///
/// | kind           | values                                                   |
/// |----------------|----------------------------------------------------------|
/// | zeros, ones    | 0, 1                                                     |
/// | constant       | init.value                                               |
/// | gaussian       | N(0, init.value²)                                        |
/// | xavier_uniform | U(−a, a), a = √(6/(fan_in + fan_out))                    |
/// | xavier_normal  | N(0, 2/(fan_in + fan_out))                               |
/// | he_normal      | N(0, 2/fan_in)                                           |
/// | he_uniform     | U(−a, a), a = √(6/fan_in)                                |
/// | uniform_fan_in | U(−a, a), a = 1/√fan_in                                  |
/// | sparse         | per column, init.nonzeros rows chosen without replacement get N(0, init.value²), the rest 0 |
template <class T>
void initialize_parameter(T* p, const param_decl& d, std::uint64_t seed) {
  std::mt19937_64 gen(parameter_seed(seed, d.name));
  const std::size_t n = d.shape.size();
  const auto normal = [&](double stddev) {
    std::normal_distribution<double> dist(0.0, stddev);
    for (std::size_t k = 0; k < n; ++k) p[k] = T(dist(gen));
  };
  const auto uniform = [&](double a) {
    std::uniform_real_distribution<double> dist(-a, a);
    for (std::size_t k = 0; k < n; ++k) p[k] = T(dist(gen));
  };
  switch (d.init.kind) {
    case init_kind::zeros:
      std::fill_n(p, n, T(0));
      break;
    case init_kind::ones:
      std::fill_n(p, n, T(1));
      break;
    case init_kind::constant:
      std::fill_n(p, n, T(d.init.value));
      break;
    case init_kind::gaussian:
      normal(d.init.value);
      break;
    case init_kind::xavier_uniform:
      uniform(std::sqrt(6.0 / double(d.fan_in + d.fan_out)));
      break;
    case init_kind::xavier_normal:
      normal(std::sqrt(2.0 / double(d.fan_in + d.fan_out)));
      break;
    case init_kind::he_normal:
      normal(std::sqrt(2.0 / double(d.fan_in)));
      break;
    case init_kind::he_uniform:
      uniform(std::sqrt(6.0 / double(d.fan_in)));
      break;
    case init_kind::uniform_fan_in:
      uniform(1.0 / std::sqrt(double(d.fan_in)));
      break;
    case init_kind::sparse: {
      std::fill_n(p, n, T(0));
      const std::size_t rows = init_rows(d.shape), cols = n / rows;
      const std::size_t k = std::min(d.init.nonzeros, rows);  // k ≤ rows is checked at compile time
      std::vector<std::size_t> index(rows);
      std::iota(index.begin(), index.end(), std::size_t(0));
      std::normal_distribution<double> dist(0.0, d.init.value);
      for (std::size_t c = 0; c < cols; ++c)
        // A partial Fisher-Yates shuffle: the first k entries are a uniform
        // k-subset of the rows, whatever order the previous column left.
        for (std::size_t i = 0; i < k; ++i) {
          std::uniform_int_distribution<std::size_t> pick(i, rows - 1);
          std::swap(index[i], index[pick(gen)]);
          p[index[i] * cols + c] = T(dist(gen));
        }
      break;
    }
  }
}

}  // namespace ctnn
