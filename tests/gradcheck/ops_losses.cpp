// Central-difference gradient checks of every loss, in double at batch size
// 3, and the losses' and sigmoid's behaviour at huge logits. Where a loss has
// a kink (l1, hinge, multiclass and squared hinge) the data are redrawn until
// no residual or margin lies within gc::kink_margin of it.
#include "support.hpp"

#include <functional>

#include <ctnn/xtensor.hpp>
#include <xtensor/xbuilder.hpp>

using Catch::Detail::Approx;

// ---------------------------------------------------------------------------
// losses against a target tensor

#define GC_TARGET_LOSS_NET(ns, loss, ...)                                                \
  namespace ns {                                                                         \
  inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;                            \
  inline constexpr auto t = ctnn::input<"t", ctnn::shape<5>>;                            \
  using net = decltype(ctnn::network(loss(__VA_ARGS__, t)));                             \
  }

GC_TARGET_LOSS_NET(loss_squared, ctnn::squared_error, ctnn::dense<"fc", 5>(x))
GC_TARGET_LOSS_NET(loss_l1, ctnn::l1_loss, ctnn::dense<"fc", 5>(x))
GC_TARGET_LOSS_NET(loss_bce, ctnn::binary_cross_entropy, ctnn::sigmoid(ctnn::dense<"fc", 5>(x)))
GC_TARGET_LOSS_NET(loss_sce, ctnn::sigmoid_cross_entropy, ctnn::dense<"fc", 5>(x))
GC_TARGET_LOSS_NET(loss_hinge, ctnn::hinge, ctnn::dense<"fc", 5>(x))

// A target that is itself trainable (only squared_error and l1_loss allow it).
namespace loss_squared_tt {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"p", 5>(x), ctnn::dense<"q", 5>(x))));
}  // namespace loss_squared_tt
namespace loss_l1_tt {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
using net = decltype(ctnn::network(ctnn::l1_loss(ctnn::dense<"p", 5>(x), ctnn::dense<"q", 5>(x))));
}  // namespace loss_l1_tt

enum class target_kind { real, unit, sign };

// `kink(pred, target)` is the distance of one element from the loss's kink.
template <class Net>
void check_target_loss(const char* what, target_kind tk, std::function<double(double, double)> kink, double bound) {
  std::array<double, gc::B * 4> x{};
  std::array<double, gc::B * 5> t{};
  ctnn::model<Net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t s) {
        gc::rng d(300 + s);
        x = d.uniform_array<gc::B * 4>(-1, 1);
        if (tk == target_kind::sign) t = d.signs<gc::B * 5>();
        else if (tk == target_kind::unit) t = d.uniform_array<gc::B * 5>(0, 1);
        else t = d.uniform_array<gc::B * 5>(-1, 1);
      },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
        if (!kink) return true;
        const auto pred = mm.value(gc::node_id<Net>("dense"));
        for (std::size_t i = 0; i < pred.size(); ++i)
          if (kink(pred[i], t[i]) <= gc::kink_margin) return false;
        return true;
      });
  GC_REQUIRE_BELOW(gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), bound);
}

template <class Net>
void check_trainable_target(const char* what, bool kinked, double bound) {
  std::array<double, gc::B * 4> x{};
  ctnn::model<Net, gc::B, double> m;
  gc::draw_until(
      m, [&](std::uint64_t s) { gc::rng d(400 + s); x = d.uniform_array<gc::B * 4>(-1, 1); },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x));
        if (!kinked) return true;
        const auto p = mm.value(gc::node_id<Net>("dense", 0));
        const auto q = mm.value(gc::node_id<Net>("dense", 1));
        for (std::size_t i = 0; i < p.size(); ++i)
          if (std::abs(p[i] - q[i]) <= gc::kink_margin) return false;
        return true;
      });
  const auto rep = gc::check(what, m, ctnn::feed<"x">(x));
  CHECK(rep.tensors.size() == 4);  // p and q, weight and bias: both sides get gradients
  GC_REQUIRE_BELOW(rep, bound);
}

