// What the tests of the large models (AlexNet, VGG16, GoogLeNet) run on one
// image at batch 1: a training step with a finite loss and a gradient that
// reaches the first convolution, then SGD steps on the same image that lower
// its loss, without a heap allocation. The loss is measured by predict_one
// (dropout off), so the masks of each step do not blur the comparison.
// Include tests/support/count_allocations.hpp before this header.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace ctnn_test {

/// Softmax cross-entropy of scores s for class y, in double.
inline double cross_entropy(std::span<const float> s, std::size_t y) {
  const double m = *std::max_element(s.begin(), s.end());
  double z = 0;
  for (float v : s) z += std::exp(double(v) - m);
  return std::log(z) + m - double(s[y]);
}

/// Runs 1 + Steps SGD steps (learning rate lr) on one fixed image of
/// InputSize values in [-1, 1] with class Label; FirstConv names the first
/// convolution's weight.
template <class Net, std::size_t InputSize, std::size_t Label, int Steps = 2>
void one_sample_steps(std::string_view first_conv, float lr) {
  std::vector<float> image(InputSize);
  std::mt19937_64 gen(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : image) v = u(gen);
  const std::int32_t label = Label;

  // On the heap: the model's buffers are, but not the trainer's own members.
  auto t = std::make_unique<ctnn::trainer<Net, ctnn::batch<1>>>(ctnn::optim::sgd{.lr = lr}, 1);
  std::vector<double> losses{cross_entropy(t->predict_one(ctnn::feed<"data">(image)), Label)};

  // The first step also starts the OpenMP team: allocations are counted after it.
  const float first = t->step(ctnn::feed<"data">(image), ctnn::feed<"label">(&label));
  CHECK(std::isfinite(first));
  const auto g = t->model().grad_span(first_conv);
  const auto nonzero = std::count_if(g.begin(), g.end(), [](float v) { return v != 0.0f; });
  INFO(first_conv << ": " << nonzero << " of " << g.size() << " gradient entries nonzero");
  CHECK(nonzero > std::ptrdiff_t(g.size() / 2));
  losses.push_back(cross_entropy(t->predict_one(ctnn::feed<"data">(image)), Label));

  std::vector<double> more(Steps, 0.0);  // allocated before counting
  const long before = allocations.load();
  for (int i = 0; i < Steps; ++i) {
    t->step(ctnn::feed<"data">(image), ctnn::feed<"label">(&label));
    more[std::size_t(i)] = cross_entropy(t->predict_one(ctnn::feed<"data">(image)), Label);
  }
  const long after = allocations.load();
  CHECK(after - before == 0);
  losses.insert(losses.end(), more.begin(), more.end());

  for (std::size_t i = 1; i < losses.size(); ++i) {
    INFO("loss on the image before step " << i << ": " << losses[i - 1] << ", after: " << losses[i]);
    CHECK(std::isfinite(losses[i]));
    CHECK(losses[i] < losses[i - 1]);
  }
}

}  // namespace ctnn_test
