// Gradient checks of whole networks: fan-out (gradient accumulation), tied
// weights, several weighted losses, several outputs; and the seeds' printed
// gradients, confirmed by both the analytic and the numerical gradient.
#include "support.hpp"

using Catch::Detail::Approx;

namespace {
template <class Net>
constexpr std::string_view leaf_name(std::size_t k) {
  return Net::plan.nodes[Net::leaf_ids.first[k]].name;
}
}  // namespace

// ---------------------------------------------------------------------------
// (a) fan-out: one bound value feeding several consumers; their gradients add.

namespace fanout {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<5>>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"h", 6>(x));
// h feeds four nodes: a residual add and its branch, a gate and its branch.
inline constexpr auto r = ctnn::add(ctnn::ref<h>, ctnn::dense<"r", 6>(ctnn::ref<h>));
inline constexpr auto g = ctnn::multiply(ctnn::ref<h>, ctnn::sigmoid(ctnn::dense<"g", 6>(ctnn::ref<h>)));
// r feeds two more; multiply(ref<r>, ref<r>) has one node as both operands.
inline constexpr auto s = ctnn::add(ctnn::multiply(ctnn::ref<r>, ctnn::ref<r>), ctnn::add(ctnn::ref<r>, g));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::dense<"out", 4>(s), ctnn::label<"y", 4>)));
}  // namespace fanout

namespace fanout_matmul {
// A per-sample square matrix multiplied by itself: matmul's two input
// gradients land in one buffer, the second one accumulating.
inline constexpr auto a = ctnn::multiply(ctnn::variable<"a", ctnn::shape<3, 3>>, ctnn::input<"xa", ctnn::shape<3, 3>>);
inline constexpr auto a2 = ctnn::matmul(ctnn::ref<a>, ctnn::ref<a>);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::add(a2, ctnn::ref<a>), ctnn::input<"t", ctnn::shape<3, 3>>)));
}  // namespace fanout_matmul

TEST_CASE("gradcheck: fan-out accumulates gradients", "[gradcheck][network]") {
  static_assert(ctnn::detail::contains_v<fanout::net::nodes, ctnn::resolve_t<decltype(ctnn::ref<fanout::h>)>>);
  static_assert(fanout::net::plan.fan_out[gc::node_id<fanout::net>("dense+tanh")] == 4);
  gc::rng d(1001);
  {
    ctnn::model<fanout::net, gc::B, double> m;
    gc::randomize(m, 9, 0.6);
    const auto x = d.uniform_array<gc::B * 5>(-1, 1);
    const auto y = d.labels<gc::B>(4);
    const auto rep = gc::check("fan-out", m, ctnn::feed<"x">(x), ctnn::feed<"y">(y));
    CHECK(rep.tensors.size() == 8);
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  {
    ctnn::model<fanout_matmul::net, gc::B, double> m;
    gc::randomize(m, 10);
    const auto xa = d.uniform_array<gc::B * 9>(-1, 1);
    const auto t = d.uniform_array<gc::B * 9>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("matmul(a, a) + a", m, ctnn::feed<"xa">(xa), ctnn::feed<"t">(t)), 1e-6);
  }
}

// ---------------------------------------------------------------------------
// (b) tied weights: one name, two layers; the gradient is the sum of what the
// two uses would get as separate parameters.

namespace tied_parallel {
inline constexpr auto x1 = ctnn::input<"x1", ctnn::shape<8>>;
inline constexpr auto x2 = ctnn::input<"x2", ctnn::shape<8>>;
inline constexpr auto y = ctnn::add(ctnn::tanh(ctnn::dense<"shared", 8>(x1)), ctnn::tanh(ctnn::dense<"shared", 8>(x2)));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<8>>)));
}  // namespace tied_parallel
namespace untied_parallel {
inline constexpr auto x1 = ctnn::input<"x1", ctnn::shape<8>>;
inline constexpr auto x2 = ctnn::input<"x2", ctnn::shape<8>>;
inline constexpr auto y = ctnn::add(ctnn::tanh(ctnn::dense<"s1", 8>(x1)), ctnn::tanh(ctnn::dense<"s2", 8>(x2)));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<8>>)));
}  // namespace untied_parallel

