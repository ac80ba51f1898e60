// LeNet with an auxiliary classifier (dsl/models/lenet_aux.hpp): the
// network's loss is the main loss plus α times the side loss, each computed
// here from the two outputs; the side loss's gradient reaches conv1 (and
// only the layers below pool1) scaled by exactly α; and a few training steps
// lower both losses.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <models/lenet_aux.hpp>

#include "synthetic_squares.hpp"

namespace aux = ctnn::models::lenet_aux;
using net = aux::network;
using net_alpha0 = aux::network_with<0.0>;
// The side classifier alone: its loss and its gradient, for the comparison.
using net_side_only = decltype(ctnn::network(ctnn::softmax_cross_entropy(aux::side_logits, aux::label),
                                             ctnn::outputs(aux::side_logits)));

static_assert(net::param_count == 459'890);
static_assert(net_alpha0::param_count == 459'890);
static_assert(net_side_only::param_count == 520 + 28'810);  // conv1 and ip1_side

namespace {
constexpr double alpha = 0.3;

// The batch mean of log Σ exp s − s_y over rows of 10 scores.
template <class T>
double mean_cross_entropy(std::span<const T> scores, const std::vector<unsigned char>& y) {
  double sum = 0;
  for (std::size_t n = 0; n < y.size(); ++n) {
    const T* s = scores.data() + n * 10;
    const double m = *std::max_element(s, s + 10);
    double z = 0;
    for (std::size_t k = 0; k < 10; ++k) z += std::exp(double(s[k]) - m);
    sum += m + std::log(z) - double(s[y[n]]);
  }
  return sum / double(y.size());
}

// Copies every parameter `to` shares with `from` by name.
template <class To, class From>
void copy_shared(To& to, From& from, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    const auto src = from.param_span(n);
    std::copy(src.begin(), src.end(), to.param_span(n).begin());
  }
}
}  // namespace

TEST_CASE("LeNet aux: the loss is the main loss plus 0.3 times the side loss", "[lenet_aux]") {
  constexpr std::size_t B = 6;
  const ctnn_test::synthetic_squares<double> data(B, 3);
  ctnn::model<net, B, double> m(11);
  const double loss = m.forward(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
  const auto main_scores = m.predict<0>(ctnn::feed<"image">(data.x));
  const double main = mean_cross_entropy(main_scores, data.y);
  const auto side_scores = m.predict<1>(ctnn::feed<"image">(data.x));
  const double side = mean_cross_entropy(side_scores, data.y);
  INFO("loss " << loss << ", main " << main << ", side " << side);
  CHECK(side > 0.1);
  CHECK(loss == Approx(main + alpha * side).epsilon(1e-12));
  const std::string s = ctnn::summary<net>();
  CHECK(s.find("ip1_side") != std::string::npos);
  CHECK(s.find("parameters: 459,890") != std::string::npos);
}

TEST_CASE("LeNet aux: the side loss reaches conv1 scaled by alpha, and not conv2", "[lenet_aux]") {
  constexpr std::size_t B = 4;
  const ctnn_test::synthetic_squares<double> data(B, 7);
  ctnn::model<net, B, double> with(5);
  ctnn::model<net_alpha0, B, double> without;
  ctnn::model<net_side_only, B, double> side;
  copy_shared(without, with, {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "ip1.weight", "ip1.bias",
                              "ip2.weight", "ip2.bias", "ip1_side.weight", "ip1_side.bias"});
  copy_shared(side, with, {"conv1.weight", "conv1.bias", "ip1_side.weight", "ip1_side.bias"});
  with.forward_backward(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
  without.forward_backward(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
  side.forward_backward(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));

  for (const char* name : {"conv1.weight", "conv1.bias"}) {
    const auto g = with.grad_span(name), g0 = without.grad_span(name), gs = side.grad_span(name);
    double largest = 0, worst = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      largest = std::max(largest, std::abs(alpha * gs[i]));
      worst = std::max(worst, std::abs((g[i] - g0[i]) - alpha * gs[i]));
    }
    INFO(name << ": largest alpha*side gradient " << largest << ", largest mismatch " << worst);
    CHECK(largest > 1e-4);             // the side loss does move conv1
    CHECK(worst < 1e-9 * largest);     // equal up to rounding
  }
  // Above pool1 only the main loss counts: conv2's gradient is the same with and without the side loss.
  const auto c2 = with.grad_span("conv2.weight"), c2_0 = without.grad_span("conv2.weight");
  CHECK(std::equal(c2.begin(), c2.end(), c2_0.begin()));
  // With alpha = 0 the side classifier learns nothing.
  const auto gside0 = without.grad_span("ip1_side.weight");
  CHECK(std::all_of(gside0.begin(), gside0.end(), [](double v) { return v == 0.0; }));

  // And the analytic conv1 gradient is the loss's slope: central differences
  // on a few taps of the first filter.
  auto w = with.param_span("conv1.weight");
  const auto g = with.grad_span("conv1.weight");
  const std::vector<double> analytic(g.begin(), g.end());
  for (std::size_t i : {0u, 7u, 24u, 60u}) {
    const double keep = w[i], h = 1e-5;
    w[i] = keep + h;
    const double up = with.forward(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
    w[i] = keep - h;
    const double down = with.forward(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
    w[i] = keep;
    INFO("conv1.weight[" << i << "]");
    CHECK((up - down) / (2 * h) == Approx(analytic[i]).epsilon(1e-6).margin(1e-9));
  }
}

TEST_CASE("LeNet aux: a few Adam steps lower both losses", "[lenet_aux]") {
  constexpr std::size_t B = 16;
  const ctnn_test::synthetic_squares<float> data(B, 5);
  ctnn::trainer<net, ctnn::batch<B>, ctnn::optim::adam> t(ctnn::optim::adam{.lr = 1e-3f}, 3);
  const auto losses = [&] {
    return std::pair{mean_cross_entropy(t.predict<0>(ctnn::feed<"image">(data.x)), data.y),
                     mean_cross_entropy(t.predict<1>(ctnn::feed<"image">(data.x)), data.y)};
  };
  const auto [main0, side0] = losses();
  for (int i = 0; i < 12; ++i) t.step(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
  const auto [main1, side1] = losses();
  INFO("main " << main0 << " -> " << main1 << ", side " << side0 << " -> " << side1);
  CHECK(std::isfinite(main1));
  CHECK(main1 < 0.5 * main0);
  CHECK(side1 < 0.8 * side0);
}
