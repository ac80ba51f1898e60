// Regularization: which ranges of the flat buffer are regularized (computed at
// compile time), the exact L2 / L1 / elastic-net additions to the gradient,
// biases untouched unless asked, the regularization loss, the max-norm
// constraint column by column, and the trainer applying all of it in step().
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace reg {
// Tied weights ("shared", used twice), a dense layer without bias feeding a
// batch norm, a dense layer with bias, and a trainable variable.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<3>>;
inline constexpr auto h1 = ctnn::tanh(ctnn::dense<"shared", 3>(x));
inline constexpr auto h2 = ctnn::tanh(ctnn::dense<"shared", 3>(h1));
inline constexpr auto b = ctnn::relu(ctnn::batch_norm<"bn">(ctnn::dense<"fc1", 20, ctnn::no_bias>(h2)));
inline constexpr auto y = ctnn::add(ctnn::dense<"fc2", 2>(b), ctnn::variable<"offset", ctnn::shape<2>>);
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<2>>), ctnn::outputs(y)));
constexpr std::size_t B = 4;
using model = ctnn::model<net, B>;
}  // namespace reg

namespace {

constexpr std::size_t offset_of(std::string_view name) { return ctnn::find_param<reg::net>(name).offset; }

// Compile time: the tied weight once, biases, γ, β and running statistics out.
// (The buffer order follows the planner's name hashes, so look entries up.)
template <class Table>
constexpr bool has_range(const Table& t, std::string_view name, std::size_t size) {
  for (const auto& r : t)
    if (r.offset == offset_of(name)) return r.size == size;
  return false;
}
template <class Table>
constexpr bool has_matrix(const Table& t, std::string_view name, std::size_t rows, std::size_t cols) {
  for (const auto& m : t)
    if (m.offset == offset_of(name)) return m.rows == rows && m.cols == cols;
  return false;
}
constexpr const auto& ranges = ctnn::regularized_ranges<reg::net>;
static_assert(ranges.size() == 4);
static_assert(has_range(ranges, "fc1.weight", 60));
static_assert(has_range(ranges, "fc2.weight", 40));
static_assert(has_range(ranges, "offset", 2));
static_assert(has_range(ranges, "shared.weight", 9));
static_assert(!has_range(ranges, "fc2.bias", 2) && !has_range(ranges, "bn.gamma", 20));
// Asked for: every trainable tensor (still the tied one once; no running statistics).
static_assert(ctnn::regularized_ranges<reg::net, true>.size() == 8);
static_assert(has_range(ctnn::regularized_ranges<reg::net, true>, "bn.beta", 20));
static_assert(ctnn::trainable_tensors<reg::net>.size() == 8);
static_assert(ctnn::trainable_tensors<reg::net>[0].offset == 0);  // buffer order
// Max-norm: the rank-2 regularized tensors [rows = in, cols = out].
constexpr const auto& matrices = ctnn::max_norm_matrices<reg::net>;
static_assert(matrices.size() == 3);
static_assert(has_matrix(matrices, "fc1.weight", 3, 20));
static_assert(has_matrix(matrices, "fc2.weight", 20, 2));
static_assert(has_matrix(matrices, "shared.weight", 3, 3));

const std::vector<std::string> weights{"fc1.weight", "fc2.weight", "offset", "shared.weight"};
const std::vector<std::string> others{"bn.beta", "bn.gamma", "fc2.bias", "shared.bias"};

// Dyadic values (exact in float, products too): zeros, negatives, positives.
float w_value(std::size_t k) { return float(int(k % 7) - 3) * 0.125f; }
float g_value(std::size_t k) { return float(int(k % 5) - 1) * 0.0625f; }

void fill(reg::model& m) {
  for (const auto& names : {weights, others})
    for (const std::string& n : names) {
      auto w = m.param_span(n);
      auto g = m.grad_span(n);
      for (std::size_t k = 0; k < w.size(); ++k) {
        w[k] = w_value(k);
        g[k] = g_value(k);
      }
    }
}

float sign(float v) { return float(v > 0) - float(v < 0); }

// g + l2·w + l1·sign(w) on `regularized`, g unchanged elsewhere (==: exact).
void check_gradients(reg::model& m, float l2, float l1, const std::vector<std::string>& regularized,
                     const std::vector<std::string>& untouched) {
  for (const std::string& n : regularized) {
    const auto g = m.grad_span(n);
    for (std::size_t k = 0; k < g.size(); ++k) {
      INFO(n << "[" << k << "]");
      CHECK(g[k] == g_value(k) + l2 * w_value(k) + l1 * sign(w_value(k)));
    }
  }
  for (const std::string& n : untouched) {
    const auto g = m.grad_span(n);
    for (std::size_t k = 0; k < g.size(); ++k) {
      INFO(n << "[" << k << "]");
      CHECK(g[k] == g_value(k));
    }
  }
}

// Padding between tensors stays zero.
std::size_t nonzero_padding(reg::model& m) {
  std::vector<bool> used(reg::net::param_buffer_size, false);
  for (const auto& e : ctnn::trainable_tensors<reg::net>)
    for (std::size_t k = 0; k < e.shape.size(); ++k) used[e.offset + k] = true;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < used.size(); ++i)
    if (!used[i] && (m.gradients()[i] != 0 || m.parameters()[i] != 0)) ++bad;
  return bad;
}

}  // namespace