TEST_CASE("gradcheck: losses against a target", "[gradcheck][loss]") {
  check_target_loss<loss_squared::net>("squared_error", target_kind::real, {}, 1e-6);
  check_target_loss<loss_l1::net>("l1_loss", target_kind::real, [](double y, double t) { return std::abs(y - t); },
                                  1e-6);
  check_target_loss<loss_sce::net>("sigmoid_cross_entropy", target_kind::unit, {}, 1e-6);
  check_target_loss<loss_hinge::net>("hinge", target_kind::sign,
                                     [](double y, double t) { return std::abs(1 - t * y); }, 1e-6);
  check_trainable_target<loss_squared_tt::net>("squared_error, trainable target", false, 1e-6);
  check_trainable_target<loss_l1_tt::net>("l1_loss, trainable target", true, 1e-6);
}

TEST_CASE("gradcheck: binary_cross_entropy on sigmoid outputs", "[gradcheck][loss]") {
  // The prediction is the fused dense+sigmoid; targets in [0, 1].
  gc::rng r(41);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  const auto t = r.uniform_array<gc::B * 5>(0, 1);
  ctnn::model<loss_bce::net, gc::B, double> m;
  gc::randomize(m, 8);
  GC_REQUIRE_BELOW(gc::check("binary_cross_entropy(sigmoid)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}

// ---------------------------------------------------------------------------
// losses against a class label

#define GC_LABEL_LOSS_NET(ns, loss)                                                       \
  namespace ns {                                                                          \
  inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;                             \
  using net = decltype(ctnn::network(loss(ctnn::dense<"fc", 5>(x), ctnn::label<"y", 5>))); \
  }

GC_LABEL_LOSS_NET(loss_sxe, ctnn::softmax_cross_entropy)
GC_LABEL_LOSS_NET(loss_nll, ctnn::negative_log_likelihood)  // on scores, not log-probs: the same VJP
GC_LABEL_LOSS_NET(loss_mch, ctnn::multiclass_hinge)
GC_LABEL_LOSS_NET(loss_sqh, ctnn::squared_hinge)

template <class Net>
void check_label_loss(const char* what, bool margins, double bound) {
  std::array<double, gc::B * 4> x{};
  std::array<int, gc::B> y{};
  ctnn::model<Net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t s) {
        gc::rng d(500 + s);
        x = d.uniform_array<gc::B * 4>(-1, 1);
        y = d.labels<gc::B>(5);
      },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"y">(y));
        if (!margins) return true;
        // Away from every margin's kink s_j - s_y + 1 = 0, with some margins active.
        const auto s = mm.value(gc::node_id<Net>("dense"));
        std::size_t active = 0;
        for (std::size_t b = 0; b < gc::B; ++b)
          for (std::size_t j = 0; j < 5; ++j) {
            if (j == std::size_t(y[b])) continue;
            const double margin = s[b * 5 + j] - s[b * 5 + y[b]] + 1;
            if (std::abs(margin) <= gc::kink_margin) return false;
            active += margin > 0;
          }
        return active >= gc::B;
      });
  GC_REQUIRE_BELOW(gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"y">(y)), bound);
}

TEST_CASE("gradcheck: losses against a label", "[gradcheck][loss]") {
  check_label_loss<loss_sxe::net>("softmax_cross_entropy", false, 1e-6);
  check_label_loss<loss_nll::net>("negative_log_likelihood", false, 1e-6);
  check_label_loss<loss_mch::net>("multiclass_hinge", true, 1e-6);
  check_label_loss<loss_sqh::net>("squared_hinge", true, 1e-6);
}

// ---------------------------------------------------------------------------
// huge logits: values and gradients stay finite

namespace huge_sxe {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto logits = ctnn::dense<"fc", 4>(x);
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 4>), ctnn::outputs(logits)));
}  // namespace huge_sxe
namespace huge_sigmoid {
// Roots may repeat a sub-graph by value: `outputs(y)` next to `loss(y, t)`.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<4>>;
inline constexpr auto h = ctnn::dense<"fc", 4>(x);
inline constexpr auto y_fused = ctnn::sigmoid(ctnn::dense<"fc", 4>(x));
inline constexpr auto y_separate = ctnn::sigmoid(ctnn::ref<h>);
inline constexpr auto p_softmax = ctnn::softmax(ctnn::ref<h>);
using fused = decltype(ctnn::network(ctnn::squared_error(y_fused, t), ctnn::outputs(y_fused)));
using separate = decltype(ctnn::network(ctnn::squared_error(y_separate, t), ctnn::outputs(y_separate)));
using bce = decltype(ctnn::network(ctnn::binary_cross_entropy(y_fused, t), ctnn::outputs(y_fused)));
using sce = decltype(ctnn::network(ctnn::sigmoid_cross_entropy(h, t), ctnn::outputs(h)));
using soft = decltype(ctnn::network(ctnn::squared_error(p_softmax, t), ctnn::outputs(p_softmax)));
}  // namespace huge_sigmoid