namespace tied_sequence {
// The same 8x8 layer applied twice in a row (an unrolled recurrence).
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto h1 = ctnn::tanh(ctnn::dense<"shared", 8>(x));
inline constexpr auto h2 = ctnn::tanh(ctnn::dense<"shared", 8>(h1));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::dense<"out", 3>(h2), ctnn::label<"y", 3>)));
}  // namespace tied_sequence
namespace untied_sequence {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto h1 = ctnn::tanh(ctnn::dense<"s1", 8>(x));
inline constexpr auto h2 = ctnn::tanh(ctnn::dense<"s2", 8>(h1));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::dense<"out", 3>(h2), ctnn::label<"y", 3>)));
}  // namespace untied_sequence

namespace {
// Copies "shared.*" into "s1.*" and "s2.*".
template <class Tied, class Untied>
void copy_shared(ctnn::model<Tied, gc::B, double>& tied, ctnn::model<Untied, gc::B, double>& untied) {
  for (std::string_view p : {"weight", "bias"}) {
    const auto src = tied.param_span("shared." + std::string(p));
    std::copy(src.begin(), src.end(), untied.param_span("s1." + std::string(p)).begin());
    std::copy(src.begin(), src.end(), untied.param_span("s2." + std::string(p)).begin());
  }
}
template <class Tied, class Untied>
void check_tied_sum(ctnn::model<Tied, gc::B, double>& tied, ctnn::model<Untied, gc::B, double>& untied) {
  for (std::string_view p : {"weight", "bias"}) {
    INFO("shared." << p);
    const auto g = tied.grad_span("shared." + std::string(p));
    const auto g1 = untied.grad_span("s1." + std::string(p));
    const auto g2 = untied.grad_span("s2." + std::string(p));
    double scale = 0;
    for (std::size_t i = 0; i < g.size(); ++i) scale = std::max(scale, std::abs(g1[i]) + std::abs(g2[i]));
    REQUIRE(scale > 0);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(g1[i] + g2[i]).margin(1e-14 * scale));
  }
}
}  // namespace

TEST_CASE("gradcheck: tied weights get the sum of their uses' gradients", "[gradcheck][network]") {
  static_assert(tied_parallel::net::plan.params.unique == 2 && untied_parallel::net::plan.params.unique == 4);
  static_assert(tied_sequence::net::plan.params.unique == 4 && untied_sequence::net::plan.params.unique == 6);
  gc::rng d(1002);
  SECTION("two inputs through one layer") {
    static_assert(leaf_name<tied_parallel::net>(0) == "x1" && leaf_name<tied_parallel::net>(1) == "x2" &&
                  leaf_name<tied_parallel::net>(2) == "t");
    const auto x1 = d.uniform_array<gc::B * 8>(-1, 1);
    const auto x2 = d.uniform_array<gc::B * 8>(-1, 1);
    const auto t = d.uniform_array<gc::B * 8>(-1, 1);
    ctnn::model<tied_parallel::net, gc::B, double> tied;
    ctnn::model<untied_parallel::net, gc::B, double> untied;
    gc::randomize(tied, 11, 0.5);
    gc::randomize(untied, 11, 0.5);
    copy_shared(tied, untied);
    const auto f1 = ctnn::feed<"x1">(x1);
    const auto f2 = ctnn::feed<"x2">(x2);
    const auto ft = ctnn::feed<"t">(t);
    CHECK(tied.forward_backward(f1, f2, ft) == Approx(untied.forward_backward(f1, f2, ft)).epsilon(1e-14));
    check_tied_sum(tied, untied);
    const auto rep = gc::check("tied, parallel", tied, f1, f2, ft);
    CHECK(rep.tensors.size() == 2);
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  SECTION("one layer applied twice in sequence") {
    const auto x = d.uniform_array<gc::B * 8>(-1, 1);
    const auto y = d.labels<gc::B>(3);
    ctnn::model<tied_sequence::net, gc::B, double> tied;
    ctnn::model<untied_sequence::net, gc::B, double> untied;
    gc::randomize(tied, 12, 0.5);
    gc::randomize(untied, 12, 0.5);
    copy_shared(tied, untied);
    CHECK(tied.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"y">(y)) ==
          Approx(untied.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"y">(y))).epsilon(1e-14));
    check_tied_sum(tied, untied);
    const auto rep = gc::check("tied, sequence", tied, ctnn::feed<"x">(x), ctnn::feed<"y">(y));
    CHECK(rep.tensors.size() == 4);
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
}

