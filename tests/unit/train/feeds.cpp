// Feeds by name, gradients with respect to inputs, and backward passes started
// from an output with the caller's upstream gradient. Every operator new of
// this program is counted: these calls must make no heap allocation.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "../../compile_fail/two_inputs.hpp"
#include "../../support/count_allocations.hpp"

using ctnn::feed;
using ctnn_test::allocations;

namespace two {
// two::net (the diagnostics' network): two inputs of the same shape and two
// losses; fed by position, xa and xb could be swapped without a sound.
constexpr std::size_t B = 2;

template <class... F>
constexpr ctnn::detail::feed_problem problem_of(std::size_t output = ctnn::none) {
  return output == ctnn::none ? ctnn::detail::first_feed_problem<net, float, ctnn::none, B, F...>()
                              : ctnn::detail::first_feed_problem<net, float, 0, B, F...>();
}
using fa_t = ctnn::feed_t<"xa", float, ctnn::unchecked_extent>;
using fb_t = ctnn::feed_t<"xb", float, ctnn::unchecked_extent>;
using ya_t = ctnn::feed_t<"ya", int, 2>;
using yb_t = ctnn::feed_t<"yb", int, 2>;
using problem = ctnn::detail::feed_problem;
// Every leaf once, in any order.
static_assert(problem_of<fa_t, fb_t, ya_t, yb_t>() == problem::none);
static_assert(problem_of<yb_t, fb_t, ya_t, fa_t>() == problem::none);
static_assert(problem_of<fa_t, fb_t, ya_t>() == problem::missing);
static_assert(problem_of<fa_t, fb_t, ya_t, yb_t, fa_t>() == problem::duplicate);
static_assert(problem_of<fa_t, fb_t, ya_t, ctnn::feed_t<"yc", int, 2>>() == problem::unknown);
static_assert(problem_of<fa_t, fb_t, ya_t, ctnn::feed_t<"yb", int, 3>>() == problem::extent);
static_assert(problem_of<ctnn::feed_t<"xa", double, 8>, fb_t, ya_t, yb_t>() == problem::type);
static_assert(problem_of<const float*, fb_t, ya_t, yb_t>() == problem::not_a_feed);
// predict of output 0 ("fa") reads xa only.
static_assert(problem_of<fa_t>(0) == problem::none);
static_assert(problem_of<fa_t, fb_t>(0) == problem::unread);
static_assert(problem_of<fa_t, ya_t>(0) == problem::unread);
static_assert(problem_of<fb_t>(0) == problem::missing);
static_assert(ctnn::detail::output_index<net, "fb"> == 1);
static_assert(ctnn::detail::output_index<net, "fc"> == ctnn::none);
}  // namespace two

TEST_CASE("feeds bind by name in any order, and predict reads only its output's inputs", "[feed]") {
  using namespace two;
  ctnn::trainer<net, ctnn::batch<B>> t1({.lr = 0.1f}, 5), t2({.lr = 0.1f}, 5);
  const std::array<float, B * 4> a{0.5f, -1.0f, 2.0f, 0.25f, 1.0f, 1.5f, -0.5f, 0.0f};
  const std::array<float, B * 4> b{-2.0f, 0.5f, 1.0f, 3.0f, 0.75f, -1.25f, 0.5f, 2.0f};
  const std::array<int, B> ya{2, 0}, yb{1, 1};
  const float l1 = t1.step(feed<"xa">(a), feed<"xb">(b), feed<"ya">(ya), feed<"yb">(yb));
  const float l2 = t2.step(feed<"yb">(yb), feed<"ya">(ya), feed<"xb">(b), feed<"xa">(a));
  CHECK(l1 == l2);
  for (std::size_t i = 0; i < t1.model().parameters().size(); ++i)
    REQUIRE(t1.model().parameters()[i] == t2.model().parameters()[i]);

  // fb = xb·W + bias, by hand, from xb alone. The step's xa buffer is freed
  // before predict: reading it would be a use after free (the sanitizer
  // stage of the tests would report it).
  {
    const std::vector<float> gone(a.begin(), a.end());
    t1.step(feed<"xa">(gone), feed<"xb">(b), feed<"ya">(ya), feed<"yb">(yb));
  }
  const auto w = t1.model().param<"fb.weight">();
  const auto bias = t1.model().param<"fb.bias">();
  const std::span<const float> fb = t1.predict<"fb">(feed<"xb">(b));
  REQUIRE(fb.size() == B * 3);
  for (std::size_t s = 0; s < B; ++s)
    for (std::size_t j = 0; j < 3; ++j) {
      double want = bias(j);
      for (std::size_t i = 0; i < 4; ++i) want += double(b[s * 4 + i]) * double(w(i, j));
      CHECK(fb[s * 3 + j] == Approx(want).epsilon(1e-6));
    }
  CHECK(std::isfinite(t1.predict<1>(feed<"xb">(b))[0]));
  CHECK(t1.predict_one<"fb">(feed<"xb">(b.data()))[2] == fb[2]);
}

