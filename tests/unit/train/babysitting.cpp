// The babysitting tools of seed 003: overfitting 20 samples, the
// learning-rate range search, random search in log space.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/lr_range_search.hpp>
#include <ctnn/train/overfit_check.hpp>
#include <ctnn/train/random_search.hpp>

#include "../../support/thrown.hpp"

namespace sit {
// An MLP on 32 features: it must be able to memorize 20 random labels.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<32>>;
inline constexpr auto logits =
    ctnn::dense<"fc3", 10>(ctnn::relu(ctnn::dense<"fc2", 64>(ctnn::relu(ctnn::dense<"fc1", 64>(x)))));
using mlp = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 10>), ctnn::outputs(logits)));
// A linear classifier on 2 features cannot separate 20 random labels among 10.
inline constexpr auto x2 = ctnn::input<"x", ctnn::shape<2>>;
inline constexpr auto linear_logits = ctnn::dense<"fc", 10>(x2);
using too_small = decltype(ctnn::network(ctnn::softmax_cross_entropy(linear_logits, ctnn::label<"y", 10>),
                                         ctnn::outputs(linear_logits)));
// Linear regression, ½‖w·x + b − t‖²: a quadratic loss.
inline constexpr auto features = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto prediction = ctnn::dense<"w", 1>(features);
using regression = decltype(ctnn::network(ctnn::squared_error(prediction, ctnn::input<"t", ctnn::shape<1>>),
                                          ctnn::outputs(prediction)));

struct data {
  std::vector<float> x;
  std::vector<int> y;
};
data random_data(std::size_t n, std::size_t d) {
  std::mt19937 gen(42);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> label(0, 9);
  data out;
  for (std::size_t i = 0; i < n * d; ++i) out.x.push_back(normal(gen));
  for (std::size_t i = 0; i < n; ++i) out.y.push_back(label(gen));
  return out;
}
}  // namespace sit

TEST_CASE("overfit check: an MLP memorizes 20 samples, a linear model cannot", "[babysitting][overfit]") {
  const sit::data d = sit::random_data(100, 32);
  ctnn::trainer<sit::mlp, ctnn::batch<32>, ctnn::optim::adam> t({.lr = 3e-3f}, 1);
  const ctnn::overfit_result r = ctnn::overfit_check(t, d.x.data(), d.y.data(), 100, {.max_steps = 500});
  INFO(r.verdict());
  CHECK(r.reached);
  CHECK(r.samples == 20);
  CHECK(r.final_loss < 0.01);
  CHECK(r.initial_loss > 1.0);  // about ln 10 at the start
  CHECK(r.steps < 500);
  CHECK(r.losses.size() == r.steps);
  CHECK(r.verdict().find("overfits 20 samples") == 0);

  const sit::data d2 = sit::random_data(20, 2);
  ctnn::trainer<sit::too_small, ctnn::batch<32>, ctnn::optim::adam> small({.lr = 1e-2f}, 1);
  const ctnn::overfit_result s = ctnn::overfit_check(small, d2.x.data(), d2.y.data(), 20, {.max_steps = 300});
  CHECK_FALSE(s.reached);
  CHECK(s.steps == 300);
  CHECK(s.final_loss > 0.5);
  CHECK(s.verdict().find("cannot overfit 20 samples") == 0);

  CHECK_THROWS_AS(ctnn::overfit_check(small, d2.x.data(), d2.y.data(), 10), std::invalid_argument);
}

