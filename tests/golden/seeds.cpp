// The worked examples of the seed notes, to the printed digits. Each one is a
// network; values and gradients come from ctnn's generated passes.
#include <catch2/catch.hpp>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace add_mul {
// f(x, y, z) = (x + y) z, differentiated with respect to x, y and z.
inline constexpr auto x = ctnn::variable<"x", ctnn::shape<1>>;
inline constexpr auto y = ctnn::variable<"y", ctnn::shape<1>>;
inline constexpr auto z = ctnn::variable<"z", ctnn::shape<1>>;
inline constexpr auto f = ctnn::multiply(ctnn::add(x, y), z);
using net = decltype(ctnn::network(f));
}  // namespace add_mul

TEST_CASE("seed 000: f = (x + y) z at (-2, 5, -4)", "[golden]") {
  ctnn::model<add_mul::net, 1, double> m;
  m.param_span("x")[0] = -2;
  m.param_span("y")[0] = 5;
  m.param_span("z")[0] = -4;
  CHECK(m.forward_backward() == -12.0);
  CHECK(m.grad_span("x")[0] == -4.0);
  CHECK(m.grad_span("y")[0] == -4.0);
  CHECK(m.grad_span("z")[0] == 3.0);
}

namespace neuron {
// f = sigmoid(w0 x0 + w1 x1 + w2): a dense layer of one unit on a variable x.
inline constexpr auto x = ctnn::variable<"x", ctnn::shape<2>>;
inline constexpr auto f = ctnn::sigmoid(ctnn::dense<"w", 1>(x));
using net = decltype(ctnn::network(f));
}  // namespace neuron

TEST_CASE("seed 000: the sigmoid neuron, w = [2, -3, -3], x = [-1, -2]", "[golden]") {
  ctnn::model<neuron::net, 1, double> m;
  m.param<"x">() = {-1.0, -2.0};
  m.param<"w.weight">() = {{2.0}, {-3.0}};
  m.param<"w.bias">()(0) = -3;
  CHECK(m.forward_backward() == Approx(0.731059).margin(5e-7));
  CHECK(m.grad<"x">()(0) == Approx(0.393224).margin(5e-7));
  CHECK(m.grad<"x">()(1) == Approx(-0.589836).margin(5e-7));
  CHECK(m.grad<"w.weight">()(0, 0) == Approx(-0.196612).margin(5e-7));
  CHECK(m.grad<"w.weight">()(1, 0) == Approx(-0.393224).margin(5e-7));
  CHECK(m.grad<"w.bias">()(0) == Approx(0.196612).margin(5e-7));
}

namespace staged {
// f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2), staged as in seed 003.
inline constexpr auto x = ctnn::variable<"x", ctnn::shape<1>>;
inline constexpr auto y = ctnn::variable<"y", ctnn::shape<1>>;
inline constexpr auto xpy = ctnn::add(x, y);
inline constexpr auto num = ctnn::add(x, ctnn::sigmoid(y));
inline constexpr auto den = ctnn::add(ctnn::sigmoid(x), ctnn::multiply(ctnn::ref<xpy>, ctnn::ref<xpy>));
inline constexpr auto f = ctnn::divide(num, den);
using net = decltype(ctnn::network(f));
}  // namespace staged

TEST_CASE("seed 003: the staged expression at (3, -4)", "[golden]") {
  ctnn::model<staged::net, 1, double> m;
  m.param_span("x")[0] = 3;
  m.param_span("y")[0] = -4;
  CHECK(m.forward_backward() == Approx(1.545645).margin(5e-7));
  CHECK(m.grad_span("x")[0] == Approx(2.059570).margin(5e-7));
  CHECK(m.grad_span("y")[0] == Approx(1.592233).margin(5e-7));
}

namespace three_two_one {
// Seed 002's 3-2-1 sigmoid network, weights laid out [in, out] as printed.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<3>>;
inline constexpr auto hidden = ctnn::sigmoid(ctnn::dense<"l0", 2>(x));
inline constexpr auto out = ctnn::sigmoid(ctnn::dense<"l1", 1>(ctnn::ref<hidden>));
using net = decltype(ctnn::network(ctnn::squared_error(out, ctnn::input<"target", ctnn::shape<1>>),
                                   ctnn::outputs(out, hidden)));
}  // namespace three_two_one

TEST_CASE("seed 002: the 3-2-1 sigmoid network, with the slides' slips corrected", "[golden]") {
  ctnn::model<three_two_one::net, 1, double> m;
  m.param<"l0.weight">() = {{1.0, 0.5}, {0.2, 1.2}, {1.2, 0.1}};
  m.param<"l0.bias">() = {0.1, 0.2};
  m.param<"l1.weight">() = {{0.3}, {0.9}};
  m.param<"l1.bias">()(0) = 0.3;
  const double x[3] = {0.4, 0.2, 0.2};
  // The slides print 0.68, 0.62 and 0.74: g(0.78) with the sign slipped, and
  // 0.1 * 0.2 added as 0.03. The exact values:
  const auto hidden = m.predict_one<1>(ctnn::feed<"x">(x));
  CHECK(hidden[0] == Approx(0.685680).margin(5e-7));
  CHECK(hidden[1] == Approx(0.659260).margin(5e-7));
  CHECK(m.predict_one<0>(ctnn::feed<"x">(x))[0] == Approx(0.750080).margin(5e-7));

  // Quadratic loss J = ½(y − y*)² against y* = 1, and dJ/dy = y − y*.
  const double target[1] = {1.0};
  const double y = m.predict_one<0>(ctnn::feed<"x">(x))[0];
  CHECK(m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"target">(target)) ==
        Approx(0.5 * (y - 1) * (y - 1)).epsilon(1e-12));
  // dJ/db1 = (y − 1) · y(1 − y)
  CHECK(m.grad<"l1.bias">()(0) == Approx((y - 1) * y * (1 - y)).epsilon(1e-12));
}
