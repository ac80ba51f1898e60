// Parameter averaging: the trainer's shadow after k steps matches the hand
// recursion s ← d·s + (1 − d)·w from s₀ = w₀, evaluating with it swaps the
// buffers in and out exactly, and copy_averaged_into fills another model.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace avg_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>>;
inline constexpr auto logits = ctnn::dense<"out", 4>(ctnn::relu(ctnn::dense<"h", 18>(x)));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 4>), ctnn::outputs(logits)));
constexpr std::size_t B = 8;
using trainer = ctnn::trainer<net, ctnn::batch<B>, ctnn::optim::adam>;
}  // namespace avg_net

namespace {
struct batch_data {
  std::vector<float> x = std::vector<float>(avg_net::B * 6);
  std::vector<unsigned char> y = std::vector<unsigned char>(avg_net::B);
  explicit batch_data(int k) {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i * 7 + k));
    for (std::size_t b = 0; b < y.size(); ++b) y[b] = (unsigned char)((b + std::size_t(k)) % 4);
  }
};
}  // namespace

TEST_CASE("the parameter average follows s = d*s + (1-d)*w after every step", "[averaging]") {
  avg_net::trainer t({.lr = 0.05f}, 4, {.ema_decay = 0.75f});
  const auto w = t.model().parameters();
  std::vector<double> s(w.begin(), w.end());  // s₀ = w₀
  REQUIRE(t.averaged_parameters().size() == w.size());
  for (std::size_t i = 0; i < w.size(); ++i) CHECK(t.averaged_parameters()[i] == w[i]);
  for (int k = 0; k < 5; ++k) {
    batch_data d(k);
    t.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
    for (std::size_t i = 0; i < w.size(); ++i) s[i] = 0.75 * s[i] + 0.25 * double(w[i]);
  }
  bool moved = false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    INFO("parameter " << i);
    CHECK(t.averaged_parameters()[i] == Approx(s[i]).epsilon(1e-5).margin(1e-7));
    moved = moved || t.averaged_parameters()[i] != w[i];
  }
  CHECK(moved);
}

TEST_CASE("evaluating with the averaged parameters", "[averaging]") {
  avg_net::trainer t({.lr = 0.05f}, 4, {.ema_decay = 0.5f});
  for (int k = 0; k < 3; ++k) {
    batch_data d(k);
    t.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
  }
  batch_data d(10);
  const std::vector<float> w_before(t.model().parameters().begin(), t.model().parameters().end());
  const auto p_live = t.predict(ctnn::feed<"x">(d.x));
  const std::vector<float> live(p_live.begin(), p_live.end());

  // The same prediction from a model holding the average.
  ctnn::model<avg_net::net, avg_net::B> averaged(0);
  t.copy_averaged_into(averaged);
  for (std::size_t i = 0; i < w_before.size(); ++i) CHECK(averaged.parameters()[i] == t.averaged_parameters()[i]);
  const auto p_avg = averaged.predict(ctnn::feed<"x">(d.x));
  const std::vector<float> want(p_avg.begin(), p_avg.end());

  const std::vector<float> got = t.with_averaged_parameters([&] {
    const auto p = t.predict(ctnn::feed<"x">(d.x));
    return std::vector<float>(p.begin(), p.end());
  });
  REQUIRE(got.size() == want.size());
  bool differs = false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i] == want[i]);
    differs = differs || got[i] != live[i];
  }
  CHECK(differs);
  // Swapped back exactly, even when f throws.
  for (std::size_t i = 0; i < w_before.size(); ++i) CHECK(t.model().parameters()[i] == w_before[i]);
  CHECK_THROWS_AS(t.with_averaged_parameters([]() -> int { throw std::runtime_error("x"); }), std::runtime_error);
  for (std::size_t i = 0; i < w_before.size(); ++i) CHECK(t.model().parameters()[i] == w_before[i]);
}

TEST_CASE("averaging is off by default and can be switched on later", "[averaging]") {
  avg_net::trainer t({.lr = 0.05f}, 2);
  CHECK(t.averaged_parameters().empty());
  CHECK_THROWS_AS(t.with_averaged_parameters([] { return 0; }), std::logic_error);
  batch_data d(0);
  t.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
  t.set_options({.ema_decay = 0.9f});  // the shadow starts at the current parameters
  for (std::size_t i = 0; i < t.model().parameters().size(); ++i)
    CHECK(t.averaged_parameters()[i] == t.model().parameters()[i]);
}
