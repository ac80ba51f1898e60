// One-sample inference of a small chain of dense layers runs as one fused
// kernel: which networks take that path is a compile-time fact of their
// type, and its outputs agree with the layered path's (predict at a batch
// of several, the same layers one GEMM call each) within float rounding,
// without a heap allocation.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <models/mlp.hpp>
#include <models/tiny_mlp.hpp>

// The allocation counter of this executable (count_allocations.hpp, included
// by feeds.cpp).
namespace ctnn_test {
inline std::atomic<long> allocations{0};
}

namespace {

namespace chains {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<20>>;
// Widths of one, two and four vectors under every instruction set, three
// activations, an odd input width and a 32-wide output.
inline constexpr auto deep = ctnn::dense<"d4", 32>(ctnn::sigmoid(
    ctnn::dense<"d3", 64>(ctnn::relu(ctnn::dense<"d2", 16>(ctnn::tanh(ctnn::dense<"d1", 32>(x)))))));
using deep_net = decltype(ctnn::network(ctnn::outputs(deep)));
// A layer without a bias, a width that is not whole vectors, and a single
// layer: the layered path.
using no_bias_net = decltype(ctnn::network(
    ctnn::outputs(ctnn::dense<"b", 1>(ctnn::tanh(ctnn::dense<"a", 32, ctnn::no_bias>(x))))));
using ragged_net = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"b", 1>(ctnn::tanh(ctnn::dense<"a", 20>(x))))));
using one_layer_net = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"a", 32>(x))));
// An output that is not the end of the chain's single path: two branches.
inline constexpr auto shared = ctnn::tanh(ctnn::dense<"h", 32>(x));
using branched_net = decltype(ctnn::network(
    ctnn::outputs(ctnn::add(ctnn::dense<"p", 32>(ctnn::ref<shared>), ctnn::dense<"q", 32>(ctnn::ref<shared>)))));
}  // namespace chains

template <class Net, class T = float>
inline constexpr bool fused = ctnn::detail::dense_chain_plan<Net, 0, T>::fusable;

static_assert(fused<ctnn::models::tiny_mlp::network>);
static_assert(fused<chains::deep_net>);
static_assert(!fused<chains::no_bias_net>);
static_assert(!fused<chains::ragged_net>);
static_assert(!fused<chains::one_layer_net>);
static_assert(!fused<chains::branched_net>);
static_assert(!fused<ctnn::models::mlp::network>);  // 940 KB of weights: the GEMM path's
static_assert(ctnn::detail::dense_chain_plan<ctnn::models::tiny_mlp::network, 0, float>::length == 3);

std::vector<float> inputs(std::size_t n, float phase) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(0.7f * float(i) + phase);
  return v;
}

// Every parameter, biases included (zero as initialized), set to values
// of either sign.
template <class M>
void set_parameters(M& m) {
  auto p = m.parameters();
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.3 * std::sin(0.37 * double(i) + 0.2);
}

// Each sample through the fused path (predict_one) against the same sample
// in a batch of four (the layered path): equal within a few float ulps of
// the outputs' scale.
template <class Net, ctnn::fixed_string Input, std::size_t Width>
void check_against_layered(ctnn::model<Net, 4>& m, double bound) {
  const auto xs = inputs(4 * Width, 0.3f);
  const auto batch = m.predict(ctnn::feed<Input>(xs));
  const std::vector<float> layered(batch.begin(), batch.end());
  const std::size_t out = layered.size() / 4;
  double worst = 0, scale = 0;
  for (std::size_t b = 0; b < 4; ++b) {
    const auto one = m.predict_one(ctnn::feed<Input>(std::span<const float>(xs.data() + b * Width, Width)));
    REQUIRE(one.size() == out);
    for (std::size_t k = 0; k < out; ++k) {
      worst = std::max(worst, double(std::abs(one[k] - layered[b * out + k])));
      scale = std::max(scale, double(std::abs(layered[b * out + k])));
    }
  }
  INFO("largest difference " << worst << " for outputs up to " << scale);
  CHECK(scale > 0.1);
  CHECK(worst <= bound * scale);
}

}  // namespace

TEST_CASE("a small dense chain's one-sample forward agrees with the layered path", "[dense_chain]") {
  SECTION("the embedded MLP 16-64-64-1") {
    ctnn::model<ctnn::models::tiny_mlp::network, 4> m(3);
    set_parameters(m);
    check_against_layered<ctnn::models::tiny_mlp::network, "features", 16>(m, 1e-5);
  }
  SECTION("four layers, three activations") {
    ctnn::model<chains::deep_net, 4> m(5);
    set_parameters(m);
    check_against_layered<chains::deep_net, "x", 20>(m, 1e-5);
  }
}

TEST_CASE("a dense chain in double agrees with the float model", "[dense_chain]") {
  ctnn::model<ctnn::models::tiny_mlp::network, 1, double> d(3);
  ctnn::model<ctnn::models::tiny_mlp::network, 1, float> f(3);
  set_parameters(d);
  set_parameters(f);
  double scale = 0, worst = 0;
  for (int k = 0; k < 8; ++k) {
    const auto x = inputs(16, 0.4f * float(k));
    const std::vector<double> xd(x.begin(), x.end());
    const double yd = d.predict_one(ctnn::feed<"features">(xd))[0];
    const float yf = f.predict_one(ctnn::feed<"features">(x))[0];
    scale = std::max(scale, std::abs(yd));
    worst = std::max(worst, std::abs(double(yf) - yd));
  }
  CHECK(scale > 0.1);
  CHECK(worst <= 1e-5 * scale);
}

TEST_CASE("the fused one-sample forward makes no heap allocation", "[dense_chain][alloc]") {
  ctnn::model<ctnn::models::tiny_mlp::network, 1> m(3);
  const auto x = inputs(16, 0.0f);
  m.predict_one(ctnn::feed<"features">(x));
  const long before = ctnn_test::allocations.load();
  float sum = 0;
  for (int i = 0; i < 100; ++i) sum += m.predict_one(ctnn::feed<"features">(x))[0];
  CHECK(ctnn_test::allocations.load() == before);
  CHECK(std::isfinite(sum));
}
