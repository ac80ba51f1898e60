// Loss reductions as options (ctnn/ops/loss_options.hpp): every loss's value
// under each option on a small example, against literals, and a
// central-difference gradient check in double per loss and option.
//
// The literals were computed with python3 in plain double-precision math from
// PyTorch's documented formulas (torch was not installed): F.mse_loss,
// F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits and
// the elementwise hinge clamp(1 − t·y, min=0) take reduction='mean' as the
// mean over all B·n elements and 'sum' as their sum; F.cross_entropy and
// F.nll_loss reduce over the batch only; F.multi_margin_loss(p=1 or 2)
// divides each sample's Σ_{j≠y} max(0, 1 − x_y + x_j)^p by the class count C
// and then reduces over the batch. The options' own columns (sample_mean,
// batch_sum, ...) are ctnn's per-sample formula with that reduction applied.
#include "support.hpp"

#include <functional>
#include <type_traits>

using Catch::Detail::Approx;

namespace {
constexpr std::size_t vb = 2;  // the value examples' batch

// Two samples of three elements.
constexpr std::array<double, 6> y = {0.5, -1.0, 2.0, 1.5, 0.25, -0.75};
constexpr std::array<double, 6> t = {1.0, 0.0, 1.5, -0.5, 0.25, 0.0};
constexpr std::array<double, 6> p = {0.2, 0.9, 0.6, 0.35, 0.7, 0.05};    // probabilities, for BCE
constexpr std::array<double, 6> tu = {0.0, 1.0, 1.0, 0.5, 0.0, 1.0};     // targets in [0, 1]
constexpr std::array<double, 6> ts = {1.0, 1.0, 1.0, -1.0, 1.0, -1.0};   // ±1 targets, for hinge
// Two samples of four class scores; labels 1 and 3. The margins s_j − s_y + 1
// are −0.2, 0.5, −2 and 0.9, 0.4, 1.5: none at a kink, some inactive.
constexpr std::array<double, 8> s = {0.8, 2.0, 1.5, -1.0, 0.3, -0.2, 0.9, 0.4};
constexpr std::array<int, 2> labels = {1, 3};

// The loss of a fresh model on the fed data (every input and label, by name).
template <class Net, class... F>
double loss_of(const F&... feeds) {
  ctnn::model<Net, vb, double> m;
  return m.forward(feeds...);
}
}  // namespace

// ---------------------------------------------------------------------------
// values

namespace val {
inline constexpr auto yv = ctnn::input<"y", ctnn::shape<3>>;
inline constexpr auto tv = ctnn::input<"t", ctnn::shape<3>>;
inline constexpr auto sv = ctnn::input<"s", ctnn::shape<4>>;
inline constexpr auto cv = ctnn::label<"c", 4>;
template <auto Loss, class... O>
using target_net = decltype(ctnn::network(Loss(yv, tv, O{}...)));
template <auto Loss, class... O>
using label_net = decltype(ctnn::network(Loss(sv, cv, O{}...)));
using ctnn::no_half_t;
using ctnn::pytorch::mean_t;
using ctnn::pytorch::sum_t;
using ctnn::reduce::batch_sum_t;
using ctnn::reduce::sample_mean_t;
}  // namespace val

#define TARGET_VALUE(loss, pred, target, expected, ...) \
  CHECK(loss_of<val::target_net<loss __VA_OPT__(, ) __VA_ARGS__>>(ctnn::feed<"y">(pred), ctnn::feed<"t">(target)) == \
        Approx(expected).epsilon(1e-14))
#define LABEL_VALUE(loss, expected, ...) \
  CHECK(loss_of<val::label_net<loss __VA_OPT__(, ) __VA_ARGS__>>(ctnn::feed<"s">(s), ctnn::feed<"c">(labels)) == \
        Approx(expected).epsilon(1e-14))

