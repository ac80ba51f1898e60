// softmax_cross_entropy's rule for one sample, whose exponentials run a
// vector at a time with a masked last vector: the loss and the softmax
// probabilities against a long double reference, for class counts below, at
// and past one and two vectors' lanes (AVX-512 floats: 16, doubles: 8), and
// nothing written past the n probabilities.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace {

template <class T>
void check_classes(std::size_t n) {
  INFO(n << " classes, " << sizeof(T) * 8 << "-bit values");
  std::mt19937 gen{unsigned(n)};
  std::normal_distribution<double> score(0.0, 4.0);
  std::vector<T> s(n);
  for (T& v : s) v = T(score(gen));
  const std::size_t y = n / 2;
  const T guard = T(-12345);
  std::vector<T> p(n + 32, guard);
  const T loss = ctnn::loss_rule::softmax_cross_entropy::loss(s.data(), n, y, p.data());

  const long double m = *std::max_element(s.begin(), s.end());
  long double sum = 0;
  for (T v : s) sum += std::exp((long double)v - m);
  const long double expected = m + std::log(sum) - (long double)s[y];
  const double eps = std::numeric_limits<T>::epsilon();
  // exp within a few ulp, the sum's rounding growing with n.
  const double tolerance = double(8 + n) * eps;
  CHECK(std::abs(double((long double)loss - expected)) <= tolerance * std::max(1.0, std::abs(double(expected))));
  for (std::size_t i = 0; i < n; ++i) {
    const long double exact = std::exp((long double)s[i] - m) / sum;
    CHECK(std::abs(double(((long double)p[i] - exact) / exact)) <= tolerance);
  }
  CHECK(std::count(p.begin() + std::ptrdiff_t(n), p.end(), guard) == 32);
}

}  // namespace

TEST_CASE("softmax_cross_entropy: loss and probabilities for class counts around a vector's lanes", "[loss]") {
  for (std::size_t n : {1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 40, 100}) {
    check_classes<float>(n);
    check_classes<double>(n);
  }
}

TEST_CASE("softmax_cross_entropy: one class far above the rest", "[loss]") {
  // e^(s − m) underflows to 0 for every other class: p = one-hot, loss 0.
  std::vector<float> s(20, -200.0f), p(20);
  s[13] = 200.0f;
  CHECK(ctnn::loss_rule::softmax_cross_entropy::loss(s.data(), s.size(), 13, p.data()) == 0.0f);
  for (std::size_t i = 0; i < s.size(); ++i) CHECK(p[i] == (i == 13 ? 1.0f : 0.0f));
}