// ---------------------------------------------------------------------------
// (c) several losses with weights (deep supervision, seed 001), and
// (d) several outputs, one of them on a branch no loss depends on.

namespace multi {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<3>>;
inline constexpr auto y = ctnn::label<"y", 4>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"h", 8>(x));
inline constexpr auto main_scores = ctnn::dense<"main", 4>(ctnn::ref<h>);
inline constexpr auto aux = ctnn::sigmoid(ctnn::dense<"aux", 3>(ctnn::ref<h>));
inline constexpr auto probe = ctnn::dense<"probe", 2>(ctnn::ref<h>);  // an output only
inline constexpr auto main_loss = ctnn::softmax_cross_entropy(main_scores, y);
inline constexpr auto aux_loss = ctnn::squared_error(aux, t);
using net = decltype(ctnn::network(main_loss, ctnn::scale<0.3>(aux_loss), ctnn::outputs(main_scores, aux, probe)));
// Each loss alone, for linearity.
using main_only = decltype(ctnn::network(main_loss));
using aux_only = decltype(ctnn::network(aux_loss));
}  // namespace multi

TEST_CASE("gradcheck: several weighted losses and several outputs", "[gradcheck][network]") {
  using net = multi::net;
  static_assert(net::loss_count == 2 && net::output_count == 3);
  static_assert(leaf_name<net>(0) == "x" && leaf_name<net>(1) == "y" && leaf_name<net>(2) == "t");
  gc::rng d(1003);
  const auto x = d.uniform_array<gc::B * 6>(-1, 1);
  const auto y = d.labels<gc::B>(4);
  const auto t = d.uniform_array<gc::B * 3>(0, 1);
  ctnn::model<net, gc::B, double> m;
  gc::randomize(m, 13);
  const auto rep =
      gc::check("two losses, three outputs", m, ctnn::feed<"x">(x), ctnn::feed<"y">(y), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 8);
  GC_REQUIRE_BELOW(rep, 1e-6);

  // The loss is main + 0.3 aux, each averaged over the batch ...
  ctnn::model<multi::main_only, gc::B, double> m1;
  ctnn::model<multi::aux_only, gc::B, double> m2;
  gc::randomize(m1, 13);
  gc::randomize(m2, 13);
  const double l = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"y">(y), ctnn::feed<"t">(t));
  const double l1 = m1.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"y">(y));
  const double l2 = m2.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(l == Approx(l1 + 0.3 * l2).epsilon(1e-14));
  // ... so the gradient is the weighted sum, parameter by parameter.
  for (std::string_view p : {"h.weight", "h.bias"}) {
    const auto g = m.grad_span(p), g1 = m1.grad_span(p), g2 = m2.grad_span(p);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(g1[i] + 0.3 * g2[i]).epsilon(1e-12).margin(1e-16));
  }
  for (std::string_view p : {"main.weight", "main.bias"}) {
    const auto g = m.grad_span(p), g1 = m1.grad_span(p);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(g1[i]).epsilon(1e-14));
  }
  for (std::string_view p : {"aux.weight", "aux.bias"}) {
    const auto g = m.grad_span(p), g2 = m2.grad_span(p);
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(0.3 * g2[i]).epsilon(1e-14));
  }
  // The probe feeds no loss: its gradient is exactly zero, and so is the numerical one.
  for (double g : m.grad_span("probe.weight")) CHECK(g == 0.0);
  CHECK(rep.find("probe.weight")->numerical == 0.0);

  // The outputs are the values of the training pass.
  const auto out0 = m.predict<0>(ctnn::feed<"x">(x));
  const auto v0 = m.value(gc::node_named<net>("main"));
  REQUIRE(out0.size() == gc::B * 4);
  for (std::size_t i = 0; i < out0.size(); ++i) CHECK(out0[i] == Approx(v0[i]).epsilon(1e-14));
  CHECK(m.predict<1>(ctnn::feed<"x">(x)).size() == gc::B * 3);
  CHECK(m.predict<2>(ctnn::feed<"x">(x)).size() == gc::B * 2);
}

