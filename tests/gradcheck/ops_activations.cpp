// Central-difference gradient checks of the activations, in double at batch
// size 3, each applied to a bound dense (a node of its own) and directly to a
// dense (fused into the GEMM epilogue). Where an activation has a kink (relu,
// leaky_relu, step, elu, maxout) the data are redrawn until no pre-activation
// lies within gc::kink_margin of it, so the bound asserted (1e-6) is one for
// smooth functions.
#include "support.hpp"

using Catch::Detail::Approx;

// ---------------------------------------------------------------------------
// activations: each applied to a bound dense (its own node) and directly to a
// dense (fused into the GEMM epilogue); the two must agree and both must pass.

// 19 units: with AVX-512 doubles the GEMM epilogue and the activation maps run
// both their vector loop (16) and their scalar tail (3).
#define GC_ACTIVATION_NETS(ns, act, units, width)                                                  \
  namespace ns {                                                                                   \
  inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;                                      \
  inline constexpr auto t = ctnn::input<"t", ctnn::shape<width>>;                                  \
  inline constexpr auto h = ctnn::dense<"fc", units>(x);                                           \
  using separate = decltype(ctnn::network(ctnn::squared_error(act(ctnn::ref<h>), t)));             \
  using fused = decltype(ctnn::network(ctnn::squared_error(act(ctnn::dense<"fc", units>(x)), t))); \
  }

GC_ACTIVATION_NETS(act_identity, ctnn::identity, 19, 19)
GC_ACTIVATION_NETS(act_step, ctnn::step, 19, 19)
GC_ACTIVATION_NETS(act_sigmoid, ctnn::sigmoid, 19, 19)
GC_ACTIVATION_NETS(act_tanh, ctnn::tanh, 19, 19)
GC_ACTIVATION_NETS(act_relu, ctnn::relu, 19, 19)
GC_ACTIVATION_NETS(act_leaky, ctnn::leaky_relu<0.1>, 19, 19)
GC_ACTIVATION_NETS(act_elu, ctnn::elu<1.0>, 19, 19)
GC_ACTIVATION_NETS(act_maxout, ctnn::maxout<2>, 20, 10)
GC_ACTIVATION_NETS(act_softmax, ctnn::softmax, 19, 19)

namespace act_relu_on_add {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto s = ctnn::add(ctnn::dense<"a", 6>(x), ctnn::dense<"b", 6>(x));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::relu(s), ctnn::input<"t", ctnn::shape<6>>)));
}  // namespace act_relu_on_add

enum class kinks { none, at_zero, maxout_pairs };

