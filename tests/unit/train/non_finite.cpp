// A step that meets a NaN or an infinity is rejected whole: the parameters,
// the optimizer's state and the running statistics stay as they were, and the
// error names where the first non-finite value appeared. The NaN inputs below
// leave the loss finite (ReLU and max pooling map NaN to a number), so only a
// check of the gradients catches them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

constexpr std::size_t B = 4;
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

namespace relu_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>>;
inline constexpr auto logits = ctnn::dense<"out", 3>(ctnn::relu(ctnn::dense<"hidden", 8>(x)));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
}  // namespace relu_net

namespace bn_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>>;
inline constexpr auto logits =
    ctnn::dense<"out", 3>(ctnn::relu(ctnn::batch_norm<"bn">(ctnn::dense<"hidden", 8, ctnn::no_bias>(x))));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
}  // namespace bn_net

namespace conv_net {
inline constexpr auto x = ctnn::input<"image", ctnn::shape<1, 6, 6>>;
inline constexpr auto logits = ctnn::dense<"out", 3>(
    ctnn::flatten(ctnn::max_pool<2>(ctnn::relu(ctnn::conv2d<"conv", 2, 3, ctnn::padding<1>>(x)))));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
}  // namespace conv_net

template <std::size_t N>
std::vector<float> ramp() {
  std::vector<float> v(B * N);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(float(i) * 0.7f);
  return v;
}

std::vector<float> copy(std::span<float> s) { return {s.begin(), s.end()}; }

// Bit-for-bit equality of two buffers, NaN-aware only in that NaN never equals.
bool same_bits(const std::vector<float>& a, std::span<const float> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i])) return false;
  return true;
}

// A good step, then a step whose input holds a NaN at (sample, element):
// rejected with everything as it was, the input named; then a good step again.
// Input: the name of the network's input.
template <class Net, std::size_t In, ctnn::fixed_string Input = "x">
ctnn::non_finite_origin reject_nan_input(std::size_t sample, std::size_t element) {
  ctnn::trainer<Net, ctnn::batch<B>> t({.lr = 0.1f, .momentum = 0.9f}, 7);
  std::vector<float> x = ramp<In>();
  const std::vector<int> y = {0, 1, 2, 1};
  REQUIRE(std::isfinite(t.step(ctnn::feed<Input>(x), ctnn::feed<"y">(y))));  // optimizer state is no longer zero
  const auto params = copy(t.model().parameters());
  const auto running = copy(t.model().state());
  std::vector<float> x_bad = x;
  x_bad[sample * In + element] = quiet_nan;
  ctnn::non_finite_origin origin;
  try {
    t.step(ctnn::feed<Input>(x_bad), ctnn::feed<"y">(y));
    FAIL("a step on a NaN input was accepted");
  } catch (const ctnn::non_finite_error& e) {
    origin = e.origin;
    INFO(e.what());
    CHECK(std::string(e.what()).find("left unchanged") != std::string::npos);
  }
  CHECK(same_bits(params, t.model().parameters()));
  CHECK(same_bits(running, t.model().state()));
  // The rejected step left no trace: the next good step matches a twin that never saw it.
  ctnn::trainer<Net, ctnn::batch<B>> twin({.lr = 0.1f, .momentum = 0.9f}, 7);
  twin.step(ctnn::feed<Input>(x), ctnn::feed<"y">(y));
  twin.model().advance_noise();  // the rejected step drew its masks; keep the twins' noise aligned
  CHECK(t.step(ctnn::feed<Input>(x), ctnn::feed<"y">(y)) == twin.step(ctnn::feed<Input>(x), ctnn::feed<"y">(y)));
  CHECK(same_bits(copy(twin.model().parameters()), t.model().parameters()));
  CHECK(same_bits(copy(twin.model().state()), t.model().state()));
  return origin;
}

}  // namespace

TEST_CASE("a NaN input that ReLU hides from the loss is caught in the gradient", "[non_finite]") {
  const auto o = reject_nan_input<relu_net::net, 6>(2, 3);
  CHECK(o.where == ctnn::non_finite_origin::place::input);
  CHECK(o.name == "x");
  CHECK(o.sample == 2);
  CHECK(o.element == 3);
  CHECK(std::isnan(o.value));
  CHECK(o.to_string() == "the input 'x' as given (sample 2, element 3 is nan)");
}

TEST_CASE("a NaN input through batch norm: running statistics restored", "[non_finite]") {
  const auto o = reject_nan_input<bn_net::net, 6>(0, 5);
  CHECK(o.where == ctnn::non_finite_origin::place::input);
  CHECK(o.sample == 0);
  CHECK(o.element == 5);
}

TEST_CASE("a NaN pixel through conv, ReLU and max pooling", "[non_finite]") {
  const auto o = reject_nan_input<conv_net::net, 36, "image">(3, 14);
  CHECK(o.where == ctnn::non_finite_origin::place::input);
  CHECK(o.name == "image");
  CHECK(o.sample == 3);
  CHECK(o.element == 14);
}

