// step() with every training option on (L2, L1, clipping by value and by
// norm, max-norm, parameter averaging), and with frozen tensors and
// learning-rate multipliers, makes no heap allocation, nor do
// evaluating with the averaged parameters and an ensemble's predictions:
// every operator new in this program is counted, and the count must not move.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "../../support/count_allocations.hpp"

using ctnn_test::allocations;

namespace mlp {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto hidden = ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::dense<"fc1", 256, ctnn::no_bias>(image)));
inline constexpr auto logits = ctnn::dense<"fc3", 10>(ctnn::relu(ctnn::dense<"fc2", 100>(hidden)));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>),
                                   ctnn::outputs(logits)));
}  // namespace mlp

TEST_CASE("no heap allocation in step with every training option on", "[alloc][options]") {
  using trainer = ctnn::trainer<mlp::net, ctnn::batch<64>, ctnn::optim::adam>;
  trainer t({.lr = 1e-3f}, 7,
            {.l2 = 1e-4f, .l1 = 1e-5f, .clip_value = 1.0f, .clip_norm = 5.0f, .max_norm = 3.0f, .ema_decay = 0.99f});
  trainer u({.lr = 1e-3f}, 8, {.l2 = 1e-4f, .regularize_all = true, .max_norm = 3.0f});
  ctnn::ensemble<trainer> e({t, u});
  // Frozen tensors and learning-rate multipliers: the copies are allocated here.
  trainer f({.lr = 1e-3f, .weight_decay = 1e-4f}, 9, {.l2 = 1e-4f, .clip_norm = 5.0f, .max_norm = 3.0f});
  f.freeze("fc1");
  f.freeze("bn1");
  f.set_lr_multiplier("fc3", 0.1f);
  ctnn::update_monitor monitor(t.model());  // a diagnostic: allocates here, not per step
  std::vector<float> x(64 * 784);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 13) * 0.05f;
  std::vector<unsigned char> y(64);
  for (std::size_t b = 0; b < y.size(); ++b) y[b] = (unsigned char)(b % 10);
  const auto image = ctnn::feed<"image">(x);
  const auto label = ctnn::feed<"class">(y);
  const auto first_image = ctnn::feed<"image">(x.data());  // predict_one: the batch's first sample
  t.step(image, label);  // warm-up: the OpenMP team starts here
  u.step(image, label);
  f.step(image, label);
  const std::vector<float> frozen(f.model().param_span("fc1.weight").begin(), f.model().param_span("fc1.weight").end());
  const long before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 3; ++i) loss += t.step(image, label) + u.step(image, label) + f.step(image, label);
  const float reg = t.regularization_loss() + u.regularization_loss();
  const float averaged = t.with_averaged_parameters([&] { return t.predict(image)[0] + t.predict_one(first_image)[0]; });
  const float ensembled = e.predict(image)[0] + e.predict_one(first_image)[0];
  monitor.step(t, image, label);
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(loss));
  CHECK(reg > 0.0f);
  CHECK(std::isfinite(averaged));
  CHECK(ensembled > 0.0f);
  CHECK(t.gradient_norm() >= 0.0f);
  const auto fc1 = f.model().param_span("fc1.weight");
  CHECK(std::equal(fc1.begin(), fc1.end(), frozen.begin(), frozen.end()));
  // The counter works: a vector allocates. Its buffer escapes through a
  // volatile pointer, or clang may remove the allocation altogether.
  std::vector<int> v(10);
  static int* volatile escape = nullptr;
  escape = v.data();
  CHECK(escape != nullptr);
  CHECK(allocations.load() > after);
}
