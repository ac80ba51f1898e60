// Central-difference gradient checks of every op, one small network each, in
// double at batch size 3: dense, matmul, the elementwise ops, variable,
// batch_norm and dropout here; the activations in ops_activations.cpp, the losses in ops_losses.cpp.
// Parameters and inputs are random with fixed seeds. The bound asserted is
// 1e-6; observed errors are below 1e-7 (print the tables with
// CTNN_GRADCHECK_PRINT=1).
#include "support.hpp"

using Catch::Detail::Approx;

// ---------------------------------------------------------------------------
// dense

namespace dense_bias {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<7>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<5>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"fc", 5>(x), t)));
}  // namespace dense_bias

namespace dense_nobias {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<7>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<5>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"fc", 5, ctnn::no_bias>(x), t)));
}  // namespace dense_nobias

namespace dense_chain {
// Two dense layers: the second one's input gradient (gemm_nt) reaches the first.
// 20 and 17 wide so that the SIMD kernels' vector and scalar-tail paths both run.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<9>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<17>>;
inline constexpr auto h = ctnn::dense<"l0", 20>(x);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"l1", 17>(ctnn::ref<h>), t)));
}  // namespace dense_chain

TEST_CASE("gradcheck: dense with and without bias", "[gradcheck][dense]") {
  gc::rng r(11);
  const auto x = r.uniform_array<gc::B * 7>(-1, 1);
  const auto t = r.uniform_array<gc::B * 5>(-1, 1);
  {
    ctnn::model<dense_bias::net, gc::B, double> m;
    gc::randomize(m, 1);
    const auto rep = gc::check("dense", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    CHECK(rep.tensors.size() == 2);
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  {
    ctnn::model<dense_nobias::net, gc::B, double> m;
    gc::randomize(m, 1);
    const auto rep = gc::check("dense, no_bias", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    CHECK(rep.tensors.size() == 1);
    CHECK(rep.tensors[0].name == "fc.weight");
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  {
    ctnn::model<dense_chain::net, gc::B, double> m;
    gc::randomize(m, 2, 0.4);
    const auto x9 = r.uniform_array<gc::B * 9>(-1, 1);
    const auto t17 = r.uniform_array<gc::B * 17>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("dense -> dense", m, ctnn::feed<"x">(x9), ctnn::feed<"t">(t17)), 1e-6);
  }
}

namespace dense_smooth_chain {
// Fused smooth activations in two layers, for the batch sizes below.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<9>>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"l0", 20>(x));
inline constexpr auto y = ctnn::sigmoid(ctnn::dense<"l1", 17>(h));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<17>>)));
}  // namespace dense_smooth_chain

template <std::size_t Bn>
void check_smooth_chain() {
  gc::rng r(100 + Bn);
  const auto x = r.uniform_array<Bn * 9>(-1, 1);
  const auto t = r.uniform_array<Bn * 17>(0, 1);
  ctnn::model<dense_smooth_chain::net, Bn, double> m;
  gc::randomize(m, 6, 0.6);
  INFO("batch " << Bn);
  GC_REQUIRE_BELOW(gc::check("tanh(dense) -> sigmoid(dense)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}

TEST_CASE("gradcheck: dense kernels' row-blocked paths at batch sizes 3, 5 and 8", "[gradcheck][dense]") {
  // The GEMMs block rows by 4: batch 3 runs only the leftover-row code, 5
  // runs both, 8 only the blocked one.
  check_smooth_chain<3>();
  check_smooth_chain<5>();
  check_smooth_chain<8>();
}

// ---------------------------------------------------------------------------
// matmul: both operands depend on parameters (a variable times an input, so
// that every sample has its own matrices), so the VJP to each is checked.

namespace matmul_22 {
inline constexpr auto a = ctnn::multiply(ctnn::variable<"a", ctnn::shape<2, 3>>, ctnn::input<"xa", ctnn::shape<2, 3>>);
inline constexpr auto b = ctnn::multiply(ctnn::variable<"b", ctnn::shape<3, 5>>, ctnn::input<"xb", ctnn::shape<3, 5>>);
inline constexpr auto c = ctnn::matmul(a, b);
using net = decltype(ctnn::network(ctnn::squared_error(c, ctnn::input<"t", ctnn::shape<2, 5>>)));
}  // namespace matmul_22

namespace matmul_12 {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto v = ctnn::dense<"fc", 3>(x);
inline constexpr auto w = ctnn::multiply(ctnn::variable<"w", ctnn::shape<3, 6>>, ctnn::input<"xw", ctnn::shape<3, 6>>);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::matmul(v, w), ctnn::input<"t", ctnn::shape<6>>)));
}  // namespace matmul_12

