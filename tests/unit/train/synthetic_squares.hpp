// A deterministic 28×28 data set for the LeNet tests: ten classes, each a
// bright 6×6 square at its own place on a dim, noisy background. Learnable
// in a few steps, so a handful of SGD steps must lower the loss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace ctnn_test {

template <class T = float>
struct synthetic_squares {
  std::vector<T> x;
  std::vector<unsigned char> y;
  explicit synthetic_squares(std::size_t n, std::uint64_t seed) : x(n * 784), y(n) {
    std::mt19937_64 gen(seed);
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned c = unsigned(gen() % 10);
      y[i] = static_cast<unsigned char>(c);
      T* img = x.data() + i * 784;
      for (std::size_t p = 0; p < 784; ++p) img[p] = T(0.1) * T(gen() >> 40) / T(1ull << 24);
      const std::size_t r0 = 2 + (c / 5) * 12, c0 = 2 + (c % 5) * 5;
      for (std::size_t r = r0; r < r0 + 6; ++r)
        for (std::size_t q = c0; q < c0 + 6 && q < 28; ++q) img[r * 28 + q] = T(1);
    }
  }
};

}  // namespace ctnn_test
