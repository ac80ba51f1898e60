// The losses of seed 003 that a plain target loss does not already cover:
// kl_divergence (KL of two distributions) and gaussian_kl (a VAE's KL term in
// closed form), central-difference checked in double at batch size 3, bound
// 1e-6 as in ops_losses.cpp; then worked values of these two and of the
// seed's attribute losses, which are sigmoid_cross_entropy (multi-label
// logistic) and hinge (attribute hinge) summed over the attributes; a
// whole VAE (reparameterized sample, Bernoulli decoder, KL term); and the
// generator's step of the DCGAN in dsl/models/gan.hpp, whose gradient passes
// from one network into another.
#include "support.hpp"

#include <cmath>
#include <vector>

#include <models/gan.hpp>

using Catch::Detail::Approx;

namespace kl_of_distributions {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<5>>;
using net = decltype(ctnn::network(ctnn::kl_divergence(ctnn::log_softmax(ctnn::dense<"fc", 5>(x)), t)));
}  // namespace kl_of_distributions

namespace kl_of_gaussian {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
using net = decltype(ctnn::network(ctnn::gaussian_kl(ctnn::dense<"mean", 6>(x), ctnn::dense<"log_var", 6>(x))));
// One layer gives both halves, as in a VAE's encoder; a per-element mean.
inline constexpr auto both = ctnn::dense<"enc", 6>(x);
using halves = decltype(ctnn::network(
    ctnn::gaussian_kl(ctnn::chunk<0, 2>(ctnn::ref<both>), ctnn::chunk<1, 2>(ctnn::ref<both>), ctnn::reduce::sample_mean)));
}  // namespace kl_of_gaussian

// x → tanh(enc) → [mean | log_var] → z = mean + e^(½ log_var)·ε → logits.
namespace vae {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<7>>;
inline constexpr auto eps = ctnn::input<"eps", ctnn::shape<3>>;
inline constexpr auto stats = ctnn::dense<"stats", 6>(ctnn::tanh(ctnn::dense<"enc", 5>(x)));
inline constexpr auto mean = ctnn::chunk<0, 2>(ctnn::ref<stats>);
inline constexpr auto log_var = ctnn::chunk<1, 2>(ctnn::ref<stats>);
inline constexpr auto z = ctnn::add(ctnn::ref<mean>, ctnn::multiply(ctnn::exp(ctnn::scale<0.5>(ctnn::ref<log_var>)), eps));
inline constexpr auto logits = ctnn::dense<"dec", 7>(ctnn::tanh(ctnn::dense<"hid", 4>(z)));
using net = decltype(ctnn::network(
    ctnn::add(ctnn::sigmoid_cross_entropy(logits, x), ctnn::gaussian_kl(ctnn::ref<mean>, ctnn::ref<log_var>))));
}  // namespace vae