TEST_CASE("a feed whose length is known only at run time is checked", "[feed]") {
  using namespace two;
  ctnn::model<net, B> m;
  const std::vector<float> a(B * 4, 0.5f), short_b(B * 4 - 1, 0.5f);
  const std::vector<int> ya{0, 1}, yb{2, 2};
  CHECK(std::isfinite(m.forward(feed<"xa">(a), feed<"xb">(a), feed<"ya">(ya), feed<"yb">(yb))));
  CHECK_THROWS_AS(m.forward(feed<"xa">(a), feed<"xb">(short_b), feed<"ya">(ya), feed<"yb">(yb)), std::invalid_argument);
  CHECK_THROWS_WITH(m.forward(feed<"xa">(a), feed<"xb">(short_b), feed<"ya">(ya), feed<"yb">(yb)),
                    "ctnn::model::forward: the feed \"xb\" holds 7 values; a batch of 2 needs 2 x 4 = 8");
  CHECK_THROWS_WITH(m.predict_one<"fa">(feed<"xa">(a)),
                    "ctnn::model::predict: the feed \"xa\" holds 8 values; a batch of 1 needs 1 x 4 = 4");
}

namespace dx {
// A smooth network with a differentiable input: tanh everywhere.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<5>, ctnn::requires_grad>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"fc1", 4>(x));
inline constexpr auto y = ctnn::dense<"fc2", 3>(h);
inline constexpr auto loss = ctnn::squared_error(ctnn::ref<y>, ctnn::input<"target", ctnn::shape<3>>);
using with_loss = decltype(ctnn::network(loss, ctnn::outputs(ctnn::ref<y>)));
// The same function with no loss at all: only backward_from can run.
using function = decltype(ctnn::network(ctnn::outputs(ctnn::ref<y>)));
constexpr std::size_t B = 3;
constexpr double h_step = 1e-6;

std::array<double, B * 5> inputs() {
  std::array<double, B * 5> v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(1.7 * double(i) + 0.3);
  return v;
}
}  // namespace dx

TEST_CASE("the gradient with respect to an input matches central differences", "[feed][gradient]") {
  using namespace dx;
  ctnn::model<with_loss, B, double> m(3);
  auto xv = inputs();
  std::array<double, B * 3> tv{};
  for (std::size_t i = 0; i < tv.size(); ++i) tv[i] = std::cos(double(i));
  m.forward_backward(feed<"x">(xv), feed<"target">(tv));
  const std::span<const double> g = m.input_grad<"x">();
  REQUIRE(g.size() == B * 5);
  double worst = 0, largest = 0;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const double keep = xv[i];
    xv[i] = keep + h_step;
    const double up = m.forward(feed<"x">(xv), feed<"target">(tv));
    xv[i] = keep - h_step;
    const double down = m.forward(feed<"x">(xv), feed<"target">(tv));
    xv[i] = keep;
    const double numeric = (up - down) / (2 * h_step);
    worst = std::max(worst, std::abs(numeric - g[i]));
    largest = std::max(largest, std::abs(g[i]));
  }
  CHECK(largest > 1e-3);  // not a vacuous comparison of zeros
  CHECK(worst < 1e-8 * std::max(1.0, largest));
}

TEST_CASE("backward_from an output gives the vector-Jacobian product", "[feed][gradient]") {
  using namespace dx;
  ctnn::model<function, B, double> m(11);
  auto xv = inputs();
  std::array<double, B * 3> u{};
  for (std::size_t i = 0; i < u.size(); ++i) u[i] = 0.5 - 0.25 * double(i % 5);
  // f = Σ u · y(x, θ); its gradient is what backward_from<"fc2">(u) leaves.
  const auto f = [&] {
    const std::span<const double> y = m.predict<"fc2">(feed<"x">(xv));
    double s = 0;
    for (std::size_t i = 0; i < u.size(); ++i) s += u[i] * y[i];
    return s;
  };
  static_assert(function::loss_count == 0);
  m.forward(feed<"x">(xv));
  m.backward_from<"fc2">(u);
  const std::vector<double> dx(m.input_grad<"x">().begin(), m.input_grad<"x">().end());
  const std::vector<double> dtheta(m.gradients().begin(), m.gradients().end());
  double worst = 0, largest = 0;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const double keep = xv[i];
    xv[i] = keep + h_step;
    const double up = f();
    xv[i] = keep - h_step;
    const double down = f();
    xv[i] = keep;
    worst = std::max(worst, std::abs((up - down) / (2 * h_step) - dx[i]));
    largest = std::max(largest, std::abs(dx[i]));
  }
  const std::span<double> w = m.parameters();
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double keep = w[i];
    w[i] = keep + h_step;
    const double up = f();
    w[i] = keep - h_step;
    const double down = f();
    w[i] = keep;
    worst = std::max(worst, std::abs((up - down) / (2 * h_step) - dtheta[i]));
    largest = std::max(largest, std::abs(dtheta[i]));
  }
  CHECK(largest > 1e-3);
  CHECK(worst < 1e-8 * std::max(1.0, largest));

  // Linear in the upstream gradient: twice u, twice every gradient.
  for (double& v : u) v *= 2;
  m.forward(feed<"x">(xv));
  m.backward_from<0>(u);
  for (std::size_t i = 0; i < dx.size(); ++i) CHECK(m.input_grad<"x">()[i] == Approx(2 * dx[i]).epsilon(1e-14));
  const std::vector<double> short_u(B * 3 - 1);
  CHECK_THROWS_AS(m.backward_from<0>(short_u), std::invalid_argument);
}

