// Per-tensor learning-rate multipliers and frozen tensors: a frozen tensor
// stays bit for bit as it was under momentum carried over from earlier steps,
// weight decay, L2/L1, clipping and max-norm, with every optimizer; a
// multiplier m trains exactly like lr·m, also with Adam (where scaling the
// gradient would change nothing); names are checked.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "../../support/thrown.hpp"

namespace lrm {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<10>>;
inline constexpr auto logits = ctnn::dense<"head", 4>(
    ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::dense<"fc1", 12, ctnn::no_bias>(x))));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 4>), ctnn::outputs(logits)));
constexpr std::size_t B = 8;

std::vector<float> inputs() {
  std::vector<float> v(B * 10);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.61f * float(i)) * 2.0f;
  return v;
}
const std::vector<int> labels{0, 1, 2, 3, 3, 2, 1, 0};

std::vector<float> copy_of(std::span<const float> s) { return {s.begin(), s.end()}; }
bool same_bits(std::span<const float> a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}
}  // namespace lrm

TEMPLATE_TEST_CASE("a frozen tensor stays bit for bit the same", "[freeze]", ctnn::optim::sgd, ctnn::optim::nesterov,
                   ctnn::optim::adam, ctnn::optim::rmsprop, ctnn::optim::adagrad) {
  TestType opt{};
  opt.lr = 0.05f;
  opt.weight_decay = 0.01f;
  ctnn::trainer<lrm::net, ctnn::batch<lrm::B>, TestType> t(
      opt, 3, {.l2 = 1e-3f, .l1 = 1e-4f, .clip_norm = 0.5f, .max_norm = 0.8f});
  const auto xs = lrm::inputs();
  // Momentum and moments are non-zero after these.
  for (int k = 0; k < 3; ++k) t.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));

  t.freeze({"fc1", "bn1.gamma"});  // the layer fc1 (fc1.weight: there is no bias), one tensor of bn1
  CHECK(t.frozen_parameters() == std::vector<std::string>{"bn1.gamma", "fc1.weight"});
  const auto fc1 = lrm::copy_of(t.model().param_span("fc1.weight"));
  const auto gamma = lrm::copy_of(t.model().param_span("bn1.gamma"));
  const auto beta = lrm::copy_of(t.model().param_span("bn1.beta"));
  const auto head = lrm::copy_of(t.model().param_span("head.weight"));
  for (int k = 0; k < 5; ++k) t.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));
  CHECK(lrm::same_bits(t.model().param_span("fc1.weight"), fc1));
  CHECK(lrm::same_bits(t.model().param_span("bn1.gamma"), gamma));
  CHECK(t.model().grad_span("fc1.weight")[0] == 0.0f);  // the gradient was zeroed before clipping
  CHECK_FALSE(lrm::same_bits(t.model().param_span("bn1.beta"), beta));
  CHECK_FALSE(lrm::same_bits(t.model().param_span("head.weight"), head));

  t.unfreeze("fc1");
  CHECK(t.lr_multiplier("fc1.weight") == 1.0f);
  t.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));
  CHECK_FALSE(lrm::same_bits(t.model().param_span("fc1.weight"), fc1));
  t.reset_lr_multipliers();
  CHECK(t.frozen_parameters().empty());
}

TEMPLATE_TEST_CASE("a multiplier m trains like lr·m", "[lr_multiplier]", ctnn::optim::sgd, ctnn::optim::adam) {
  TestType fast{}, slow{};
  fast.lr = 0.02f;
  slow.lr = 0.005f;
  ctnn::trainer<lrm::net, ctnn::batch<lrm::B>, TestType> a(fast, 3), b(slow, 3);
  for (const char* layer : {"fc1", "bn1", "head"}) a.set_lr_multiplier(layer, 0.25f);
  CHECK(a.lr_multiplier("bn1.beta") == 0.25f);
  const auto xs = lrm::inputs();
  for (int k = 0; k < 4; ++k) {
    const float la = a.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));
    const float lb = b.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));
    CHECK(la == Approx(lb).epsilon(1e-4));
  }
  const auto pa = a.model().parameters(), pb = b.model().parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO("parameter " << i);
    CHECK(pa[i] == Approx(pb[i]).margin(1e-5).epsilon(1e-4));
  }
}

TEST_CASE("a multiplier on one layer leaves the others at full rate", "[lr_multiplier]") {
  ctnn::trainer<lrm::net, ctnn::batch<lrm::B>, ctnn::optim::sgd> a({.lr = 0.05f, .momentum = 0.0f}, 3),
      b({.lr = 0.05f, .momentum = 0.0f}, 3);
  a.set_lr_multiplier("head", 10.0f);
  CHECK(a.lr_multiplier("head.weight") == 10.0f);
  CHECK(a.lr_multiplier("head.bias") == 10.0f);
  CHECK(a.lr_multiplier("fc1.weight") == 1.0f);
  const auto xs = lrm::inputs();
  const auto head0 = lrm::copy_of(a.model().param_span("head.weight"));
  a.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));
  b.step(ctnn::feed<"x">(xs), ctnn::feed<"y">(lrm::labels));
  // One plain SGD step: head moved 10 times as far, fc1 exactly as far.
  const auto ha = a.model().param_span("head.weight"), hb = b.model().param_span("head.weight");
  for (std::size_t i = 0; i < ha.size(); ++i)
    CHECK(ha[i] - head0[i] == Approx(10.0f * (hb[i] - head0[i])).margin(1e-6).epsilon(1e-4));
  CHECK(lrm::same_bits(a.model().param_span("fc1.weight"), lrm::copy_of(b.model().param_span("fc1.weight"))));
}

TEST_CASE("multiplier names and values are checked", "[lr_multiplier]") {
  ctnn::trainer<lrm::net, ctnn::batch<lrm::B>> t({}, 1);
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { t.freeze("fc9"); }),
             Catch::Matchers::Contains("no trainable tensor or layer named 'fc9'") &&
                           Catch::Matchers::Contains("the trainable tensors are: bn1.beta, bn1.gamma, fc1.weight, "
                                                     "head.bias, head.weight"));
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { t.freeze("bn1.running_mean"); }),
             Catch::Matchers::Contains("'bn1.running_mean' is not trainable"));
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { t.freeze("fc"); }),
             Catch::Matchers::Contains("named 'fc'"));  // not a prefix of a name
  CHECK_THROWS_AS(t.set_lr_multiplier("head", -1.0f), std::invalid_argument);
  CHECK_THROWS_AS(t.set_lr_multiplier("head", NAN), std::invalid_argument);
  CHECK_THROWS_AS(t.lr_multiplier("head"), std::invalid_argument);  // a layer, not a tensor
  // All or nothing.
  CHECK_THROWS_AS(t.freeze(std::vector<std::string>{"fc1", "nope"}), std::invalid_argument);
  CHECK(t.frozen_parameters().empty());
}
