// Spatial batch normalization, known answers computed by hand: a batch of two
// [2 channels, 2, 2] images through the op's spec directly (training forward,
// running statistics after that one step, backward, inference), and the
// summary row of a conv → batch_norm network.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace {
inline constexpr auto image = ctnn::input<"x", ctnn::shape<2, 2, 2>>;
using node = decltype(ctnn::batch_norm<"bn">(image));
using spec = node::spec;
constexpr double eps = 1e-5;

// Sample-major, then channel, then the four positions.
//   channel 0: {1, 3, 1, 3} and {5, 7, 5, 7}: mean 4, deviations ±1, ±3,
//              biased variance (4·1 + 4·9)/8 = 5;
//   channel 1: {0, 0, 2, 2} and {0, 2, 0, 2}: mean 1, variance 1.
constexpr std::array<double, 16> x{1, 3, 1, 3, 0, 0, 2, 2, 5, 7, 5, 7, 0, 2, 0, 2};
constexpr std::array<double, 2> mean{4, 1}, var{5, 1};
}  // namespace

static_assert(std::is_same_v<node::out_shape, ctnn::shape<2, 2, 2>>);
static_assert(spec::spatial && spec::C == 2 && spec::HW == 4);
static_assert(spec::params[0].shape.size() == 2 && spec::params[3].shape.size() == 2);  // per channel
// The flat case is unchanged: one statistic per feature.
static_assert(decltype(ctnn::batch_norm<"f">(ctnn::input<"v", ctnn::shape<8>>))::spec::params[0].shape.size() == 8);

TEST_CASE("batch_norm [2, 2, 2], batch 2: training forward, running statistics, backward", "[batch_norm][known]") {
  std::array<double, 2> gamma{2, 0.5}, beta{0.5, -1}, running_mean{0, 0}, running_var{1, 1};
  std::vector<double> scratch(2 * spec::scratch_size), out(16);
  ctnn::forward_args<double> a;
  a.in[0] = x.data();
  a.out = out.data();
  a.param = {gamma.data(), beta.data(), running_mean.data(), running_var.data()};
  a.scratch = scratch.data();
  a.training = true;
  spec::forward<2>(a);
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t p = 0; p < 4; ++p) {
        const std::size_t k = (b * 2 + c) * 4 + p;
        INFO("sample " << b << ", channel " << c << ", position " << p);
        CHECK(out[k] == Approx(gamma[c] * (x[k] - mean[c]) / std::sqrt(var[c] + eps) + beta[c]).epsilon(1e-12));
      }
  CHECK(out[0] == Approx(2 * -3 / std::sqrt(5 + eps) + 0.5));  // the first value, spelled out
  // One step from (0, 1) with momentum 0.9; the variance is unbiased over the
  // 8 = B·H·W values of a channel: 5·8/7 and 1·8/7.
  CHECK(running_mean[0] == Approx(0.4));
  CHECK(running_mean[1] == Approx(0.1));
  CHECK(running_var[0] == Approx(0.9 + 0.1 * 5 * 8 / 7.0));
  CHECK(running_var[1] == Approx(0.9 + 0.1 * 8 / 7.0));

  // Backward with dy = 1 everywhere: dβ = 8 per channel, dγ = Σ x̂ = 0, and
  // no gradient reaches x (a shift of all values is normalized away).
  std::array<double, 16> dy{}, dx{};
  dy.fill(1);
  std::array<double, 2> dgamma{-1, -1}, dbeta{-1, -1};
  ctnn::backward_args<double> g;
  g.in[0] = x.data();
  g.out = out.data();
  g.dout = dy.data();
  g.din[0] = dx.data();
  g.param = {gamma.data(), beta.data(), running_mean.data(), running_var.data()};
  g.dparam = {dgamma.data(), dbeta.data()};
  g.scratch = scratch.data();
  constexpr unsigned all = ctnn::grad_mode::input(0) | ctnn::grad_mode::param(0) | ctnn::grad_mode::param(1);
  spec::backward<2, all>(g);
  CHECK(dbeta[0] == Approx(8));
  CHECK(dbeta[1] == Approx(8));
  CHECK(dgamma[0] == Approx(0).margin(1e-12));
  CHECK(dgamma[1] == Approx(0).margin(1e-12));
  for (double v : dx) CHECK(v == Approx(0).margin(1e-12));

  // dy = 1 on channel 0's first value only: dβ₀ = 1, dγ₀ = x̂ = −3/σ₀, and
  // dx = γ/σ (dy − dβ/8 − x̂·dγ/8), by hand at two places.
  dy.fill(0);
  dy[0] = 1;
  spec::backward<2, all>(g);
  const double s0 = std::sqrt(5 + eps), h0 = -3 / s0;
  CHECK(dbeta[0] == Approx(1));
  CHECK(dgamma[0] == Approx(h0));
  CHECK(dbeta[1] == 0);
  CHECK(dx[0] == Approx(2 / s0 * (1 - 1.0 / 8 - h0 * h0 / 8)));
  CHECK(dx[9] == Approx(2 / s0 * (0 - 1.0 / 8 - (3 / s0) * h0 / 8)));  // sample 1, channel 0, x = 7
  CHECK(dx[4] == 0);                                                    // channel 1 is untouched
}

TEST_CASE("batch_norm [2, 2, 2]: inference uses the running statistics", "[batch_norm][known]") {
  std::array<double, 2> gamma{2, 0.5}, beta{0.5, -1}, running_mean{1, -1}, running_var{4, 0.25};
  std::vector<double> out(16);
  ctnn::forward_args<double> a;
  a.in[0] = x.data();
  a.out = out.data();
  a.param = {gamma.data(), beta.data(), running_mean.data(), running_var.data()};
  spec::forward<2>(a);
  // 2(x − 1)/sqrt(4 + ε) + 0.5 ≈ x − 0.5 on channel 0, and
  // 0.5(x + 1)/sqrt(0.25 + ε) − 1 ≈ x on channel 1.
  for (std::size_t k = 0; k < 16; ++k) {
    const bool c0 = (k / 4) % 2 == 0;
    const double expected = c0 ? 2 * (x[k] - 1) / std::sqrt(4 + eps) + 0.5 : 0.5 * (x[k] + 1) / std::sqrt(0.25 + eps) - 1;
    INFO("value " << k);
    CHECK(out[k] == Approx(expected).epsilon(1e-12));
    CHECK(out[k] == Approx(c0 ? x[k] - 0.5 : x[k]).margin(1e-4));
  }
  CHECK(running_mean[0] == 1);  // inference leaves the state alone
  CHECK(running_var[1] == 0.25);
}

namespace bn_net {
inline constexpr auto x = ctnn::input<"image", ctnn::shape<3, 8, 8>>;
inline constexpr auto y = ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::conv2d<"conv1", 4, 3, ctnn::no_bias>(x)));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<4 * 36>>)));
}  // namespace bn_net

TEST_CASE("batch_norm after conv2d: the summary row, parameters and state", "[batch_norm][summary]") {
  using net = bn_net::net;
  // conv1: 4·3·9 = 108 weights; bn1: γ and β, 4 each; running statistics are state.
  STATIC_REQUIRE(net::param_count == 108 + 8);
  const std::string s = ctnn::summary<net>();
  INFO(s);
  CHECK(s.find("batch_norm                      bn1             [4, 6, 6]       8 ") != std::string::npos);
  CHECK(s.find("parameters: 116") != std::string::npos);
  CHECK(s.find("non-trainable state: 8") != std::string::npos);
}