TEST_CASE("after backward_from, backward() again gives the loss's gradients", "[feed][gradient]") {
  using namespace dx;
  ctnn::model<with_loss, B, double> m(3);
  const auto xv = inputs();
  std::array<double, B * 3> tv{};
  m.forward_backward(feed<"x">(xv), feed<"target">(tv));
  const std::vector<double> from_loss(m.input_grad<"x">().begin(), m.input_grad<"x">().end());
  // squared error against a zero target: dL/dy = y / B, so backward_from
  // with upstream y / B must give the same input gradient.
  const std::span<const double> y = m.value(with_loss::output_ids[0]);
  std::array<double, B * 3> upstream{};
  for (std::size_t i = 0; i < upstream.size(); ++i) upstream[i] = y[i] / double(B);
  m.backward_from<"fc2">(upstream);
  for (std::size_t i = 0; i < from_loss.size(); ++i)
    CHECK(m.input_grad<"x">()[i] == Approx(from_loss[i]).epsilon(1e-13));
  m.backward();
  for (std::size_t i = 0; i < from_loss.size(); ++i) CHECK(m.input_grad<"x">()[i] == from_loss[i]);
}

TEST_CASE("steps, predictions, backward_from and input gradients make no heap allocation", "[feed][alloc]") {
  ctnn::trainer<two::net, ctnn::batch<two::B>> t;
  const std::vector<float> a(two::B * 4, 0.5f);
  const std::array<int, two::B> ya{0, 1}, yb{2, 1};
  ctnn::model<dx::function, dx::B> m;
  const std::vector<float> xv(dx::B * 5, 0.25f), u(dx::B * 3, 1.0f);
  t.step(feed<"xa">(a), feed<"xb">(a), feed<"ya">(ya), feed<"yb">(yb));  // warm-up: threads start here
  m.forward(feed<"x">(xv));
  m.backward_from<0>(u);
  const long before = allocations.load();
  float sum = t.step(feed<"yb">(yb), feed<"xb">(a), feed<"ya">(ya), feed<"xa">(a));
  sum += t.predict<"fa">(feed<"xa">(a))[0] + t.predict_one<1>(feed<"xb">(a.data()))[0];
  m.forward(feed<"x">(xv));
  m.backward_from<"fc2">(u);
  sum += m.input_grad<"x">()[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(sum));
}

TEST_CASE("a label outside its classes is refused before any loss reads it", "[feed][label]") {
  using namespace two;
  ctnn::trainer<net, ctnn::batch<B>> t({.lr = 0.1f}, 5);
  const std::array<float, B * 4> a{}, b{};
  const std::array<int, B> good{1, 0};
  const std::vector<float> before(t.model().parameters().begin(), t.model().parameters().end());
  for (const std::array<double, B>& bad : {std::array<double, B>{1, 3}, std::array<double, B>{-1, 0},
                                            std::array<double, B>{0.5, 0}, std::array<double, B>{1, NAN}}) {
    CHECK_THROWS_WITH(t.step(feed<"xa">(a), feed<"xb">(b), feed<"ya">(bad), feed<"yb">(good)),
                      Catch::Contains("ctnn::model: label 'ya' of sample") && Catch::Contains("not a class in [0, 3)"));
  }
  CHECK_THROWS_WITH(t.step(feed<"xa">(a), feed<"xb">(b), feed<"ya">(good), feed<"yb">(std::array<int, B>{0, 3})),
                    Catch::Contains("label 'yb' of sample 1 is 3.000000, not a class in [0, 3)"));
  // Nothing was updated.
  CHECK(std::equal(before.begin(), before.end(), t.model().parameters().begin()));
}