TEST_CASE("loss reductions: squared_error", "[loss][reduction]") {
  using namespace val;
  // Per sample ½Σ(y − t)²: 0.75 and 2.28125.
  TARGET_VALUE(ctnn::squared_error, y, t, 1.515625);
  TARGET_VALUE(ctnn::squared_error, y, t, 0.5052083333333333, sample_mean_t);
  TARGET_VALUE(ctnn::squared_error, y, t, 3.03125, batch_sum_t);
  TARGET_VALUE(ctnn::squared_error, y, t, 1.0104166666666665, sample_mean_t, batch_sum_t);
  TARGET_VALUE(ctnn::squared_error, y, t, 3.03125, no_half_t);
  TARGET_VALUE(ctnn::squared_error, y, t, 1.0104166666666667, mean_t);  // F.mse_loss(y, t)
  TARGET_VALUE(ctnn::squared_error, y, t, 1.0104166666666667, sample_mean_t, no_half_t);
  TARGET_VALUE(ctnn::squared_error, y, t, 6.0625, sum_t);  // F.mse_loss(y, t, reduction='sum')
}

TEST_CASE("loss reductions: l1_loss", "[loss][reduction]") {
  using namespace val;
  // Per sample Σ|y − t|: 2 and 2.75.
  TARGET_VALUE(ctnn::l1_loss, y, t, 2.375);
  TARGET_VALUE(ctnn::l1_loss, y, t, 0.7916666666666666, sample_mean_t);
  TARGET_VALUE(ctnn::l1_loss, y, t, 4.75, batch_sum_t);
  TARGET_VALUE(ctnn::l1_loss, y, t, 1.5833333333333333, sample_mean_t, batch_sum_t);
  TARGET_VALUE(ctnn::l1_loss, y, t, 0.7916666666666666, mean_t);  // F.l1_loss(y, t)
  TARGET_VALUE(ctnn::l1_loss, y, t, 4.75, sum_t);
}

TEST_CASE("loss reductions: binary_cross_entropy", "[loss][reduction]") {
  using namespace val;
  // Per sample 0.8393296907380268 and 4.940007598175493 (no probability near the clamp).
  TARGET_VALUE(ctnn::binary_cross_entropy, p, tu, 2.88966864445676);
  TARGET_VALUE(ctnn::binary_cross_entropy, p, tu, 0.9632228814855867, sample_mean_t);
  TARGET_VALUE(ctnn::binary_cross_entropy, p, tu, 5.77933728891352, batch_sum_t);
  TARGET_VALUE(ctnn::binary_cross_entropy, p, tu, 1.9264457629711733, sample_mean_t, batch_sum_t);
  TARGET_VALUE(ctnn::binary_cross_entropy, p, tu, 0.9632228814855864, mean_t);  // F.binary_cross_entropy
  TARGET_VALUE(ctnn::binary_cross_entropy, p, tu, 5.779337288913519, sum_t);
}

TEST_CASE("loss reductions: sigmoid_cross_entropy", "[loss][reduction]") {
  using namespace val;
  // Per sample 2.414266682741302 and 2.914223703976496.
  TARGET_VALUE(ctnn::sigmoid_cross_entropy, y, tu, 2.664245193358899);
  TARGET_VALUE(ctnn::sigmoid_cross_entropy, y, tu, 0.8880817311196331, sample_mean_t);
  TARGET_VALUE(ctnn::sigmoid_cross_entropy, y, tu, 5.328490386717798, batch_sum_t);
  TARGET_VALUE(ctnn::sigmoid_cross_entropy, y, tu, 1.7761634622392661, sample_mean_t, batch_sum_t);
  TARGET_VALUE(ctnn::sigmoid_cross_entropy, y, tu, 0.888081731119633, mean_t);  // F.binary_cross_entropy_with_logits
  TARGET_VALUE(ctnn::sigmoid_cross_entropy, y, tu, 5.328490386717798, sum_t);
}

TEST_CASE("loss reductions: hinge", "[loss][reduction]") {
  using namespace val;
  // Per sample Σmax(0, 1 − t·y): 0.5 + 2 + 0 and 2.5 + 0.75 + 0.25.
  TARGET_VALUE(ctnn::hinge, y, ts, 3.0);
  TARGET_VALUE(ctnn::hinge, y, ts, 1.0, sample_mean_t);
  TARGET_VALUE(ctnn::hinge, y, ts, 6.0, batch_sum_t);
  TARGET_VALUE(ctnn::hinge, y, ts, 2.0, sample_mean_t, batch_sum_t);
  TARGET_VALUE(ctnn::hinge, y, ts, 1.0, mean_t);  // torch.clamp(1 - t * y, min=0).mean()
  TARGET_VALUE(ctnn::hinge, y, ts, 6.0, sum_t);
}