// ---------------------------------------------------------------------------
// The seeds' gradients, where they print or state them.

namespace seed_add_mul {
inline constexpr auto x = ctnn::variable<"x", ctnn::shape<1>>;
inline constexpr auto y = ctnn::variable<"y", ctnn::shape<1>>;
inline constexpr auto z = ctnn::variable<"z", ctnn::shape<1>>;
using net = decltype(ctnn::network(ctnn::multiply(ctnn::add(x, y), z)));
}  // namespace seed_add_mul

namespace seed_neuron {
inline constexpr auto x = ctnn::variable<"x", ctnn::shape<2>>;
using net = decltype(ctnn::network(ctnn::sigmoid(ctnn::dense<"w", 1>(x))));
}  // namespace seed_neuron

namespace seed_staged {
inline constexpr auto x = ctnn::variable<"x", ctnn::shape<1>>;
inline constexpr auto y = ctnn::variable<"y", ctnn::shape<1>>;
inline constexpr auto xpy = ctnn::add(x, y);
inline constexpr auto num = ctnn::add(x, ctnn::sigmoid(y));
inline constexpr auto den = ctnn::add(ctnn::sigmoid(x), ctnn::multiply(ctnn::ref<xpy>, ctnn::ref<xpy>));
using net = decltype(ctnn::network(ctnn::divide(num, den)));
}  // namespace seed_staged

TEST_CASE("gradcheck: the seeds' worked examples, analytic and numerical", "[gradcheck][seeds]") {
  SECTION("seed 000: f = (x + y) z at (-2, 5, -4): gradients (-4, -4, 3)") {
    ctnn::model<seed_add_mul::net, 1, double> m;
    m.param_span("x")[0] = -2;
    m.param_span("y")[0] = 5;
    m.param_span("z")[0] = -4;
    const auto r = ctnn::check_gradients(m, gc::step);
    CHECK(r.loss == -12.0);
    for (auto [name, expected] : {std::pair{"x", -4.0}, {"y", -4.0}, {"z", 3.0}}) {
      INFO(name);
      CHECK(m.grad_span(name)[0] == expected);
      CHECK(r.find(name)->numerical == Approx(expected).epsilon(1e-9));
    }
    GC_REQUIRE_BELOW(r, 1e-8);
  }
  SECTION("seed 000: the sigmoid neuron, w = [2, -3, -3], x = [-1, -2]") {
    ctnn::model<seed_neuron::net, 1, double> m;
    m.param<"x">() = {-1.0, -2.0};
    m.param<"w.weight">() = {{2.0}, {-3.0}};
    m.param<"w.bias">()(0) = -3;
    const auto r = ctnn::check_gradients(m, gc::step);
    CHECK(r.loss == Approx(0.731059).margin(5e-7));
    CHECK(m.grad<"x">()(0) == Approx(0.393224).margin(5e-7));
    CHECK(m.grad<"x">()(1) == Approx(-0.589836).margin(5e-7));
    CHECK(m.grad<"w.weight">()(0, 0) == Approx(-0.196612).margin(5e-7));
    CHECK(m.grad<"w.weight">()(1, 0) == Approx(-0.393224).margin(5e-7));
    CHECK(m.grad<"w.bias">()(0) == Approx(0.196612).margin(5e-7));
    GC_REQUIRE_BELOW(r, 1e-8);
  }
  SECTION("seed 003: the staged expression at (3, -4)") {
    ctnn::model<seed_staged::net, 1, double> m;
    m.param_span("x")[0] = 3;
    m.param_span("y")[0] = -4;
    const auto r = ctnn::check_gradients(m, gc::step);
    CHECK(r.loss == Approx(1.545645).margin(5e-7));
    CHECK(m.grad_span("x")[0] == Approx(2.059570).margin(5e-7));
    CHECK(r.find("x")->numerical == Approx(2.059570).margin(5e-7));
    CHECK(m.grad_span("y")[0] == Approx(1.592233).margin(5e-7));
    CHECK(r.find("y")->numerical == Approx(1.592233).margin(5e-7));
    GC_REQUIRE_BELOW(r, 1e-8);
  }
}