TEST_CASE("an overflow names the op whose output it is", "[non_finite]") {
  ctnn::trainer<relu_net::net, ctnn::batch<B>> t({.lr = 0.1f}, 3);
  const std::vector<float> x = ramp<6>();
  const std::vector<int> y = {0, 1, 2, 1};
  for (float& w : t.model().param_span("hidden.weight")) w = 3e38f;  // finite, but x·W overflows
  const auto params = copy(t.model().parameters());
  try {
    t.step(ctnn::feed<"x">(x), ctnn::feed<"y">(y));
    FAIL("an overflowing step was accepted");
  } catch (const ctnn::non_finite_error& e) {
    INFO(e.what());
    CHECK(e.origin.where == ctnn::non_finite_origin::place::output);
    CHECK(e.origin.name == "hidden");
    CHECK(std::isinf(e.origin.value));
    CHECK(std::string(e.what()).find("the output of node") != std::string::npos);
    CHECK(std::string(e.what()).find("'hidden'") != std::string::npos);
  }
  CHECK(same_bits(params, t.model().parameters()));
}

TEST_CASE("a NaN parameter is named before the pass", "[non_finite]") {
  ctnn::trainer<bn_net::net, ctnn::batch<B>> t({.lr = 0.1f}, 3);
  const std::vector<float> x = ramp<6>();
  const std::vector<int> y = {0, 1, 2, 1};
  t.model().param_span("out.weight")[4] = quiet_nan;
  try {
    t.step(ctnn::feed<"x">(x), ctnn::feed<"y">(y));
    FAIL("a step with a NaN weight was accepted");
  } catch (const ctnn::non_finite_error& e) {
    CHECK(e.origin.where == ctnn::non_finite_origin::place::parameter);
    CHECK(e.origin.tensor == "out.weight");
    CHECK(e.origin.element == 4);
    CHECK(std::string(e.what()).find("the parameter 'out.weight' before the step (element 4 is nan)") !=
          std::string::npos);
  }
}

TEST_CASE("the finite check: NaN and ±inf anywhere, in vector bodies and tails", "[non_finite]") {
  // 85 and 150 floats reach each of the four sums of the unrolled loop, the
  // single vectors after it and the tail, with AVX-512 and AVX2 alike.
  for (std::size_t n : {1u, 7u, 16u, 37u, 85u, 150u}) {
    std::vector<float> f(n, 1.5f);
    std::vector<double> d(n, -2.5);
    CHECK(ctnn::kernels::all_finite(f.data(), n));
    CHECK(ctnn::kernels::all_finite(d.data(), n));
    for (std::size_t i = 0; i < n; ++i)
      for (double bad : {double(NAN), double(INFINITY), -double(INFINITY)}) {
        INFO("n " << n << ", index " << i << ", value " << bad);
        f[i] = float(bad);
        d[i] = bad;
        CHECK_FALSE(ctnn::kernels::all_finite(f.data(), n));
        CHECK_FALSE(ctnn::kernels::all_finite(d.data(), n));
        CHECK(ctnn::kernels::first_non_finite(f.data(), n) == i);
        f[i] = 1.5f;
        d[i] = -2.5;
      }
    // The largest finite values are finite; their differences are exact zeros.
    f.assign(n, std::numeric_limits<float>::max());
    CHECK(ctnn::kernels::all_finite(f.data(), n));
  }
}

// Large buffers are checked by the team, each thread its slice (the one the
// optimizer then updates) and the scalar tail after: a bad value is found in
// every slice, at its edges, and in the tail, on any team size.
TEST_CASE("the finite check on a team: every slice and the tail", "[non_finite][threads]") {
  const std::size_t n = ctnn::kernels::team_pass_min + 16 * 3 + 5;  // a tail past the last vector
  std::vector<float> f(n, 0.25f);
#if defined(_OPENMP)
  const int saved = omp_get_max_threads();
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
#else
  for (int t : {1}) {
#endif
    INFO("threads " << t);
    CHECK(ctnn::kernels::all_finite_on_team(f.data(), n));
    for (std::size_t at : {std::size_t(0), n / 3, n / 2 - 1, n / 2, n / 2 + 1, 2 * n / 3, n - 6, n - 1}) {
      INFO("NaN at " << at << " of " << n);
      f[at] = quiet_nan;
      CHECK_FALSE(ctnn::kernels::all_finite_on_team(f.data(), n));
      f[at] = -std::numeric_limits<float>::infinity();
      CHECK_FALSE(ctnn::kernels::all_finite_on_team(f.data(), n));
      f[at] = 0.25f;
    }
  }
#if defined(_OPENMP)
  omp_set_num_threads(saved);
#endif
}