TEST_CASE("L2, L1 and elastic net add exactly λ₂·w and λ₁·sign(w) to weight gradients", "[regularization]") {
  reg::model m(1);
  SECTION("L2 (weight decay)") {
    fill(m);
    ctnn::add_regularization_gradient<reg::net>(m.parameters().data(), m.gradients().data(), 0.5f, 0.0f);
    check_gradients(m, 0.5f, 0.0f, weights, others);
  }
  SECTION("L1") {
    fill(m);
    ctnn::add_regularization_gradient<reg::net>(m.parameters().data(), m.gradients().data(), 0.0f, 0.25f);
    check_gradients(m, 0.0f, 0.25f, weights, others);
  }
  SECTION("elastic net") {
    fill(m);
    ctnn::add_regularization_gradient<reg::net>(m.parameters().data(), m.gradients().data(), 0.5f, 0.25f);
    check_gradients(m, 0.5f, 0.25f, weights, others);
  }
  SECTION("biases, gamma and beta too, when asked") {
    fill(m);
    ctnn::add_regularization_gradient<reg::net, true>(m.parameters().data(), m.gradients().data(), 0.5f, 0.25f);
    std::vector<std::string> all = weights;
    all.insert(all.end(), others.begin(), others.end());
    check_gradients(m, 0.5f, 0.25f, all, {});
  }
  SECTION("both zero: nothing changes") {
    fill(m);
    ctnn::add_regularization_gradient<reg::net>(m.parameters().data(), m.gradients().data(), 0.0f, 0.0f);
    check_gradients(m, 0.0f, 0.0f, {}, weights);
  }
  CHECK(nonzero_padding(m) == 0);
  // The running statistics are state, not parameters: untouched (initial 0 and 1).
  for (float v : m.param_span("bn.running_mean")) CHECK(v == 0.0f);
  for (float v : m.param_span("bn.running_var")) CHECK(v == 1.0f);
}

TEST_CASE("the regularization loss is ½·λ₂·‖w‖² + λ₁·‖w‖₁ over the weights only", "[regularization]") {
  reg::model m(1);
  fill(m);
  double sq = 0, ab = 0, sq_all = 0, ab_all = 0;
  for (const auto& names : {weights, others})
    for (const std::string& n : names)
      for (std::size_t k = 0; k < m.param_span(n).size(); ++k) {
        const double w = w_value(k);
        if (std::find(weights.begin(), weights.end(), n) != weights.end()) {
          sq += w * w;
          ab += std::abs(w);
        }
        sq_all += w * w;
        ab_all += std::abs(w);
      }
  // Sums of dyadic squares in this range are exact in float.
  CHECK(ctnn::regularization_loss<reg::net>(m.parameters().data(), 0.5f, 0.0f) == float(0.25 * sq));
  CHECK(ctnn::regularization_loss<reg::net>(m.parameters().data(), 0.0f, 0.25f) == float(0.25 * ab));
  CHECK(ctnn::regularization_loss<reg::net>(m.parameters().data(), 0.5f, 0.25f) == float(0.25 * sq + 0.25 * ab));
  CHECK(ctnn::regularization_loss<reg::net, true>(m.parameters().data(), 0.5f, 0.25f) ==
        float(0.25 * sq_all + 0.25 * ab_all));
  CHECK(ctnn::regularization_loss<reg::net>(m.parameters().data(), 0.0f, 0.0f) == 0.0f);

  ctnn::trainer<reg::net, ctnn::batch<reg::B>> t({}, 1, {.l2 = 0.5f, .l1 = 0.25f});
  fill(t.model());
  CHECK(t.regularization_loss() == float(0.25 * sq + 0.25 * ab));
}