TEST_CASE("gradcheck: matmul [M,K]x[K,N] and [K]x[K,N], both operands trainable", "[gradcheck][matmul]") {
  gc::rng r(12);
  {
    ctnn::model<matmul_22::net, gc::B, double> m;
    gc::randomize(m, 3);
    const auto xa = r.uniform_array<gc::B * 6>(-1, 1);
    const auto xb = r.uniform_array<gc::B * 15>(-1, 1);
    const auto t = r.uniform_array<gc::B * 10>(-1, 1);
    const auto rep = gc::check("matmul [2,3]x[3,5]", m, ctnn::feed<"xa">(xa), ctnn::feed<"xb">(xb), ctnn::feed<"t">(t));
    CHECK(rep.tensors.size() == 2);
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  {
    ctnn::model<matmul_12::net, gc::B, double> m;
    gc::randomize(m, 4);
    const auto x = r.uniform_array<gc::B * 4>(-1, 1);
    const auto xw = r.uniform_array<gc::B * 18>(-1, 1);
    const auto t = r.uniform_array<gc::B * 6>(-1, 1);
    const auto rep = gc::check("matmul [3]x[3,6]", m, ctnn::feed<"x">(x), ctnn::feed<"xw">(xw), ctnn::feed<"t">(t));
    CHECK(rep.tensors.size() == 3);
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
}

TEST_CASE("gradcheck: matmul's backward through its spec, overwrite and accumulate", "[gradcheck][matmul]") {
  // The spec's VJP against central differences of the spec's own forward, on
  // L = Σ g ⊙ (A·B) for a random upstream g, including Mode's accumulate bits.
  using spec = ctnn::matmul_op::spec<ctnn::shape<3, 4>, ctnn::shape<4, 2>>;
  constexpr std::size_t Bn = 2, na = 12, nb = 8, nc = 6;
  gc::rng r(13);
  auto A = r.uniform_array<Bn * na>(-1, 1);
  auto Bm = r.uniform_array<Bn * nb>(-1, 1);
  const auto g = r.uniform_array<Bn * nc>(-1, 1);
  auto loss = [&] {
    std::array<double, Bn * nc> c{};
    ctnn::forward_args<double> f;
    f.in[0] = A.data();
    f.in[1] = Bm.data();
    f.out = c.data();
    spec::forward<Bn>(f);
    double l = 0;
    for (std::size_t i = 0; i < c.size(); ++i) l += g[i] * c[i];
    return l;
  };
  std::array<double, Bn * na> dA{};
  std::array<double, Bn * nb> dB{};
  ctnn::backward_args<double> b;
  b.in[0] = A.data();
  b.in[1] = Bm.data();
  b.dout = g.data();
  b.din[0] = dA.data();
  b.din[1] = dB.data();
  constexpr unsigned both = ctnn::grad_mode::input(0) | ctnn::grad_mode::input(1);
  spec::backward<Bn, both>(b);
  auto numeric = [&](double& w) {
    const double w0 = w, h = gc::step;
    w = w0 + h;
    const double up = loss();
    w = w0 - h;
    const double down = loss();
    w = w0;
    return (up - down) / (2 * h);
  };
  for (std::size_t i = 0; i < A.size(); ++i) CHECK(dA[i] == Approx(numeric(A[i])).epsilon(1e-9));
  for (std::size_t i = 0; i < Bm.size(); ++i) CHECK(dB[i] == Approx(numeric(Bm[i])).epsilon(1e-9));
  // Accumulate mode adds to what is there.
  const auto dA1 = dA;
  const auto dB1 = dB;
  constexpr unsigned acc = both | ctnn::grad_mode::input_accumulate(0) | ctnn::grad_mode::input_accumulate(1);
  spec::backward<Bn, acc>(b);
  for (std::size_t i = 0; i < dA.size(); ++i) CHECK(dA[i] == Approx(2 * dA1[i]).epsilon(1e-14));
  for (std::size_t i = 0; i < dB.size(); ++i) CHECK(dB[i] == Approx(2 * dB1[i]).epsilon(1e-14));
}

// ---------------------------------------------------------------------------
// elementwise ops and variable

namespace ew_add {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto y = ctnn::add(ctnn::dense<"a", 5>(x), ctnn::dense<"b", 5>(x));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<5>>)));
}  // namespace ew_add
namespace ew_subtract {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto y = ctnn::subtract(ctnn::dense<"a", 5>(x), ctnn::dense<"b", 5>(x));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<5>>)));
}  // namespace ew_subtract
namespace ew_multiply {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto y = ctnn::multiply(ctnn::dense<"a", 5>(x), ctnn::dense<"b", 5>(x));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<5>>)));
}  // namespace ew_multiply
namespace ew_divide {
// The denominator is a sigmoid, in (0, 1); draws keep it above 0.05.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto y = ctnn::divide(ctnn::dense<"a", 5>(x), ctnn::sigmoid(ctnn::dense<"b", 5>(x)));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<5>>)));
}  // namespace ew_divide
namespace ew_scale {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto y = ctnn::scale<-0.3>(ctnn::dense<"a", 5>(x));
// A scaled loss too: the loss root itself is a scale node.
using net = decltype(ctnn::network(ctnn::scale<2.5>(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<5>>))));
}  // namespace ew_scale
namespace ew_variable {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto y = ctnn::add(ctnn::dense<"a", 5>(x), ctnn::variable<"v", ctnn::shape<5>>);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::tanh(y), ctnn::input<"t", ctnn::shape<5>>)));
}  // namespace ew_variable