namespace {
// fc = identity, so the logits are the inputs.
template <class Net>
void identity_layer(ctnn::model<Net, gc::B, double>& m) {
  ctnn::as_xtensor(m.template param<"fc.weight">()) = xt::eye<double>(4);
  m.template param<"fc.bias">().fill(0.0);
}
template <class Span>
bool all_finite(Span s) {
  return std::all_of(s.begin(), s.end(), [](double v) { return std::isfinite(v); });
}
}  // namespace

TEST_CASE("gradcheck: huge logits give finite values and gradients", "[gradcheck][stability]") {
  // ±1e4: e^(1e4) overflows a double; a naive softmax or sigmoid gives inf/inf = NaN.
  const std::array<double, gc::B * 4> x = {1e4, -1e4, 0.0, 5e3,  //
                                           -1e4, -1e4, -1e4, -1e4,  //
                                           1e4, 1e4, -1e4, 2.0};
  const std::array<double, gc::B * 4> t = {1, 0, 0.5, 1, 0, 1, 0, 1, 1, 0, 0, 1};
  {
    ctnn::model<huge_sxe::net, gc::B, double> m;
    identity_layer(m);
    const std::array<int, gc::B> y = {1, 2, 0};
    const double loss = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"y">(y));
    CHECK(std::isfinite(loss));
    // Sample losses: logsumexp - s_y = 2e4, 0 + log 4 and 0 + log 2.
    CHECK(loss == Approx((2e4 + std::log(4.0) + std::log(2.0)) / 3).epsilon(1e-14));
    CHECK(all_finite(m.gradients()));
    // dL/db = mean over the batch of p - onehot(y) (seed 001: "ŷ_i - y_i").
    const auto gb = m.grad<"fc.bias">();
    CHECK(gb(0) == Approx((1.0 + 0.25 + (0.5 - 1.0)) / 3));
    CHECK(gb(1) == Approx((-1.0 + 0.25 + 0.5) / 3));
    CHECK(gb(2) == Approx((0.0 + (0.25 - 1.0) + 0.0) / 3));
    CHECK(gb(3) == Approx((0.0 + 0.25 + 0.0) / 3));
    CHECK(all_finite(m.predict(ctnn::feed<"x">(x))));
  }
  auto run = [&](auto& m, const char* what) {
    INFO(what);
    identity_layer(m);
    const double loss = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    CHECK(std::isfinite(loss));
    CHECK(all_finite(m.gradients()));
    CHECK(all_finite(m.predict(ctnn::feed<"x">(x))));
    return loss;
  };
  ctnn::model<huge_sigmoid::fused, gc::B, double> fused;
  ctnn::model<huge_sigmoid::separate, gc::B, double> separate;
  ctnn::model<huge_sigmoid::bce, gc::B, double> bce;
  ctnn::model<huge_sigmoid::sce, gc::B, double> sce;
  ctnn::model<huge_sigmoid::soft, gc::B, double> soft;
  const double lf = run(fused, "sigmoid fused into dense");
  const double ls = run(separate, "sigmoid as its own node");
  CHECK(lf == Approx(ls).epsilon(1e-14));
  run(bce, "binary_cross_entropy(sigmoid)");
  const double lsce = run(sce, "sigmoid_cross_entropy");
  // max(x, 0) - t x + log1p(e^-|x|), exactly, per element.
  double expect = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    expect += std::max(x[i], 0.0) - t[i] * x[i] + std::log1p(std::exp(-std::abs(x[i])));
  CHECK(lsce == Approx(expect / 3).epsilon(1e-14));
  run(soft, "softmax as its own node");
}