TEST_CASE("lr range search on a quadratic suggests a rate near the optimum", "[babysitting][lr_range]") {
  // The loss is ½·mean‖[x, 1]·θ − t‖² over N samples, a quadratic with
  // Hessian H = mean [x, 1][x, 1]ᵀ. Gradient descent converges fastest at
  // lr* = 2/(λmin + λmax) and diverges above 2/λmax. The search runs as it
  // would in practice, on mini-batches, whose noise keeps every direction
  // excited, so an instability shows within a few steps.
  constexpr std::size_t N = 4096, B = 32;
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  std::vector<float> x(N * 4), t(N);
  for (auto& v : x) v = normal(gen);
  for (std::size_t n = 0; n < N; ++n)
    t[n] = 0.5f * x[4 * n] - 1.0f * x[4 * n + 1] + 2.0f * x[4 * n + 2] + 0.25f * x[4 * n + 3] + 1.0f +
           0.1f * normal(gen);
  std::vector<double> h(25, 0.0);
  for (std::size_t n = 0; n < N; ++n) {
    const double z[5] = {x[4 * n], x[4 * n + 1], x[4 * n + 2], x[4 * n + 3], 1.0};
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) h[std::size_t(5 * i + j)] += z[i] * z[j] / double(N);
  }
  const auto eig = ctnn::data::eigen_symmetric(h.data(), 5);
  const double lmax = eig.values.front(), lmin = eig.values.back();
  const double optimum = 2.0 / (lmin + lmax);
  const auto batch = [&](std::size_t k) { return (k * B) % N; };
  // Batch k of the N samples: pointers into the whole set.
  const auto step = [&](auto& trainer, std::size_t k) {
    return trainer.step(ctnn::feed<"x">(x.data() + 4 * batch(k)), ctnn::feed<"t">(t.data() + batch(k)));
  };

  ctnn::trainer<sit::regression, ctnn::batch<B>, ctnn::optim::sgd> tr({.momentum = 0.0f}, 1);
  const ctnn::lr_range_result r = ctnn::lr_range_search(
      tr, [&](std::size_t k) { return step(tr, k); },
      {.lr_min = 1e-4, .lr_max = 10.0, .steps = 200});
  INFO("lambda " << lmin << " .. " << lmax << ", optimum " << optimum << ", suggested " << r.suggested_lr
                 << ", upper " << r.upper_lr << ", lower " << r.lower_lr << ", steepest " << r.steepest_lr
                 << ", min loss at " << r.min_loss_lr);
  REQUIRE(r.diverged);
  CHECK(r.upper_lr > optimum);           // it did not stop while the loss could still fall
  CHECK(r.upper_lr < 2.0 * 2.0 / lmax);  // and noticed the explosion soon
  CHECK(r.suggested_lr > optimum / 2);
  CHECK(r.suggested_lr < optimum * 2);
  CHECK(r.lower_lr < r.steepest_lr);
  CHECK(r.steepest_lr < r.upper_lr);
  CHECK(r.points.front().lr == Approx(1e-4));
  CHECK(r.points.size() < 200);  // it stopped at the explosion

  // A range that stays below the explosion cannot tell where it is.
  ctnn::trainer<sit::regression, ctnn::batch<B>, ctnn::optim::sgd> calm({.momentum = 0.0f}, 1);
  const ctnn::lr_range_result c = ctnn::lr_range_search(
      calm, [&](std::size_t k) { return step(calm, k); },
      {.lr_min = 1e-4, .lr_max = 0.05, .steps = 50});
  CHECK_FALSE(c.diverged);
  CHECK(c.points.size() == 50);
  CHECK(c.suggested_lr == c.min_loss_lr);
  CHECK(c.points.back().lr == Approx(0.05));

  // A non-finite loss (the trainer throws) is an explosion.
  const ctnn::lr_range_result n = ctnn::lr_range_search(
      {.lr_min = 1e-3, .lr_max = 1.0, .steps = 10}, [](double) {},
      [](std::size_t k) -> float {
        if (k == 6) throw std::runtime_error("not finite");
        return 1.0f / float(k + 1);
      });
  CHECK(n.diverged);
  CHECK(n.points.size() == 7);
  CHECK(n.upper_lr == Approx(ctnn::lr_range_rate({.lr_min = 1e-3, .lr_max = 1.0, .steps = 10}, 6)));
  CHECK_THROWS_AS(ctnn::lr_range_search({.lr_min = 1.0, .lr_max = 0.1}, [](double) {}, [](std::size_t) { return 0.0; }),
                  std::invalid_argument);
}