TEST_CASE("loss reductions: the cross-entropies of a label", "[loss][reduction]") {
  using namespace val;
  // log Σ e^s − s_y per sample: 0.6716742484773475 and 1.4115649346659924.
  LABEL_VALUE(ctnn::softmax_cross_entropy, 1.04161959157167);
  LABEL_VALUE(ctnn::softmax_cross_entropy, 2.08323918314334, batch_sum_t);
  LABEL_VALUE(ctnn::softmax_cross_entropy, 1.04161959157167, mean_t);  // F.cross_entropy
  LABEL_VALUE(ctnn::softmax_cross_entropy, 2.08323918314334, sum_t);
  // −s_y per sample: −2 and −0.4.
  LABEL_VALUE(ctnn::negative_log_likelihood, -1.2);
  LABEL_VALUE(ctnn::negative_log_likelihood, -2.4, batch_sum_t);
  LABEL_VALUE(ctnn::negative_log_likelihood, -1.2, mean_t);  // F.nll_loss
  LABEL_VALUE(ctnn::negative_log_likelihood, -2.4, sum_t);
}

TEST_CASE("loss reductions: the margin losses", "[loss][reduction]") {
  using namespace val;
  // Σ_{j≠y} max(0, s_j − s_y + 1) per sample: 0.5 and 2.8.
  LABEL_VALUE(ctnn::multiclass_hinge, 1.65);
  LABEL_VALUE(ctnn::multiclass_hinge, 0.4125, sample_mean_t);  // ÷ C = 4
  LABEL_VALUE(ctnn::multiclass_hinge, 3.3, batch_sum_t);
  LABEL_VALUE(ctnn::multiclass_hinge, 0.4125, mean_t);  // F.multi_margin_loss(s, y)
  LABEL_VALUE(ctnn::multiclass_hinge, 0.825, sum_t);    // reduction='sum': still ÷ C per sample
  // Squared: 0.25 and 3.2199999999999998.
  LABEL_VALUE(ctnn::squared_hinge, 1.7349999999999999);
  LABEL_VALUE(ctnn::squared_hinge, 0.43374999999999997, sample_mean_t);
  LABEL_VALUE(ctnn::squared_hinge, 3.4699999999999998, batch_sum_t);
  LABEL_VALUE(ctnn::squared_hinge, 0.43374999999999997, mean_t);  // F.multi_margin_loss(s, y, p=2)
  LABEL_VALUE(ctnn::squared_hinge, 0.8674999999999999, sum_t);
}

// The defaults written out are the defaults: the same node type, so every
// network written before the options exist is unchanged.
static_assert(std::is_same_v<decltype(ctnn::squared_error(val::yv, val::tv)),
                             decltype(ctnn::squared_error(val::yv, val::tv, ctnn::reduce::sample_sum,
                                                          ctnn::reduce::batch_mean))>);
static_assert(std::is_same_v<decltype(ctnn::softmax_cross_entropy(val::sv, val::cv)),
                             decltype(ctnn::softmax_cross_entropy(val::sv, val::cv, ctnn::pytorch::mean))>);
static_assert(!val::target_net<ctnn::l1_loss>::plan.nodes[val::target_net<ctnn::l1_loss>::loss_ids[0]].batch_sum);

TEST_CASE("loss reductions: in float, PyTorch's values to float rounding", "[loss][reduction]") {
  using net = val::target_net<ctnn::squared_error, val::mean_t>;
  ctnn::model<net, vb, float> m;
  std::array<float, 6> yf{}, tf{};
  for (std::size_t i = 0; i < 6; ++i) yf[i] = float(y[i]), tf[i] = float(t[i]);  // all exact in float
  CHECK(m.forward(ctnn::feed<"y">(yf), ctnn::feed<"t">(tf)) == Approx(1.0104166666666667).epsilon(2e-7));
  using mm = val::label_net<ctnn::multiclass_hinge, val::mean_t>;
  ctnn::model<mm, vb, float> h;
  std::array<float, 8> sf{};
  for (std::size_t i = 0; i < 8; ++i) sf[i] = float(s[i]);
  CHECK(h.forward(ctnn::feed<"s">(sf), ctnn::feed<"c">(labels)) == Approx(0.4125).epsilon(2e-7));
}