// The gate patterns of seed 000 ("add gate: gradient distributor, max gate:
// gradient router, mul gate: gradient switcher") and seed 003's local sigmoid
// gradient ("(1 - 0.73) * 0.73 = 0.2").
namespace seed_gates {
inline constexpr auto a = ctnn::variable<"a", ctnn::shape<1>>;
inline constexpr auto b = ctnn::variable<"b", ctnn::shape<1>>;
inline constexpr auto ab = ctnn::variable<"ab", ctnn::shape<2>>;
using add_gate = decltype(ctnn::network(ctnn::scale<5.0>(ctnn::add(a, b))));
using mul_gate = decltype(ctnn::network(ctnn::scale<5.0>(ctnn::multiply(a, b))));
using max_gate = decltype(ctnn::network(ctnn::scale<5.0>(ctnn::maxout<2>(ab))));
using sigmoid_gate = decltype(ctnn::network(ctnn::sigmoid(a)));
}  // namespace seed_gates

TEST_CASE("gradcheck: seed 000's gate patterns and seed 003's sigmoid gate", "[gradcheck][seeds]") {
  // Upstream gradient 5 (the scale) into each gate.
  {
    ctnn::model<seed_gates::add_gate, 1, double> m;
    m.param_span("a")[0] = 3;
    m.param_span("b")[0] = -7;
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step), 1e-8);
    CHECK(m.grad_span("a")[0] == 5.0);  // distributed unchanged to both inputs
    CHECK(m.grad_span("b")[0] == 5.0);
  }
  {
    ctnn::model<seed_gates::mul_gate, 1, double> m;
    m.param_span("a")[0] = 3;
    m.param_span("b")[0] = -7;
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step), 1e-8);
    CHECK(m.grad_span("a")[0] == 5.0 * -7);  // each input gets the other's value
    CHECK(m.grad_span("b")[0] == 5.0 * 3);
  }
  {
    ctnn::model<seed_gates::max_gate, 1, double> m;
    m.param<"ab">() = {-2.0, 4.0};
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step), 1e-8);
    CHECK(m.grad_span("ab")[0] == 0.0);  // routed to the larger input only
    CHECK(m.grad_span("ab")[1] == 5.0);
  }
  {
    ctnn::model<seed_gates::sigmoid_gate, 1, double> m;
    m.param_span("a")[0] = 1;
    const auto r = ctnn::check_gradients(m, gc::step);
    CHECK(r.loss == Approx(0.731059).margin(5e-7));
    CHECK(m.grad_span("a")[0] == Approx(0.196612).margin(5e-7));  // "(1 - 0.73) * 0.73 = 0.2"
    GC_REQUIRE_BELOW(r, 1e-8);
  }
}

// The losses' gradients as the seeds state them, on trainable predictions.
namespace seed_losses {
inline constexpr auto f = ctnn::variable<"f", ctnn::shape<4>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<4>>;
inline constexpr auto y = ctnn::label<"y", 4>;
using softmax_xe = decltype(ctnn::network(ctnn::softmax_cross_entropy(f, y)));
using svm = decltype(ctnn::network(ctnn::multiclass_hinge(f, y)));
using svm2 = decltype(ctnn::network(ctnn::squared_hinge(f, y)));
using quadratic = decltype(ctnn::network(ctnn::squared_error(f, t)));
using l1 = decltype(ctnn::network(ctnn::l1_loss(f, t)));
using bce = decltype(ctnn::network(ctnn::binary_cross_entropy(f, t)));
using logistic = decltype(ctnn::network(ctnn::sigmoid_cross_entropy(f, t)));
using hinge = decltype(ctnn::network(ctnn::hinge(f, t)));
}  // namespace seed_losses

