// The trends of the initialization experiment (seeds 000/004, "Let's look at
// some activation statistics"), asserted on the experiment's own networks
// (dsl/models/init_experiment.hpp) at 200 samples instead of 1000:
// - tanh, N(0, 0.01²): every layer scales the std by about 0.01·√500 ≈ 0.224
//   (tanh is linear near 0), so it collapses to 0 ("All activations become zero!");
// - tanh, N(0, 1): pre-activations of std ≈ √500 ≈ 22 saturate the units at ±1
//   ("Almost all neurons completely saturated, either -1 and 1");
// - tanh, Xavier: a spread that shrinks only slowly (0.63 → 0.23 in the seeds);
// - ReLU, Xavier: the std shrinks by about 1/√2 per layer (half the units are 0);
// - ReLU, He: the factor 2 makes up for it and the std stays put.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>

#include "models/init_experiment.hpp"

namespace ie = ctnn::models::init_experiment;

namespace {

constexpr std::size_t B = 200;
using layers = std::array<ctnn::activation_stats, ie::depth>;

void show(const char* what, const layers& s) {
  UNSCOPED_INFO(what);
  for (std::size_t l = 0; l < ie::depth; ++l)
    UNSCOPED_INFO("  layer " << l + 1 << ": mean " << s[l].mean << " std " << s[l].stddev << " |h|>=.99 "
                             << s[l].saturated << " zero " << s[l].zero);
}

// The per-layer factor of the std, averaged geometrically over layers 1 → 10.
double std_factor(const layers& s) { return std::pow(s[ie::depth - 1].stddev / s[0].stddev, 1.0 / double(ie::depth - 1)); }

}  // namespace

TEST_CASE("init experiment: the input is unit Gaussian", "[init][experiment]") {
  const auto data = ie::unit_gaussian_input(B, 1);
  const ctnn::activation_stats in = ctnn::statistics_of(std::span<const float>(data));
  CHECK(std::abs(in.mean) < 0.01);
  CHECK(in.stddev == Approx(1.0).epsilon(0.01));
}

TEST_CASE("init experiment: the trends the seeds describe", "[init][experiment]") {
  const auto seed = GENERATE(1u, 2u, 3u);
  const auto data = ie::unit_gaussian_input(B, seed);
  INFO("seed " << seed);

  SECTION("tanh, N(0, 0.01^2): the activations collapse to 0 layer by layer") {
    const layers s = ie::layer_statistics<ie::tanh_small, B>(data, seed);
    show("tanh small", s);
    CHECK(s[0].stddev > 0.19);
    CHECK(s[0].stddev < 0.24);
    for (std::size_t l = 1; l < ie::depth; ++l) {
      CHECK(s[l].stddev / s[l - 1].stddev > 0.20);
      CHECK(s[l].stddev / s[l - 1].stddev < 0.25);
    }
    CHECK(s[ie::depth - 1].stddev < 1e-5);
  }
  SECTION("tanh, N(0, 1): almost every unit saturated at -1 or +1, at every layer") {
    const layers s = ie::layer_statistics<ie::tanh_unit, B>(data, seed);
    show("tanh unit", s);
    for (const auto& l : s) {
      CHECK(l.saturated > 0.85);
      CHECK(l.mean_abs > 0.95);
      CHECK(l.stddev > 0.95);
      CHECK(std::abs(l.mean) < 0.02);
    }
  }
  SECTION("tanh, Xavier: the spread shrinks slowly and neither collapses nor saturates") {
    const layers s = ie::layer_statistics<ie::tanh_xavier, B>(data, seed);
    show("tanh xavier", s);
    CHECK(s[0].stddev > 0.55);
    CHECK(s[0].stddev < 0.70);
    CHECK(s[ie::depth - 1].stddev > 0.15);
    CHECK(s[ie::depth - 1].stddev < 0.35);
    CHECK(s[ie::depth - 1].stddev / s[0].stddev > 0.25);
    for (std::size_t l = 1; l < ie::depth; ++l) CHECK(s[l].stddev < s[l - 1].stddev);
    CHECK(s[ie::depth - 1].saturated < 0.01);
  }
  SECTION("ReLU, Xavier: the std shrinks by about 1/sqrt(2) per layer") {
    const layers s = ie::layer_statistics<ie::relu_xavier, B>(data, seed);
    show("relu xavier", s);
    CHECK(std_factor(s) > 0.65);
    CHECK(std_factor(s) < 0.76);
    CHECK(s[ie::depth - 1].stddev / s[0].stddev < 0.1);
    for (std::size_t l = 1; l < ie::depth; ++l) CHECK(s[l].stddev < s[l - 1].stddev);
  }
  SECTION("ReLU, He: the std stays put; half the units are zero") {
    const layers s = ie::layer_statistics<ie::relu_he, B>(data, seed);
    show("relu he", s);
    CHECK(s[ie::depth - 1].stddev / s[0].stddev > 0.7);
    CHECK(s[ie::depth - 1].stddev / s[0].stddev < 1.4);
    for (const auto& l : s) {
      CHECK(l.stddev > 0.6);
      CHECK(l.stddev < 1.3);
      CHECK(l.zero > 0.4);
      CHECK(l.zero < 0.6);
    }
  }
}