// ---------------------------------------------------------------------------
// the batch reduction through scale, add and separate roots

namespace combos {
using namespace val;
inline constexpr auto se_sum = ctnn::squared_error(yv, tv, ctnn::reduce::batch_sum);
inline constexpr auto l1_sum = ctnn::l1_loss(yv, tv, ctnn::reduce::batch_sum);
inline constexpr auto w = ctnn::input<"w", ctnn::shape<>>;  // a per-sample weight: no loss of its own
using scaled_sum = decltype(ctnn::network(ctnn::scale<0.5>(ctnn::add(se_sum, l1_sum))));
using weighted = decltype(ctnn::network(ctnn::multiply(se_sum, w)));
using two_roots = decltype(ctnn::network(se_sum, ctnn::scale<0.25>(ctnn::l1_loss(yv, tv))));
template <class Net>
constexpr bool root_sums(std::size_t k = 0) { return Net::plan.nodes[Net::loss_ids[k]].batch_sum; }
static_assert(root_sums<scaled_sum>() && root_sums<weighted>());
static_assert(root_sums<two_roots>(0) && !root_sums<two_roots>(1));
static_assert(ctnn::reduction_of<decltype(ctnn::subtract(se_sum, l1_sum))> == ctnn::batch_reduction::sum);
static_assert(ctnn::reduction_of<decltype(ctnn::scale<2>(ctnn::l1_loss(yv, tv)))> == ctnn::batch_reduction::mean);
static_assert(ctnn::reduction_of<decltype(ctnn::add(yv, tv))> == ctnn::batch_reduction::unset);
}  // namespace combos

TEST_CASE("loss reductions: scale and add keep a loss's batch reduction", "[loss][reduction]") {
  // ½·(Σ_b squared_error + Σ_b l1) = ½·(3.03125 + 4.75).
  CHECK(loss_of<combos::scaled_sum>(ctnn::feed<"y">(y), ctnn::feed<"t">(t)) == Approx(3.890625).epsilon(1e-14));
  // Σ_b w_b·squared_error_b = 2·0.75 + 0.5·2.28125.
  ctnn::model<combos::weighted, vb, double> m;
  const std::array<double, 2> w = {2.0, 0.5};
  CHECK(m.forward(ctnn::feed<"y">(y), ctnn::feed<"t">(t), ctnn::feed<"w">(w)) == Approx(2.640625).epsilon(1e-14));
  // One root summed, one averaged: 3.03125 + ¼·2.375.
  CHECK(loss_of<combos::two_roots>(ctnn::feed<"y">(y), ctnn::feed<"t">(t)) == Approx(3.625).epsilon(1e-14));
}

// ---------------------------------------------------------------------------
// gradient checks in double, batch 3, one per loss and option

namespace grad {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto tt = ctnn::input<"t", ctnn::shape<5>>;
inline constexpr auto pred = ctnn::dense<"fc", 5>(x);
inline constexpr auto prob = ctnn::sigmoid(ctnn::dense<"fc", 5>(x));
inline constexpr auto scores = ctnn::dense<"fc", 5>(x);
inline constexpr auto cls = ctnn::label<"y", 5>;
template <auto Loss, class... O>
using target_net = decltype(ctnn::network(Loss(pred, tt, O{}...)));
template <class... O>
using bce_net = decltype(ctnn::network(ctnn::binary_cross_entropy(prob, tt, O{}...)));
template <auto Loss, class... O>
using label_net = decltype(ctnn::network(Loss(scores, cls, O{}...)));
// One prediction under two losses: bound, and used through ref<>.
inline constexpr auto shared = ctnn::ref<pred>;
using scaled_sum = decltype(ctnn::network(
    ctnn::scale<0.5>(ctnn::add(ctnn::squared_error(shared, tt, ctnn::reduce::batch_sum),
                               ctnn::sigmoid_cross_entropy(shared, tt, ctnn::reduce::batch_sum)))));
using two_roots = decltype(ctnn::network(
    ctnn::squared_error(shared, tt, ctnn::pytorch::sum),
    ctnn::scale<0.3>(ctnn::sigmoid_cross_entropy(shared, tt, ctnn::pytorch::mean))));
}  // namespace grad