TEST_CASE("gradcheck: the losses' derivatives as the seeds give them", "[gradcheck][seeds]") {
  const std::array<double, 4> s = {1.2, -0.4, 2.1, 0.3};
  const std::array<int, 1> label = {1};
  auto set = [&](auto& m, const std::array<double, 4>& v) {
    std::copy(v.begin(), v.end(), m.param_span("f").begin());
  };
  SECTION("seed 001: softmax cross-entropy, dL/dz_i = ŷ_i - y_i") {
    ctnn::model<seed_losses::softmax_xe, 1, double> m;
    set(m, s);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step, ctnn::feed<"y">(label)), 1e-8);
    double sum = 0;
    for (double v : s) sum += std::exp(v);
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(m.grad_span("f")[i] == Approx(std::exp(s[i]) / sum - (i == 1 ? 1.0 : 0.0)).epsilon(1e-14));
  }
  SECTION("seed 003: multiclass SVM Σ_{j≠y} max(0, f_j - f_y + 1) and its square") {
    // Margins f_j - f_y + 1 = 2.6, -, 3.5, 1.7: all active.
    const std::array<double, 4> m1 = {2.6, 0, 3.5, 1.7};
    ctnn::model<seed_losses::svm, 1, double> m;
    set(m, s);
    const auto r = ctnn::check_gradients(m, gc::step, ctnn::feed<"y">(label));
    CHECK(r.loss == Approx(2.6 + 3.5 + 1.7));
    GC_REQUIRE_BELOW(r, 1e-8);
    const std::array<double, 4> g = {1, -3, 1, 1};  // 1 per active margin, minus their count at y
    for (std::size_t i = 0; i < 4; ++i) CHECK(m.grad_span("f")[i] == g[i]);
    ctnn::model<seed_losses::svm2, 1, double> m2;
    set(m2, s);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m2, gc::step, ctnn::feed<"y">(label)), 1e-8);
    for (std::size_t i : {0u, 2u, 3u}) CHECK(m2.grad_span("f")[i] == Approx(2 * m1[i]).epsilon(1e-14));
    CHECK(m2.grad_span("f")[1] == Approx(-2 * (2.6 + 3.5 + 1.7)).epsilon(1e-14));
  }
  const std::array<double, 4> target = {0.0, 1.0, 0.25, 1.0};
  SECTION("seed 002: quadratic J = ½(y - y*)², dJ/dy = y - y*; seed 003: L1, sign(δ)") {
    ctnn::model<seed_losses::quadratic, 1, double> m;
    set(m, s);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(target)), 1e-8);
    ctnn::model<seed_losses::l1, 1, double> m1;
    set(m1, s);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m1, gc::step, ctnn::feed<"t">(target)), 1e-8);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(m.grad_span("f")[i] == Approx(s[i] - target[i]).epsilon(1e-14));
      CHECK(m1.grad_span("f")[i] == (s[i] > target[i] ? 1.0 : -1.0));
    }
  }
  SECTION("seed 002 (sign corrected): J = -(y* log y + (1-y*) log(1-y)), dJ/dy = -y*/y + (1-y*)/(1-y)") {
    const std::array<double, 4> p = {0.2, 0.7, 0.5, 0.9};
    ctnn::model<seed_losses::bce, 1, double> m;
    set(m, p);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(target)), 1e-8);
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(m.grad_span("f")[i] == Approx(-target[i] / p[i] + (1 - target[i]) / (1 - p[i])).epsilon(1e-14));
  }
  SECTION("seed 003: multi-label logistic, dL/df_j = σ(f_j) - y_j (the seed's y - σ is for the log-likelihood)") {
    ctnn::model<seed_losses::logistic, 1, double> m;
    set(m, s);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(target)), 1e-8);
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(m.grad_span("f")[i] == Approx(1 / (1 + std::exp(-s[i])) - target[i]).epsilon(1e-14));
  }
  SECTION("seed 002: hinge max(0, 1 - t y), derivative -t where the margin is violated") {
    const std::array<double, 4> t = {1, -1, 1, -1};  // margins 1 - t f: -0.2, 0.6, -1.1, 1.3
    ctnn::model<seed_losses::hinge, 1, double> m;
    set(m, s);
    GC_REQUIRE_BELOW(ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(t)), 1e-8);
    const std::array<double, 4> g = {0, 1, 0, 1};
    for (std::size_t i = 0; i < 4; ++i) CHECK(m.grad_span("f")[i] == g[i]);
  }
}