TEST_CASE("random search samples log-uniformly, reproducibly, and keeps the best", "[babysitting][random_search]") {
  const std::vector<ctnn::search_dimension> dims{{"reg", 1e-5, 1e5, ctnn::search_scale::log},
                                                 {"lr", 1e-6, 1e-3, ctnn::search_scale::log},
                                                 {"dropout", 0.0, 0.5, ctnn::search_scale::linear}};
  std::vector<double> reg, lr, drop;
  const auto r = ctnn::random_search(
      dims,
      [&](const ctnn::hyper_sample& s) {
        reg.push_back(std::log10(s["reg"]));
        lr.push_back(std::log10(s["lr"]));
        drop.push_back(s["dropout"]);
        return -std::pow(std::log10(s["lr"]) + 4.5, 2);  // best at lr = 10^-4.5
      },
      {.trials = 4000, .seed = 11});
  REQUIRE(r.trials.size() == 4000);
  // Quantiles of log10(value) are those of a uniform distribution over the range.
  const auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::size_t(q * double(v.size() - 1))];
  };
  for (double q : {0.05, 0.25, 0.5, 0.75, 0.95}) {
    INFO("quantile " << q);
    CHECK(quantile(reg, q) == Approx(-5.0 + 10.0 * q).margin(0.25));
    CHECK(quantile(lr, q) == Approx(-6.0 + 3.0 * q).margin(0.08));
    CHECK(quantile(drop, q) == Approx(0.5 * q).margin(0.02));
  }
  CHECK(*std::min_element(reg.begin(), reg.end()) >= -5.0);
  CHECK(*std::max_element(lr.begin(), lr.end()) <= -3.0);
  CHECK(std::log10(r.best_value("lr")) == Approx(-4.5).margin(0.01));
  CHECK(r.best_trial().score == Approx(0.0).margin(1e-4));
  CHECK(std::find(r.best_on_border.begin(), r.best_on_border.end(), "lr") == r.best_on_border.end());
  CHECK_THROWS_AS(r.best_value("momentum"), std::invalid_argument);

  // Deterministic per seed; more trials do not change the first ones.
  std::vector<double> first, again, other;
  ctnn::random_search(dims, [&](const ctnn::hyper_sample& s) { return first.push_back(s["lr"]), 0.0; }, {.trials = 10, .seed = 3});
  ctnn::random_search(dims, [&](const ctnn::hyper_sample& s) { return again.push_back(s["lr"]), 0.0; }, {.trials = 20, .seed = 3});
  ctnn::random_search(dims, [&](const ctnn::hyper_sample& s) { return other.push_back(s["lr"]), 0.0; }, {.trials = 10, .seed = 4});
  CHECK(std::equal(first.begin(), first.end(), again.begin()));
  CHECK(first != other);
}

TEST_CASE("random search: minimizing, failed trials, best values on the border", "[babysitting][random_search]") {
  const std::vector<ctnn::search_dimension> dims{{"lr", 1e-4, 1.0}};
  int calls = 0;
  const auto r = ctnn::random_search(
      dims,
      [&](const ctnn::hyper_sample& s) {
        if (++calls % 3 == 0) throw std::runtime_error("diverged");
        if (calls % 5 == 0) return std::nan("");
        return s["lr"];  // a loss: smaller rates are better, the best lies at the low border
      },
      {.trials = 60, .seed = 5, .maximize = false});
  CHECK(r.trials[2].error == "diverged");
  CHECK(std::isnan(r.trials[2].score));
  for (const auto& t : r.trials)
    if (std::isfinite(t.score)) CHECK(r.best_trial().score <= t.score);
  CHECK(r.best_on_border == std::vector<std::string>{"lr"});
  CHECK(r.best_value("lr") < 1e-3);

  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { ctnn::random_search({{"reg", 0.0, 1.0}}, [](const ctnn::hyper_sample&) { return 0.0; }); }),
             Catch::Matchers::Contains("'reg' is searched in log space"));
  CHECK_THROWS_AS(ctnn::random_search({{"x", 2.0, 1.0, ctnn::search_scale::linear}},
                                      [](const ctnn::hyper_sample&) { return 0.0; }),
                  std::invalid_argument);
}