namespace {
enum class target_kind { real, unit, sign };

// `kink(pred, target)`: an element's distance from the loss's kink (empty: none).
template <class Net>
void check_target(const char* what, target_kind tk, std::function<double(double, double)> kink = {}) {
  std::array<double, gc::B * 4> x{};
  std::array<double, gc::B * 5> tgt{};
  ctnn::model<Net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t seed) {
        gc::rng d(700 + seed);
        x = d.uniform_array<gc::B * 4>(-1, 1);
        if (tk == target_kind::sign) tgt = d.signs<gc::B * 5>();
        else if (tk == target_kind::unit) tgt = d.uniform_array<gc::B * 5>(0, 1);
        else tgt = d.uniform_array<gc::B * 5>(-1, 1);
      },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(tgt));
        // The kinked losses read an unfused dense layer; BCE's is fused with its sigmoid.
        constexpr std::size_t pred = gc::node_id<Net>("dense");
        if constexpr (pred == ctnn::none) {
          return true;
        } else {
          if (!kink) return true;
          const auto v = mm.value(pred);
          for (std::size_t i = 0; i < v.size(); ++i)
            if (kink(v[i], tgt[i]) <= gc::kink_margin) return false;
          return true;
        }
      });
  GC_REQUIRE_BELOW(gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(tgt)), 1e-6);
}

template <class Net>
void check_label(const char* what, bool margins) {
  std::array<double, gc::B * 4> x{};
  std::array<int, gc::B> c{};
  ctnn::model<Net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t seed) {
        gc::rng d(800 + seed);
        x = d.uniform_array<gc::B * 4>(-1, 1);
        c = d.labels<gc::B>(5);
      },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"y">(c));
        if (!margins) return true;
        const auto v = mm.value(gc::node_id<Net>("dense"));
        std::size_t active = 0;
        for (std::size_t b = 0; b < gc::B; ++b)
          for (std::size_t j = 0; j < 5; ++j) {
            if (j == std::size_t(c[b])) continue;
            const double margin = v[b * 5 + j] - v[b * 5 + c[b]] + 1;
            if (std::abs(margin) <= gc::kink_margin) return false;
            active += margin > 0;
          }
        return active >= gc::B;
      });
  GC_REQUIRE_BELOW(gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"y">(c)), 1e-6);
}

double l1_kink(double a, double b) { return std::abs(a - b); }
double hinge_kink(double a, double b) { return std::abs(1 - a * b); }
}  // namespace

