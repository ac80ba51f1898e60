// Known values of exp, log, softplus and log_softmax, including the inputs a
// naive formula gets wrong: softplus at ±1000 and ±40, log_softmax of logits
// near 1000 (e^1000 overflows) and of logits 1000 apart (a probability that
// underflows to 0 has a finite log-probability).
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace {
namespace pointwise {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>>;
using net = decltype(ctnn::network(ctnn::outputs(ctnn::exp(x), ctnn::log(x), ctnn::softplus(x))));
}  // namespace pointwise

namespace big_logits {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<3>>;
using net = decltype(ctnn::network(ctnn::outputs(ctnn::log_softmax(x))));
}  // namespace big_logits

namespace rows {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 3>>;
using net = decltype(ctnn::network(ctnn::outputs(ctnn::log_softmax(x))));
}  // namespace rows
}  // namespace

TEST_CASE("exp, log, softplus: known values", "[exp_log][known]") {
  const std::array<double, 6> x{0.5, 1.0, 2.0, 1e-3, 20.0, 3.0};
  ctnn::model<pointwise::net, 1, double> m;
  const auto e = m.predict<0>(ctnn::feed<"x">(x));
  const auto l = m.predict<1>(ctnn::feed<"x">(x));
  const auto s = m.predict<2>(ctnn::feed<"x">(x));
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    CHECK(e[i] == Approx(std::exp(x[i])).epsilon(1e-14));
    CHECK(l[i] == Approx(std::log(x[i])).epsilon(1e-14));
    CHECK(s[i] == Approx(std::log(1 + std::exp(x[i]))).epsilon(1e-14));
  }
  CHECK(e[1] == Approx(2.718281828459045).epsilon(1e-15));
  CHECK(l[2] == Approx(0.6931471805599453).epsilon(1e-15));
}

TEST_CASE("softplus is finite and exact far from zero", "[exp_log][known]") {
  const std::array<double, 6> x{1000, -1000, 40, -40, 0, -1e-8};
  ctnn::model<pointwise::net, 1, double> m;
  const auto s = m.predict<2>(ctnn::feed<"x">(x));
  CHECK(s[0] == 1000.0);                                    // log(1 + e^1000) overflows naively
  CHECK(s[1] == Approx(0.0).margin(1e-300));                // e^-1000 underflows to 0
  CHECK(s[2] == Approx(40 + std::exp(-40.0)).epsilon(1e-15));
  CHECK(s[3] == Approx(std::exp(-40.0)).epsilon(1e-14));    // 4.2e-18, not lost in 1 + e^x
  CHECK(s[4] == Approx(std::log(2.0)).epsilon(1e-15));
  CHECK(s[5] == Approx(std::log(2.0) - 0.5e-8).epsilon(1e-15));
}

TEST_CASE("pointwise derivatives from the output: exp, log, softplus", "[exp_log][known]") {
  // Through the ops' function objects on scalars and on a SIMD vector.
  for (double x : {-30.0, -2.0, 0.3, 5.0, 30.0}) {
    INFO("x = " << x);
    CHECK(ctnn::act::exp::derivative(ctnn::act::exp::apply(x)) == Approx(std::exp(x)).epsilon(1e-14));
    const double sig = 1 / (1 + std::exp(-x));
    CHECK(ctnn::act::softplus::derivative(ctnn::act::softplus::apply(x)) == Approx(sig).epsilon(1e-12));
    if (x > 0) CHECK(ctnn::act::log::derivative(ctnn::act::log::apply(x)) == Approx(1 / x).epsilon(1e-14));
  }
  using V = ctnn::kernels::vec<double>;
  const V v(-40.0);
  const double d = ctnn::act::softplus::derivative(ctnn::act::softplus::apply(v)).get(0);
  CHECK(d == Approx(std::exp(-40.0)).epsilon(1e-12));  // the sigmoid where 1 − e^−y would cancel
}

TEST_CASE("log_softmax: logits near 1000 and 1000 apart", "[log_softmax][known]") {
  ctnn::model<big_logits::net, 2, double> m;
  // Sample 0: naive e^1000 is inf. Sample 1: e^(−1000) underflows to 0.
  const std::array<double, 6> x{1000, 1001, 1002, 0, -1000, 1};
  const auto y = m.predict(ctnn::feed<"x">(x));
  const double lse0 = 1002 + std::log(std::exp(-2.0) + std::exp(-1.0) + 1);
  CHECK(y[0] == Approx(1000 - lse0).epsilon(1e-14));
  CHECK(y[1] == Approx(1001 - lse0).epsilon(1e-14));
  CHECK(y[2] == Approx(1002 - lse0).epsilon(1e-14));
  CHECK(y[2] == Approx(-0.40760596444437).epsilon(1e-12));
  const double lse1 = 1 + std::log1p(std::exp(-1.0));  // e^-1001 adds nothing
  CHECK(y[3] == Approx(-lse1).epsilon(1e-14));
  CHECK(y[4] == Approx(-1000 - lse1).epsilon(1e-14));
  CHECK(std::isfinite(y[4]));
  CHECK(y[5] == Approx(1 - lse1).epsilon(1e-14));
  // The probabilities sum to one.
  CHECK(std::exp(y[0]) + std::exp(y[1]) + std::exp(y[2]) == Approx(1.0).epsilon(1e-12));  // y carries 1000·ε
}

TEST_CASE("log_softmax over the rows of [2, 3], and its backward", "[log_softmax][known]") {
  ctnn::model<rows::net, 1, double> m;
  const std::array<double, 6> x{1, 2, 3, 5, 5, 5};
  const auto y = m.predict(ctnn::feed<"x">(x));
  const double lse = 3 + std::log(std::exp(-2.0) + std::exp(-1.0) + 1);
  for (std::size_t i = 0; i < 3; ++i) CHECK(y[i] == Approx(x[i] - lse).epsilon(1e-14));
  for (std::size_t i = 3; i < 6; ++i) CHECK(y[i] == Approx(-std::log(3.0)).epsilon(1e-14));

  // dx = dy − softmax · Σ dy, per row; accumulating adds it to what is there.
  using spec = decltype(ctnn::log_softmax(rows::x))::spec;
  const std::array<double, 6> dy{1, 0, 0, 1, -1, 2};
  std::array<double, 6> dx{};
  ctnn::backward_args<double> a;
  a.out = y.data();
  a.dout = dy.data();
  a.din[0] = dx.data();
  spec::backward<1, ctnn::grad_mode::input(0)>(a);
  for (std::size_t i = 0; i < 3; ++i) CHECK(dx[i] == Approx(dy[i] - std::exp(y[i]) * 1.0).epsilon(1e-14));
  for (std::size_t i = 3; i < 6; ++i) CHECK(dx[i] == Approx(dy[i] - 2.0 / 3).epsilon(1e-14));
  spec::backward<1, ctnn::grad_mode::input(0) | ctnn::grad_mode::input_accumulate(0)>(a);
  CHECK(dx[3] == Approx(2 * (1 - 2.0 / 3)).epsilon(1e-14));
}