TEST_CASE("gradcheck: kl_divergence of log_softmax against a distribution", "[gradcheck][loss][kl]") {
  gc::rng r(61);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  auto t = r.uniform_array<gc::B * 5>(0, 1);
  for (std::size_t b = 0; b < gc::B; ++b) {
    t[b * 5 + 2] = 0;  // a zero probability: 0·log 0 counts as 0
    double sum = 0;
    for (std::size_t i = 0; i < 5; ++i) sum += t[b * 5 + i];
    for (std::size_t i = 0; i < 5; ++i) t[b * 5 + i] /= sum;
  }
  ctnn::model<kl_of_distributions::net, gc::B, double> m;
  gc::randomize(m, 14, 1.0);
  GC_REQUIRE_BELOW(gc::check("kl_divergence(log_softmax)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}

TEST_CASE("gradcheck: gaussian_kl on mean and log-variance", "[gradcheck][loss][kl]") {
  gc::rng r(67);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  {
    ctnn::model<kl_of_gaussian::net, gc::B, double> m;
    gc::randomize(m, 15, 1.0);
    const auto rep = gc::check("gaussian_kl, two layers", m, ctnn::feed<"x">(x));
    CHECK(rep.tensors.size() == 4);  // both layers get gradients
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  {
    ctnn::model<kl_of_gaussian::halves, gc::B, double> m;
    gc::randomize(m, 16, 1.0);
    GC_REQUIRE_BELOW(gc::check("gaussian_kl, halves of one layer, sample mean", m, ctnn::feed<"x">(x)), 1e-6);
  }
}

TEST_CASE("gradcheck: a VAE with the reparameterization trick", "[gradcheck][vae]") {
  gc::rng r(71);
  const auto x = r.uniform_array<gc::B * 7>(0, 1);
  const auto eps = r.uniform_array<gc::B * 3>(-2, 2);
  ctnn::model<vae::net, gc::B, double> m;
  gc::randomize(m, 17, 0.8);
  const auto rep = gc::check("VAE", m, ctnn::feed<"x">(x), ctnn::feed<"eps">(eps));
  CHECK(rep.tensors.size() == 8);  // enc, stats, hid, dec: weight and bias each
  GC_REQUIRE_BELOW(rep, 1e-6);
}

// The generator's step of ctnn_generative gan: the discriminator, run on the
// generator's output against target 1, hands back dL/dimage, and the
// generator's backward_from its output turns that into dL/dθ of
// L = mean −log σ(D(G(z))). Checked against central differences of L itself
// (the generator in training mode, as in the step), for a few entries of
// every generator tensor, on the real models at batch size 3.
TEST_CASE("gradcheck: the DCGAN generator's gradient through the discriminator", "[gradcheck][gan]") {
  namespace gan = ctnn::models::gan;
  constexpr std::size_t B = gc::B;
  ctnn::model<gan::generator, B, double> g(5);
  ctnn::model<gan::discriminator, B, double> d(6);
  gc::rng r(73);
  const auto z = r.uniform_array<B * gan::code_size>(-2, 2);
  const std::array<double, B> ones{1.0, 1.0, 1.0};
  std::vector<double> image(B * gan::pixels);
  const auto loss = [&] {  // L(θ) as the step computes it
    g.forward(ctnn::feed<"z">(z));
    const auto out = g.value(gan::generator::output_ids[0]);
    std::copy(out.begin(), out.end(), image.begin());
    return d.forward(ctnn::feed<"image">(image), ctnn::feed<"target">(ones));
  };
  const double l0 = loss();
  CHECK(l0 > 0.0);
  d.backward();
  g.backward_from<"up28">(d.input_grad<"image">());
  const std::vector<double> analytic(g.gradients().begin(), g.gradients().end());

  double worst = 0;
  std::size_t checked = 0;
  for (const ctnn::named_tensor& t : ctnn::checkpoint_tensors<gan::generator>()) {
    if (!t.trainable) continue;  // the running statistics
    const std::span<double> w = g.param_span(t.name);
    const std::size_t offset = std::size_t(w.data() - g.parameters().data());
    for (std::size_t k = 0; k < 4; ++k) {
      const std::size_t i = r.index(w.size());
      const double keep = w[i];
      w[i] = keep + gc::step;
      const double up = loss();
      w[i] = keep - gc::step;
      const double down = loss();
      w[i] = keep;
      const double numeric = (up - down) / (2 * gc::step);
      const double a = analytic[offset + i];
      const double error = std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), gc::relative_floor});
      INFO(t.name << "[" << i << "]: backward " << a << ", central difference " << numeric);
      CHECK(error < 1e-5);
      worst = std::max(worst, error);
      ++checked;
    }
  }
  CHECK(checked == 4 * 8);  // project, project_bn (γ, β), up14, up14_bn (γ, β), up28 (weight, bias)
  // The gradient is not trivially zero: the loss moves with the last layer's bias.
  CHECK(std::abs(analytic[std::size_t(g.param_span("up28.bias").data() - g.parameters().data())]) > 1e-6);
  INFO("largest relative error " << worst);
}

// ---------------------------------------------------------------------------
// Worked values, one sample each.

namespace worked {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<3>>;
inline constexpr auto b = ctnn::input<"b", ctnn::shape<3>>;
inline constexpr auto mean = ctnn::input<"mean", ctnn::shape<2>>;
inline constexpr auto log_var = ctnn::input<"log_var", ctnn::shape<2>>;
using gaussian = decltype(ctnn::network(ctnn::gaussian_kl(mean, log_var)));
using gaussian_mean = decltype(ctnn::network(ctnn::gaussian_kl(mean, log_var, ctnn::reduce::sample_mean)));
using kl = decltype(ctnn::network(ctnn::kl_divergence(a, b)));
using multilabel = decltype(ctnn::network(ctnn::sigmoid_cross_entropy(a, b)));
using attribute_hinge = decltype(ctnn::network(ctnn::hinge(a, b)));
}  // namespace worked

TEST_CASE("gaussian_kl: worked values", "[loss][kl][known]") {
  ctnn::model<worked::gaussian, 1, double> m;
  // μ = (0.5, −1), σ² = (1, 4): −½[(1 + 0 − 0.25 − 1) + (1 + ln 4 − 1 − 4)].
  const std::array<double, 2> mean{0.5, -1.0}, log_var{0.0, std::log(4.0)};
  CHECK(m.forward(ctnn::feed<"mean">(mean), ctnn::feed<"log_var">(log_var)) == Approx(1.4318528194400546).epsilon(1e-14));
  // N(0, 1) from itself: 0.
  const std::array<double, 2> zero{0.0, 0.0};
  CHECK(m.forward(ctnn::feed<"mean">(zero), ctnn::feed<"log_var">(zero)) == 0.0);
  ctnn::model<worked::gaussian_mean, 1, double> mm;
  CHECK(mm.forward(ctnn::feed<"mean">(mean), ctnn::feed<"log_var">(log_var)) ==
        Approx(1.4318528194400546 / 2).epsilon(1e-14));
}

TEST_CASE("kl_divergence: worked value", "[loss][kl][known]") {
  ctnn::model<worked::kl, 1, double> m;
  // t = (½, ½, 0) from q = (¼, ¼, ½): 2 · ½ log 2 = log 2; the zero term adds 0.
  const std::array<double, 3> log_q{std::log(0.25), std::log(0.25), std::log(0.5)}, t{0.5, 0.5, 0.0};
  CHECK(m.forward(ctnn::feed<"a">(log_q), ctnn::feed<"b">(t)) == Approx(std::log(2.0)).epsilon(1e-14));
  // A distribution from itself: 0.
  const std::array<double, 3> p{0.2, 0.3, 0.5};
  const std::array<double, 3> log_p{std::log(0.2), std::log(0.3), std::log(0.5)};
  CHECK(m.forward(ctnn::feed<"a">(log_p), ctnn::feed<"b">(p)) == Approx(0.0).margin(1e-15));
}

TEST_CASE("attribute losses of seed 003: worked values", "[loss][known]") {
  // Multi-label logistic: Σ_j log(1 + e^(−s_j)) for y_j = 1, log(1 + e^(s_j))
  // for y_j = 0; logits (0, 2, −1), attributes (1, 0, 1): log 2 + log(1 + e²)
  // + log(1 + e).
  ctnn::model<worked::multilabel, 1, double> ml;
  const std::array<double, 3> s{0.0, 2.0, -1.0}, y01{1.0, 0.0, 1.0};
  CHECK(ml.forward(ctnn::feed<"a">(s), ctnn::feed<"b">(y01)) == Approx(4.133336879121141).epsilon(1e-14));
  // Attribute hinge Σ_j max(0, 1 − y_j f_j), y ∈ {−1, +1}: f = (0.5, −2, 1.5),
  // y = (+1, −1, −1): 0.5 + 0 + 2.5.
  ctnn::model<worked::attribute_hinge, 1, double> ah;
  const std::array<double, 3> f{0.5, -2.0, 1.5}, ypm{1.0, -1.0, -1.0};
  CHECK(ah.forward(ctnn::feed<"a">(f), ctnn::feed<"b">(ypm)) == Approx(3.0).epsilon(1e-15));
}
