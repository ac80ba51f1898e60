// Shared by the gradient-check tests: deterministic random data, parameter
// randomization, node lookup and the check itself.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <span>
#include <string_view>

#include <ctnn/ctnn.hpp>

namespace gc {

inline constexpr std::size_t B = 3;  // every op is checked at batch size 3

// The h of the central differences. Seed 002 says "usually use h = 1e-6"; with
// losses of order one in double, rounding in the loss (~1e-16 relative, divided
// by 2h) and truncation (~h^2 f''') balance nearer 1e-5, which keeps the
// relative errors of small gradients (~1e-3) below 1e-7 as well.
inline constexpr double step = 1e-5;

// Below this magnitude a gradient is compared by absolute error (the bound
// times 1e-4): the central difference's rounding noise, ~1e-16·|L| / 2h, is
// about 1e-11 for losses of order one, which is a relative error above 1e-6
// for an entry of 1e-5, while any real mistake is of the gradient's own size.
inline constexpr double relative_floor = 1e-4;

// Deterministic across standard libraries: raw mt19937_64 output only (the
// std distributions are implementation-defined).
struct rng {
  std::mt19937_64 gen;
  explicit rng(std::uint64_t seed) : gen(seed * 0x9e3779b97f4a7c15ull + 1) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(gen() >> 11) * 0x1.0p-53; }
  std::size_t index(std::size_t n) { return std::size_t(gen() % n); }
  template <std::size_t N>
  std::array<double, N> uniform_array(double lo, double hi) {
    std::array<double, N> a{};
    for (auto& v : a) v = uniform(lo, hi);
    return a;
  }
  template <std::size_t N>
  std::array<double, N> signs() {  // ±1 targets for hinge
    std::array<double, N> a{};
    for (auto& v : a) v = (gen() >> 63) ? 1.0 : -1.0;
    return a;
  }
  template <std::size_t N>
  std::array<int, N> labels(std::size_t classes) {
    std::array<int, N> a{};
    for (auto& v : a) v = int(index(classes));
    return a;
  }
};

// Every trainable parameter tensor (tied ones once) uniform in [-scale, scale], drawn per
// name so that two networks with the same names get the same values.
template <class Net, std::size_t Bn>
void randomize(ctnn::model<Net, Bn, double>& m, std::uint64_t seed, double scale = 0.8) {
  constexpr const auto& P = Net::plan;
  for (std::size_t i = 0; i < Net::node_count; ++i)
    for (std::size_t j = 0; j < P.nodes[i].param_count; ++j) {
      if (!P.nodes[i].params[j].trainable) continue;  // running statistics keep their start values
      const std::string_view name = P.nodes[i].params[j].name;
      std::uint64_t h = seed;
      for (char c : name) h = (h ^ std::uint8_t(c)) * 0x100000001b3ull;
      rng r(h);
      for (double& v : m.param_span(name)) v = r.uniform(-scale, scale);
    }
}

// The id of the `nth` node whose kind is `kind` ("dense", "dense+relu", "add", ...).
template <class Net>
constexpr std::size_t node_id(std::string_view kind, std::size_t nth = 0) {
  for (std::size_t i = 0; i < Net::node_count; ++i)
    if (Net::plan.nodes[i].kind == kind && nth-- == 0) return i;
  return ctnn::none;
}

// The id of the node named `name` (a dense layer's name, an input's name).
template <class Net>
constexpr std::size_t node_named(std::string_view name) {
  for (std::size_t i = 0; i < Net::node_count; ++i)
    if (Net::plan.nodes[i].name == name) return i;
  return ctnn::none;
}

inline double min_abs(std::span<const double> v, double shift = 0) {
  double m = INFINITY;
  for (double x : v) m = std::min(m, std::abs(x - shift));
  return m;
}

// No input within this distance of a kink: with h = 1e-5 and parameters and
// inputs of order one, a perturbation moves a pre-activation by ~1e-5.
inline constexpr double kink_margin = 1e-3;

// Draws parameters and data with seeds 1, 2, ... until `ok(model)` holds
// (after whatever forward pass `ok` runs); returns the seed used.
template <class Net, std::size_t Bn, class Draw, class Ok>
std::uint64_t draw_until(ctnn::model<Net, Bn, double>& m, Draw draw, Ok ok) {
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    randomize(m, seed);
    draw(seed);
    if (ok(m)) return seed;
  }
  FAIL("no draw kept the data away from the kinks");
  return 0;
}

// Runs the check, prints the table when CTNN_GRADCHECK_PRINT is set, and
// attaches it to the assertions that follow. `feeds`: every input and label,
// by name, as for model::forward (ctnn::feed<"x">(x)).
template <class Net, std::size_t Bn, class... F>
ctnn::gradient_report check(const char* what, ctnn::model<Net, Bn, double>& m, const F&... feeds) {
  auto r = ctnn::check_gradients(m, ctnn::gradient_check_options{.step = step, .floor = relative_floor}, feeds...);
  if (std::getenv("CTNN_GRADCHECK_PRINT")) std::cout << "== " << what << "\n" << r.to_string() << "\n";
  return r;
}

}  // namespace gc

// Asserts the bound on the significant error (the relative error beyond the
// central difference's rounding, see ctnn/train/gradient_check.hpp: the raw
// error's noise part changes with the instruction set) and shows the report
// when it fails.
#define GC_REQUIRE_BELOW(report, bound)                   \
  do {                                                    \
    const auto& gc_r_ = (report);                         \
    INFO(gc_r_.to_string());                              \
    REQUIRE(gc_r_.tensors.size() > 0);                    \
    CHECK(gc_r_.max_significant_error() < (bound));       \
  } while (0)