TEST_CASE("max-norm clamps exactly the columns over the limit", "[regularization][max_norm]") {
  reg::model m(3);
  // fc1.weight [3, 20]: column j is unit j's incoming weights. Every third
  // column has norm √3·0.75 ≈ 1.30 > 1; column 1 has norm exactly 1 (kept:
  // the limit is inclusive); the others 0.75.
  auto w = m.param<"fc1.weight">();
  for (std::size_t j = 0; j < 20; ++j) {
    const bool over = j % 3 == 0;
    w(0, j) = over ? 0.75f : j == 1 ? 1.0f : 0.5f;
    w(1, j) = over ? -0.75f : j == 1 ? 0.0f : 0.25f;
    w(2, j) = over ? 0.75f : j == 1 ? 0.0f : -0.5f;
  }
  // fc2.weight [20, 2]: column 0 has norm √20·0.5 ≈ 2.24 > 1, column 1 has norm 0.5.
  auto w2 = m.param<"fc2.weight">();
  for (std::size_t i = 0; i < 20; ++i) {
    w2(i, 0) = 0.5f;
    w2(i, 1) = i == 7 ? -0.5f : 0.0f;
  }
  const std::vector<float> before(m.parameters().begin(), m.parameters().end());
  auto b = m.param_span("fc2.bias");
  std::fill(b.begin(), b.end(), 5.0f);  // rank 1 and not regularized: never constrained

  ctnn::apply_max_norm<reg::net>(m.parameters().data(), 1.0f);

  const std::size_t o1 = offset_of("fc1.weight");
  for (std::size_t j = 0; j < 20; ++j) {
    INFO("fc1 column " << j);
    double norm = 0;
    for (std::size_t i = 0; i < 3; ++i) norm += double(w(i, j)) * double(w(i, j));
    norm = std::sqrt(norm);
    if (j % 3 == 0) {
      CHECK(norm == Approx(1.0).epsilon(1e-6));
      for (std::size_t i = 0; i < 3; ++i)
        CHECK(w(i, j) == Approx(before[o1 + i * 20 + j] / std::sqrt(3 * 0.5625)).epsilon(1e-6));
    } else {
      for (std::size_t i = 0; i < 3; ++i) CHECK(w(i, j) == before[o1 + i * 20 + j]);  // bit-identical
    }
  }
  double n0 = 0;
  for (std::size_t i = 0; i < 20; ++i) n0 += double(w2(i, 0)) * double(w2(i, 0));
  CHECK(std::sqrt(n0) == Approx(1.0).epsilon(1e-6));
  for (std::size_t i = 0; i < 20; ++i) CHECK(w2(i, 1) == (i == 7 ? -0.5f : 0.0f));
  for (float v : m.param_span("fc2.bias")) CHECK(v == 5.0f);
}

