// Ensembles: the average of the members' softmax probabilities (or raw
// outputs) equals the hand-computed one, for a batch and for one sample.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace ens_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto logits = ctnn::dense<"out", 3>(ctnn::tanh(ctnn::dense<"h", 5>(x)));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
constexpr std::size_t B = 2;
using model = ctnn::model<net, B>;
}  // namespace ens_net

namespace {
std::vector<double> softmax(const float* z, std::size_t n) {
  double top = z[0];
  for (std::size_t j = 1; j < n; ++j) top = std::max(top, double(z[j]));
  std::vector<double> p(n);
  double sum = 0;
  for (std::size_t j = 0; j < n; ++j) sum += p[j] = std::exp(double(z[j]) - top);
  for (double& v : p) v /= sum;
  return p;
}
}  // namespace

TEST_CASE("an ensemble of two models averages their probabilities", "[ensemble]") {
  ens_net::model a(1), b(2);
  const std::vector<float> x{0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 0.0f, 1.5f, -0.5f};
  const std::vector<float> za(a.predict(ctnn::feed<"x">(x)).begin(), a.predict(ctnn::feed<"x">(x)).end());
  const std::vector<float> zb(b.predict(ctnn::feed<"x">(x)).begin(), b.predict(ctnn::feed<"x">(x)).end());

  ctnn::ensemble<ens_net::model> e({a, b});
  CHECK(e.size() == 2);
  static_assert(decltype(e)::output_size == 3);
  const auto p = e.predict(ctnn::feed<"x">(x));
  REQUIRE(p.size() == 6);
  for (std::size_t s = 0; s < 2; ++s) {
    const auto pa = softmax(za.data() + 3 * s, 3), pb = softmax(zb.data() + 3 * s, 3);
    double total = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      INFO("sample " << s << ", class " << j);
      CHECK(p[3 * s + j] == Approx((pa[j] + pb[j]) / 2).epsilon(1e-6));
      total += p[3 * s + j];
    }
    CHECK(total == Approx(1.0).epsilon(1e-6));
  }
  // One sample: the first row of the batch.
  const auto p1 = e.predict_one(ctnn::feed<"x">(x.data()));
  REQUIRE(p1.size() == 3);
  const auto pa = softmax(za.data(), 3), pb = softmax(zb.data(), 3);
  for (std::size_t j = 0; j < 3; ++j) CHECK(p1[j] == Approx((pa[j] + pb[j]) / 2).epsilon(1e-5));
}

TEST_CASE("an ensemble of raw outputs, members in an array", "[ensemble]") {
  std::array<ens_net::model, 3> members{ens_net::model(1), ens_net::model(2), ens_net::model(3)};
  const std::vector<float> x{0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 0.0f, 1.5f, -0.5f};
  std::vector<double> want(6, 0.0);
  for (auto& m : members) {
    const auto z = m.predict(ctnn::feed<"x">(x));
    for (std::size_t k = 0; k < 6; ++k) want[k] += double(z[k]) / 3;
  }
  ctnn::ensemble<ens_net::model> e(std::span<ens_net::model>(members), ctnn::ensemble_mode::outputs);
  const auto y = e.predict(ctnn::feed<"x">(x));
  for (std::size_t k = 0; k < 6; ++k) CHECK(y[k] == Approx(want[k]).epsilon(1e-6));
}

TEST_CASE("an ensemble of trainers", "[ensemble]") {
  using trainer = ctnn::trainer<ens_net::net, ctnn::batch<ens_net::B>>;
  std::vector<trainer> members;
  members.emplace_back(ctnn::optim::sgd{}, 1);
  members.emplace_back(ctnn::optim::sgd{}, 2);
  ctnn::ensemble<trainer> e{std::span<trainer>(members)};
  ens_net::model a(1), b(2);
  ctnn::ensemble<ens_net::model> same({a, b});
  const std::vector<float> x{0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 0.0f, 1.5f, -0.5f};
  const std::vector<float> want(same.predict(ctnn::feed<"x">(x)).begin(), same.predict(ctnn::feed<"x">(x)).end());
  const auto got = e.predict(ctnn::feed<"x">(x));
  for (std::size_t k = 0; k < 6; ++k) CHECK(got[k] == want[k]);
}