TEST_CASE("gradcheck: loss reductions against a target", "[gradcheck][loss][reduction]") {
  using namespace val;
  using ctnn::squared_error, ctnn::l1_loss, ctnn::sigmoid_cross_entropy, ctnn::hinge;
  check_target<grad::target_net<squared_error, sample_mean_t>>("squared_error, sample_mean", target_kind::real);
  check_target<grad::target_net<squared_error, batch_sum_t>>("squared_error, batch_sum", target_kind::real);
  check_target<grad::target_net<squared_error, no_half_t>>("squared_error, no_half", target_kind::real);
  check_target<grad::target_net<squared_error, mean_t>>("squared_error, pytorch::mean", target_kind::real);
  check_target<grad::target_net<squared_error, sum_t>>("squared_error, pytorch::sum", target_kind::real);

  check_target<grad::target_net<l1_loss, sample_mean_t>>("l1_loss, sample_mean", target_kind::real, l1_kink);
  check_target<grad::target_net<l1_loss, batch_sum_t>>("l1_loss, batch_sum", target_kind::real, l1_kink);
  check_target<grad::target_net<l1_loss, mean_t>>("l1_loss, pytorch::mean", target_kind::real, l1_kink);
  check_target<grad::target_net<l1_loss, sum_t>>("l1_loss, pytorch::sum", target_kind::real, l1_kink);

  check_target<grad::bce_net<sample_mean_t>>("binary_cross_entropy, sample_mean", target_kind::unit);
  check_target<grad::bce_net<batch_sum_t>>("binary_cross_entropy, batch_sum", target_kind::unit);
  check_target<grad::bce_net<mean_t>>("binary_cross_entropy, pytorch::mean", target_kind::unit);
  check_target<grad::bce_net<sum_t>>("binary_cross_entropy, pytorch::sum", target_kind::unit);

  using sce = grad::target_net<sigmoid_cross_entropy, sample_mean_t>;
  check_target<sce>("sigmoid_cross_entropy, sample_mean", target_kind::unit);
  check_target<grad::target_net<sigmoid_cross_entropy, batch_sum_t>>("sigmoid_cross_entropy, batch_sum",
                                                                     target_kind::unit);
  check_target<grad::target_net<sigmoid_cross_entropy, mean_t>>("sigmoid_cross_entropy, pytorch::mean",
                                                                 target_kind::unit);
  check_target<grad::target_net<sigmoid_cross_entropy, sum_t>>("sigmoid_cross_entropy, pytorch::sum",
                                                               target_kind::unit);

  check_target<grad::target_net<hinge, sample_mean_t>>("hinge, sample_mean", target_kind::sign, hinge_kink);
  check_target<grad::target_net<hinge, batch_sum_t>>("hinge, batch_sum", target_kind::sign, hinge_kink);
  check_target<grad::target_net<hinge, mean_t>>("hinge, pytorch::mean", target_kind::sign, hinge_kink);
  check_target<grad::target_net<hinge, sum_t>>("hinge, pytorch::sum", target_kind::sign, hinge_kink);
}

TEST_CASE("gradcheck: loss reductions against a label", "[gradcheck][loss][reduction]") {
  using namespace val;
  using ctnn::softmax_cross_entropy, ctnn::negative_log_likelihood, ctnn::multiclass_hinge, ctnn::squared_hinge;
  check_label<grad::label_net<softmax_cross_entropy, batch_sum_t>>("softmax_cross_entropy, batch_sum", false);
  check_label<grad::label_net<softmax_cross_entropy, sum_t>>("softmax_cross_entropy, pytorch::sum", false);
  check_label<grad::label_net<negative_log_likelihood, batch_sum_t>>("negative_log_likelihood, batch_sum", false);
  check_label<grad::label_net<negative_log_likelihood, sum_t>>("negative_log_likelihood, pytorch::sum", false);

  check_label<grad::label_net<multiclass_hinge, sample_mean_t>>("multiclass_hinge, sample_mean", true);
  check_label<grad::label_net<multiclass_hinge, batch_sum_t>>("multiclass_hinge, batch_sum", true);
  check_label<grad::label_net<multiclass_hinge, mean_t>>("multiclass_hinge, pytorch::mean", true);
  check_label<grad::label_net<multiclass_hinge, sum_t>>("multiclass_hinge, pytorch::sum", true);

  check_label<grad::label_net<squared_hinge, sample_mean_t>>("squared_hinge, sample_mean", true);
  check_label<grad::label_net<squared_hinge, batch_sum_t>>("squared_hinge, batch_sum", true);
  check_label<grad::label_net<squared_hinge, mean_t>>("squared_hinge, pytorch::mean", true);
  check_label<grad::label_net<squared_hinge, sum_t>>("squared_hinge, pytorch::sum", true);
}

TEST_CASE("gradcheck: batch reductions through scale, add and two roots", "[gradcheck][loss][reduction]") {
  check_target<grad::scaled_sum>("scale(add(squared_error, sigmoid_cross_entropy)), batch_sum", target_kind::unit);
  check_target<grad::two_roots>("squared_error pytorch::sum + 0.3 sigmoid_cross_entropy pytorch::mean",
                                target_kind::unit);
}