TEST_CASE("max-norm on a wide matrix: vector blocks, the block boundary and the tail", "[regularization][max_norm]") {
  // [5, 300]: two column blocks (256 + 44), each with a vector body and a tail.
  constexpr std::size_t R = 5, C = 300;
  std::vector<double> w(R * C);
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) w[i * C + j] = (j % 4 == 1 ? 2.0 : 0.25) * (i % 2 ? -1.0 : 1.0);
  const std::vector<double> before = w;
  ctnn::max_norm_columns(w.data(), R, C, 1.5);
  for (std::size_t j = 0; j < C; ++j) {
    INFO("column " << j);
    double norm = 0;
    for (std::size_t i = 0; i < R; ++i) norm += w[i * C + j] * w[i * C + j];
    if (j % 4 == 1) {
      CHECK(std::sqrt(norm) == Approx(1.5).epsilon(1e-14));
    } else {
      for (std::size_t i = 0; i < R; ++i) CHECK(w[i * C + j] == before[i * C + j]);
    }
  }
}

TEST_CASE("the trainer adds L2 to weight gradients only, before the update", "[regularization][trainer]") {
  // Plain SGD (momentum 0): w' = w − lr·(g + l2·w) on weights, w' = w − lr·g
  // elsewhere; the data loss returned by step() is the same.
  const ctnn::optim::sgd opt{.lr = 0.5f, .momentum = 0.0f};
  ctnn::trainer<reg::net, ctnn::batch<reg::B>> off(opt, 11);
  ctnn::trainer<reg::net, ctnn::batch<reg::B>> on(opt, 11, {.l2 = 0.25f});
  const std::vector<float> w0(off.model().parameters().begin(), off.model().parameters().end());
  std::vector<float> x(reg::B * 3), t(reg::B * 2);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 5) * 0.3f - 0.6f;
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = float(i % 3) - 1.0f;
  const float loss_off = off.step(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const float loss_on = on.step(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(loss_on == loss_off);
  for (const std::string& n : weights) {
    const std::size_t o = ctnn::find_param<reg::net>(n).offset;
    const auto w_off = off.model().param_span(n), w_on = on.model().param_span(n), g = off.model().grad_span(n);
    for (std::size_t k = 0; k < w_on.size(); ++k) {
      INFO(n << "[" << k << "]");
      CHECK(w_on[k] == Approx(w0[o + k] - 0.5f * (g[k] + 0.25f * w0[o + k])).epsilon(1e-6).margin(1e-7));
      CHECK(w_on[k] == Approx(w_off[k] - 0.5f * 0.25f * w0[o + k]).epsilon(1e-6).margin(1e-7));
    }
  }
  for (const std::string& n : others) {
    const auto a = off.model().param_span(n), b = on.model().param_span(n);
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k] == b[k]);
  }
  CHECK(nonzero_padding(on.model()) == 0);
}

TEST_CASE("the trainer's max-norm bounds every unit after each step", "[regularization][trainer][max_norm]") {
  ctnn::trainer<reg::net, ctnn::batch<reg::B>> t({.lr = 0.1f}, 5, {.max_norm = 0.5f});
  std::vector<float> x(reg::B * 3, 0.5f), y(reg::B * 2, 1.0f);
  for (int s = 0; s < 3; ++s) t.step(ctnn::feed<"x">(x), ctnn::feed<"t">(y));
  for (const auto& mtx : ctnn::max_norm_matrices<reg::net>)
    for (std::size_t j = 0; j < mtx.cols; ++j) {
      double norm = 0;
      for (std::size_t i = 0; i < mtx.rows; ++i) {
        const double v = t.model().parameters()[mtx.offset + i * mtx.cols + j];
        norm += v * v;
      }
      CHECK(std::sqrt(norm) <= 0.5 * (1 + 1e-6));
    }
}

TEST_CASE("training options are validated", "[regularization][trainer]") {
  using trainer_t = ctnn::trainer<reg::net, ctnn::batch<reg::B>>;
  CHECK_THROWS_AS(trainer_t({}, 0, {.l2 = -1.0f}), std::invalid_argument);
  CHECK_THROWS_AS(trainer_t({}, 0, {.ema_decay = 1.0f}), std::invalid_argument);
  CHECK_THROWS_WITH(trainer_t({}, 0, {.clip_norm = std::nanf("")}), Catch::Contains("clip_norm"));
  trainer_t t;
  CHECK_THROWS_AS(t.set_options({.max_norm = -0.5f}), std::invalid_argument);
  CHECK(t.options().max_norm == 0.0f);
}