template <class Net>
void check_elementwise(const char* what, double bound) {
  gc::rng r(21);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  const auto t = r.uniform_array<gc::B * 5>(-1, 1);
  ctnn::model<Net, gc::B, double> m;
  gc::randomize(m, 5);
  const auto rep = gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  GC_REQUIRE_BELOW(rep, bound);
}

TEST_CASE("gradcheck: add, subtract, multiply, divide, scale, variable", "[gradcheck][elementwise]") {
  check_elementwise<ew_add::net>("add", 1e-6);
  check_elementwise<ew_subtract::net>("subtract", 1e-6);
  check_elementwise<ew_multiply::net>("multiply", 1e-6);
  check_elementwise<ew_scale::net>("scale", 1e-6);
  check_elementwise<ew_variable::net>("variable", 1e-6);
  {
    gc::rng r(22);
    ctnn::model<ew_divide::net, gc::B, double> m;
    std::array<double, gc::B * 4> x{};
    std::array<double, gc::B * 5> t{};
    gc::draw_until(
        m, [&](std::uint64_t s) { gc::rng d(s); x = d.uniform_array<gc::B * 4>(-1, 1); t = d.uniform_array<gc::B * 5>(-1, 1); },
        [&](auto& mm) {
          mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
          return gc::min_abs(mm.value(gc::node_id<ew_divide::net>("dense+sigmoid"))) > 0.05;
        });
    GC_REQUIRE_BELOW(gc::check("divide", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
}

// ---------------------------------------------------------------------------
// batch_norm and dropout: training-mode ops. A gradient check runs training
// forwards only, with the model's dropout masks held fixed.

namespace bn {
// The dense before a batch norm has no bias: the norm removes any shift, so a
// bias's true gradient is zero and only rounding noise would be compared.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<5>>;
inline constexpr auto h = ctnn::batch_norm<"bn">(ctnn::dense<"fc", 7, ctnn::no_bias>(x));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::tanh(h), ctnn::input<"t", ctnn::shape<7>>)));
}  // namespace bn

template <std::size_t Bn>
void check_batch_norm() {
  gc::rng r(60 + Bn);
  const auto x = r.uniform_array<Bn * 5>(-1, 1);
  const auto t = r.uniform_array<Bn * 7>(-1, 1);
  ctnn::model<bn::net, Bn, double> m;
  gc::randomize(m, 16);
  const std::vector<double> state(m.state().begin(), m.state().end());
  INFO("batch " << Bn);
  const auto rep = gc::check("batch_norm", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 3);  // fc.weight, bn.gamma, bn.beta; not the running statistics
  CHECK(rep.find("bn.running_mean") == nullptr);
  GC_REQUIRE_BELOW(rep, 1e-6);
  // The check leaves the running statistics as it found them.
  CHECK(std::equal(state.begin(), state.end(), m.state().begin()));
}

TEST_CASE("gradcheck: batch_norm, through the batch mean and variance", "[gradcheck][batch_norm]") {
  check_batch_norm<3>();
  check_batch_norm<8>();
}

namespace drop {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto h = ctnn::dropout<0.5>(ctnn::tanh(ctnn::dense<"fc", 19>(x)));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"out", 5>(h), ctnn::input<"t", ctnn::shape<5>>)));
}  // namespace drop

TEST_CASE("gradcheck: dropout, with its mask held fixed", "[gradcheck][dropout]") {
  gc::rng r(70);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  const auto t = r.uniform_array<gc::B * 5>(-1, 1);
  ctnn::model<drop::net, gc::B, double> m;
  gc::randomize(m, 17);
  GC_REQUIRE_BELOW(gc::check("dropout<0.5>", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  // Some units are dropped and some kept, in every sample.
  const auto kept = m.value(gc::node_id<drop::net>("dropout"));
  const auto pre = m.value(gc::node_id<drop::net>("dense+tanh"));
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (kept[i] == 0.0) ++dropped;
    else CHECK(kept[i] == Approx(2 * pre[i]).epsilon(1e-15));  // inverted dropout: kept values scaled by 1/(1-p)
  }
  CHECK(dropped > 0);
  CHECK(dropped < kept.size());
  // With new masks the check passes again (and the loss changes).
  const double before = m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  m.advance_noise();
  const double after = m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(before != after);
  GC_REQUIRE_BELOW(gc::check("dropout<0.5>, next masks", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}
