// The vector tanh against the double-precision tanh: error in ulp over
// every magnitude from 1e-30 to 20 (a stride through the float bit
// patterns), exact signs, and the special values; the vector sigmoid
// (½ + ½·tanh(x/2)) against the double-precision logistic function.

#include <ctnn/kernels/math.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace {

using V = ctnn::kernels::vec<float>;

float tanh_lane0(float x) {
  alignas(64) float out[V::size];
  ctnn::kernels::tanh(V(x)).store_aligned(out);
  return out[0];
}

float sigmoid_lane0(float x) {
  alignas(64) float out[V::size];
  ctnn::kernels::sigmoid(V(x)).store_aligned(out);
  return out[0];
}

double ulp_error(float got, double exact) {
  const float r = float(std::abs(exact));
  const double ulp = double(std::nextafter(r, 2.0f)) - double(r);
  return std::abs(double(got) - exact) / ulp;
}

}  // namespace

TEST_CASE("vector tanh is within 3 ulp everywhere and keeps the sign", "[kernels][math]") {
  double worst = 0;
  float worst_at = 0;
  for (std::uint32_t bits = 0x0d000000u; bits < 0x41a00000u; bits += 97) {  // 1e-30 .. 20
    float x;
    std::memcpy(&x, &bits, sizeof x);
    for (const float s : {x, -x}) {
      const float got = tanh_lane0(s);
      REQUIRE(std::signbit(got) == std::signbit(s));
      const double e = ulp_error(got, std::tanh(double(s)));
      if (e > worst) worst = e, worst_at = s;
    }
  }
  INFO("worst error " << worst << " ulp at x = " << worst_at << ", simd " << ctnn::kernels::simd_name());
  CHECK(worst <= 3.0);
  // The AVX-512 form's fitted polynomials: 1.65 ulp over every float.
  if constexpr (V::size == 16) CHECK(worst <= 1.7);
  CHECK(worst > 0.0);  // the sweep really compared something
}

TEST_CASE("vector tanh: special values", "[kernels][math]") {
  CHECK(std::isnan(tanh_lane0(std::numeric_limits<float>::quiet_NaN())));
  CHECK(tanh_lane0(std::numeric_limits<float>::infinity()) == 1.0f);
  CHECK(tanh_lane0(-std::numeric_limits<float>::infinity()) == -1.0f);
  CHECK(tanh_lane0(0.0f) == 0.0f);
  CHECK(std::signbit(tanh_lane0(-0.0f)));
  CHECK(tanh_lane0(1e-30f) == 1e-30f);
  CHECK(tanh_lane0(50.0f) == 1.0f);
  // Every lane is computed, not only the first.
  alignas(64) float in[V::size], out[V::size];
  for (std::size_t i = 0; i < V::size; ++i) in[i] = float(i) * 0.37f - 2.0f;
  ctnn::kernels::tanh(V::load_aligned(in)).store_aligned(out);
  for (std::size_t i = 0; i < V::size; ++i) CHECK(ulp_error(out[i], std::tanh(double(in[i]))) <= 3.0);
}

TEST_CASE("tanh of several vectors at once gives each one's bits", "[kernels][math]") {
  // tanh_each keeps its constants in registers across the vectors; the
  // arithmetic is tanh's, value for value (NaN, infinities and signed zeros
  // included).
  alignas(64) float in[3][V::size], once[V::size], each[V::size];
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t i = 0; i < V::size; ++i) in[k][i] = std::ldexp(float(i) - 7.3f, int(k) * 3 - 4);
  in[0][0] = std::numeric_limits<float>::quiet_NaN();
  in[1][1] = -std::numeric_limits<float>::infinity();
  in[2][2] = -0.0f;
  V v[3] = {V::load_aligned(in[0]), V::load_aligned(in[1]), V::load_aligned(in[2])};
  ctnn::kernels::tanh_each(v);
  for (std::size_t k = 0; k < 3; ++k) {
    ctnn::kernels::tanh(V::load_aligned(in[k])).store_aligned(once);
    v[k].store_aligned(each);
    CHECK(std::memcmp(once, each, sizeof once) == 0);
  }
  v[0].store_aligned(each);
  CHECK(std::isnan(each[0]));
  CHECK(std::abs(each[1] - std::tanh(in[0][1])) < 1e-6f);
}

TEST_CASE("vector sigmoid is within 2e-7 of the logistic function and saturates cleanly", "[kernels][math]") {
  double worst = 0;
  for (float x = -40.0f; x <= 40.0f; x += 0.001953125f) {  // 2^-9 apart
    const double exact = 1.0 / (1.0 + std::exp(-double(x)));
    worst = std::max(worst, std::abs(double(sigmoid_lane0(x)) - exact));
  }
  INFO("largest absolute error " << worst);
  CHECK(worst <= 2e-7);
  CHECK(sigmoid_lane0(0.0f) == 0.5f);
  CHECK(sigmoid_lane0(std::numeric_limits<float>::infinity()) == 1.0f);
  CHECK(sigmoid_lane0(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(std::isnan(sigmoid_lane0(std::numeric_limits<float>::quiet_NaN())));
  // Bounded and ordered at the ends, where gates saturate.
  CHECK(sigmoid_lane0(-20.0f) >= 0.0f);
  CHECK(sigmoid_lane0(20.0f) <= 1.0f);
  CHECK(sigmoid_lane0(-3.0f) < sigmoid_lane0(-2.9f));
}