template <class Separate, class Fused, std::size_t W>
void check_activation(const char* what, kinks k, std::string_view fused_kind, double bound, double t_lo = -1,
                      double t_hi = 1) {
  std::array<double, gc::B * 4> x{};
  std::array<double, gc::B * W> t{};
  ctnn::model<Separate, gc::B, double> sep;
  auto draw = [&](std::uint64_t s) {
    gc::rng d(100 + s);
    x = d.uniform_array<gc::B * 4>(-1.5, 1.5);
    t = d.uniform_array<gc::B * W>(t_lo, t_hi);
  };
  const std::uint64_t seed = gc::draw_until(sep, draw, [&](auto& m) {
    m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    const auto pre = m.value(gc::node_id<Separate>("dense"));
    if (k == kinks::at_zero) return gc::min_abs(pre) > gc::kink_margin;
    if (k == kinks::maxout_pairs) {
      for (std::size_t i = 0; i + 1 < pre.size(); i += 2)
        if (std::abs(pre[i] - pre[i + 1]) <= gc::kink_margin) return false;
    }
    return true;
  });
  const auto rep_sep = gc::check(what, sep, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  {
    INFO(what << ", as its own node");
    GC_REQUIRE_BELOW(rep_sep, bound);
  }

  // The fused network: same parameter names, so the same values.
  ctnn::model<Fused, gc::B, double> fus;
  REQUIRE(gc::node_id<Fused>(fused_kind) != ctnn::none);
  gc::randomize(fus, seed);
  const double l_sep = sep.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const double l_fus = fus.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  INFO(what << ", fused as " << fused_kind);
  CHECK(l_fus == Approx(l_sep).epsilon(1e-13));
  // The activation's values: the loss's first input in either network.
  const auto ys = sep.value(Separate::plan.nodes[Separate::loss_ids[0]].input[0]);
  const auto yf = fus.value(Fused::plan.nodes[Fused::loss_ids[0]].input[0]);
  REQUIRE(ys.size() == gc::B * W);
  REQUIRE(yf.size() == gc::B * W);
  for (std::size_t i = 0; i < ys.size(); ++i) CHECK(yf[i] == Approx(ys[i]).epsilon(1e-14).margin(1e-16));
  for (std::string_view p : {"fc.weight", "fc.bias"}) {
    const auto gs = sep.grad_span(p);
    const auto gf = fus.grad_span(p);
    for (std::size_t i = 0; i < gs.size(); ++i) CHECK(gf[i] == Approx(gs[i]).epsilon(1e-12).margin(1e-15));
  }
  GC_REQUIRE_BELOW(gc::check(what, fus, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), bound);
}

TEST_CASE("gradcheck: activations, separate and fused into dense", "[gradcheck][activation]") {
  check_activation<act_identity::separate, act_identity::fused, 19>("identity", kinks::none, "dense", 1e-6);
  check_activation<act_sigmoid::separate, act_sigmoid::fused, 19>("sigmoid", kinks::none, "dense+sigmoid", 1e-6);
  check_activation<act_tanh::separate, act_tanh::fused, 19>("tanh", kinks::none, "dense+tanh", 1e-6);
  check_activation<act_relu::separate, act_relu::fused, 19>("relu", kinks::at_zero, "dense+relu", 1e-6);
  check_activation<act_leaky::separate, act_leaky::fused, 19>("leaky_relu<0.1>", kinks::at_zero,
                                                              "dense+leaky_relu", 1e-6);
  check_activation<act_elu::separate, act_elu::fused, 19>("elu<1.0>", kinks::at_zero, "dense+elu", 1e-6);
  // Not fusable: maxout and softmax stay nodes of their own either way.
  check_activation<act_maxout::separate, act_maxout::fused, 10>("maxout<2>", kinks::maxout_pairs, "maxout", 1e-6);
  // Targets of a probability's size: a loss of order one with gradients of
  // order 1e-4 would put the rounding of the loss (~1e-16 / h) at 1e-6 relative.
  check_activation<act_softmax::separate, act_softmax::fused, 19>("softmax", kinks::none, "softmax", 1e-6, 0,
                                                                  2.0 / 19);
}

TEST_CASE("gradcheck: step has a zero gradient, separate and fused", "[gradcheck][activation]") {
  check_activation<act_step::separate, act_step::fused, 19>("step", kinks::at_zero, "dense+step", 1e-6);
  // The analytic gradient is exactly zero, not merely small.
  gc::rng r(31);
  const auto x = r.uniform_array<gc::B * 4>(-1.5, 1.5);
  const auto t = r.uniform_array<gc::B * 19>(-1, 1);
  ctnn::model<act_step::separate, gc::B, double> sep;
  ctnn::model<act_step::fused, gc::B, double> fus;
  gc::randomize(sep, 7);
  gc::randomize(fus, 7);
  sep.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  fus.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  for (double g : sep.gradients()) CHECK(g == 0.0);
  for (double g : fus.gradients()) CHECK(g == 0.0);
}

TEST_CASE("gradcheck: relu applied to add(...)", "[gradcheck][activation]") {
  std::array<double, gc::B * 4> x{};
  std::array<double, gc::B * 6> t{};
  ctnn::model<act_relu_on_add::net, gc::B, double> m;
  gc::draw_until(
      m, [&](std::uint64_t s) { gc::rng d(200 + s); x = d.uniform_array<gc::B * 4>(-1.5, 1.5); t = d.uniform_array<gc::B * 6>(-1, 1); },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
        return gc::min_abs(mm.value(gc::node_id<act_relu_on_add::net>("add"))) > gc::kink_margin;
      });
  GC_REQUIRE_BELOW(gc::check("relu(add)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}