// ---------------------------------------------------------------------------
// The report itself.

TEST_CASE("gradcheck: report, verdicts and sampling", "[gradcheck][report]") {
  using R = ctnn::gradient_report;
  CHECK(R::verdict(0.5) == "probably wrong");
  CHECK(R::verdict(1e-3) == "uncomfortable");
  CHECK(R::verdict(1e-5) == "ok with kinks, too high without");
  CHECK(R::verdict(1e-9) == "good");
  CHECK(R::verdict(NAN) == "not finite");
  CHECK(R::index_string(ctnn::shape_info{2, {3, 4}}, 7) == "[1, 3]");

  gc::rng d(1004);
  const auto x = d.uniform_array<gc::B * 8>(-1, 1);
  const auto y = d.labels<gc::B>(3);
  ctnn::model<tied_sequence::net, gc::B, double> m;
  gc::randomize(m, 14, 0.5);
  const std::vector<double> before(m.parameters().begin(), m.parameters().end());
  ctnn::gradient_check_options opt;
  opt.step = gc::step;
  opt.max_checks_per_tensor = 10;
  const auto r = ctnn::check_gradients(m, opt, ctnn::feed<"x">(x), ctnn::feed<"y">(y));
  const auto again = ctnn::check_gradients(m, opt, ctnn::feed<"x">(x), ctnn::feed<"y">(y));
  // Parameters restored exactly; the sample is deterministic.
  CHECK(std::equal(before.begin(), before.end(), m.parameters().begin()));
  REQUIRE(r.tensors.size() == 4);
  CHECK(r.find("shared.weight")->elements == 64);
  CHECK(r.find("shared.weight")->checked == 10);
  CHECK(r.find("shared.bias")->checked == 8);
  CHECK(r.find("out.weight")->checked == 10);
  CHECK(r.forward_passes == 1 + 2 * (10 + 8 + 10 + 3) + 1);
  for (std::size_t i = 0; i < r.tensors.size(); ++i) {
    CHECK(r.tensors[i].worst_index == again.tensors[i].worst_index);
    CHECK(r.tensors[i].max_relative_error == again.tensors[i].max_relative_error);
  }
  const std::string table = r.to_string();
  CHECK(table.find("shared.weight") != std::string::npos);
  CHECK(table.find("10/64") != std::string::npos);
  CHECK(table.find("good") != std::string::npos);

}

// An op with a deliberately wrong VJP (d(x²)/dx taken as 2·(1 + ppm·1e-6)·x):
// the check must call it wrong and point at the tensor.
template <int PartsPerMillion>
struct wrong_square_op {
  static constexpr auto name = ctnn::no_name;
  template <class In>
  struct spec : ctnn::spec_defaults {
    static constexpr std::string_view kind = "wrong_square";
    static constexpr double slope = 2.0 * (1.0 + PartsPerMillion * 1e-6);
    using out_shape = In;
    template <std::size_t Bn, class T>
    static void forward(const ctnn::forward_args<T>& a) {
      for (std::size_t i = 0; i < Bn * In::size; ++i) a.out[i] = a.in[0][i] * a.in[0][i];
    }
    template <std::size_t Bn, unsigned Mode, class T>
    static void backward(const ctnn::backward_args<T>& a) {
      if constexpr (bool(Mode & ctnn::grad_mode::input(0)))
        for (std::size_t i = 0; i < Bn * In::size; ++i) {
          const T g = a.dout[i] * T(slope) * a.in[0][i];
          a.din[0][i] = (Mode & ctnn::grad_mode::input_accumulate(0)) ? a.din[0][i] + g : g;
        }
    }
  };
};

