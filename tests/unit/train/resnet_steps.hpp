// Shared by the ResNet tests (dsl/models/resnet.hpp), one translation unit
// per model so that each heavy instantiation compiles on its own: training
// steps at batch 2 on a reduced 64×64 input (the parameter count does not
// depend on the side: the global pool reads layer4's [C, 2, 2] as it would
// [C, 7, 7] at 224).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <models/resnet.hpp>

#include "../../support/count_allocations.hpp"

namespace resnet_steps {

inline constexpr std::size_t side = 64;
inline constexpr std::size_t B = 2;

/// Forward and backward steps of plain SGD on one fixed batch: the loss is
/// finite, falls at the first step and ends below half its start, the first
/// convolution receives a gradient, and neither step() nor predict()
/// allocates. (Not "falls at every step": near the end a step can overshoot
/// by a little, and whether it does depends on the compiler's rounding;
/// clang 16 with AVX-512 went 9.04, 6.77, 4.80, 1.41, 1.55.)
template <class Net>
void check() {
  std::mt19937_64 gen(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(B * 3 * side * side);
  for (float& v : x) v = normal(gen);
  const int y[B] = {3, 917};
  auto t = std::make_unique<ctnn::trainer<Net, ctnn::batch<B>>>(ctnn::optim::sgd{.lr = 0.002f, .momentum = 0.0f}, 1);

  const float first = t->step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
  INFO("first loss " << first);
  REQUIRE(std::isfinite(first));
  CHECK(first > 4.0f);  // about ln 1000 = 6.9 from random weights
  const auto g = t->model().grad_span("conv1.weight");
  const float largest = std::abs(*std::max_element(g.begin(), g.end(), [](float a, float b) { return std::abs(a) < std::abs(b); }));
  CHECK(largest > 0.0f);
  CHECK(std::all_of(g.begin(), g.end(), [](float v) { return std::isfinite(v); }));

  const long before = ctnn_test::allocations.load();
  float losses[4];
  for (float& l : losses) l = t->step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
  const float score = t->predict(ctnn::feed<"image">(x))[0];
  const long after = ctnn_test::allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(score));
  INFO("losses " << first << " " << losses[0] << " " << losses[1] << " " << losses[2] << " " << losses[3]);
  CHECK(std::all_of(std::begin(losses), std::end(losses), [](float l) { return std::isfinite(l); }));
  CHECK(losses[0] < first);
  CHECK(losses[1] < losses[0]);
  CHECK(std::max(losses[2], losses[3]) < 0.5f * first);
}

}  // namespace resnet_steps