namespace wrong {
inline constexpr auto v = ctnn::variable<"v", ctnn::shape<3>>;
inline constexpr auto w = ctnn::variable<"w", ctnn::shape<3>>;
inline constexpr auto y = ctnn::add(ctnn::make_node<wrong_square_op<50'000>>(v), ctnn::tanh(w));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<3>>)));
// Wrong by 0.1%, under a loss of about 1e4 (targets near 100).
inline constexpr auto y_slight = ctnn::add(ctnn::make_node<wrong_square_op<1'000>>(v), ctnn::tanh(w));
using slightly_wrong = decltype(ctnn::network(ctnn::squared_error(y_slight, ctnn::input<"t", ctnn::shape<3>>)));
}  // namespace wrong

TEST_CASE("gradcheck: a wrong backward is reported as probably wrong", "[gradcheck][report]") {
  ctnn::model<wrong::net, gc::B, double> m;
  gc::randomize(m, 15);
  gc::rng d(1005);
  const auto t = d.uniform_array<gc::B * 3>(-1, 1);
  const auto r = ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(t));
  INFO(r.to_string());
  REQUIRE(r.tensors.size() == 2);
  CHECK(r.find("v")->max_relative_error == Approx(0.1 / 2.1).epsilon(1e-6));
  CHECK(ctnn::gradient_report::verdict(r.find("v")->max_relative_error) == "probably wrong");
  CHECK(r.find("w")->max_relative_error < 1e-8);
  CHECK(r.max_relative_error() == r.find("v")->max_relative_error);
  // The rounding allowance is far below a wrong gradient's error.
  CHECK(r.find("v")->max_significant_error == Approx(0.1 / 2.1).epsilon(1e-4));
  CHECK(r.max_significant_error() == r.find("v")->max_significant_error);
  CHECK(r.to_string().find("probably wrong") != std::string::npos);
}

TEST_CASE("gradcheck: a gradient wrong by 0.1% fails under a loss of 1e4", "[gradcheck][report]") {
  ctnn::model<wrong::slightly_wrong, gc::B, double> m;
  gc::randomize(m, 16);
  gc::rng d(1006);
  const auto t = d.uniform_array<gc::B * 3>(80, 120);
  const auto r = ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(t));
  INFO(r.to_string());
  REQUIRE(r.loss > 1e3);
  CHECK(r.find("v")->max_significant_error > 5e-4);  // 0.1% less the rounding allowance
  CHECK(r.find("w")->max_significant_error < 1e-6);
}

// A right gradient whose entries are tiny against the loss: d/dc of
// ½(a + b·c - t)² is (a + b·c - t)·b, with b = 1e-8 and a residual near 140,
// under a loss near 1e4. The central difference's rounding, ε·|L| / h ≈ 2e-7,
// is a relative error near 1e-1 for that entry: noise, not a mistake.
namespace tiny_gradient {
inline constexpr auto a = ctnn::variable<"a", ctnn::shape<1>>;
inline constexpr auto b = ctnn::variable<"b", ctnn::shape<1>>;
inline constexpr auto c = ctnn::variable<"c", ctnn::shape<1>>;
using net = decltype(ctnn::network(
    ctnn::squared_error(ctnn::add(a, ctnn::multiply(b, c)), ctnn::input<"t", ctnn::shape<1>>)));
}  // namespace tiny_gradient

TEST_CASE("gradcheck: rounding in a large loss is not taken for an error", "[gradcheck][report]") {
  ctnn::model<tiny_gradient::net, 1, double> m;
  m.param_span("a")[0] = 0.3;
  m.param_span("b")[0] = 1e-8;
  m.param_span("c")[0] = 0.7;
  const std::array<double, 1> t = {-140.0};
  const auto r = ctnn::check_gradients(m, gc::step, ctnn::feed<"t">(t));
  INFO(r.to_string());
  CHECK(r.loss == Approx(0.5 * (140.3 + 7e-9) * (140.3 + 7e-9)).epsilon(1e-12));
  CHECK(r.resolution == Approx(16 * 0x1p-52 * r.loss / gc::step).epsilon(1e-12));
  CHECK(r.find("c")->analytic == Approx(140.3 * 1e-8).epsilon(1e-6));
  CHECK(r.find("c")->max_relative_error > 1e-3);  // the raw ratio fails any gradient check's bound
  CHECK(r.max_significant_error() < 1e-6);       // the significant part does not
  CHECK(r.find("a")->max_significant_error < 1e-8);
}
