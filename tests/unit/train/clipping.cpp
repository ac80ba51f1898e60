// Gradient clipping by value and by global norm: exact numbers on buffers with
// a vector body and a scalar tail, and in the trainer after regularization
// and before the update.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace clip_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<5>>;
inline constexpr auto logits = ctnn::dense<"out", 3>(ctnn::tanh(ctnn::dense<"h", 7>(x)));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
constexpr std::size_t B = 4;
using trainer = ctnn::trainer<net, ctnn::batch<B>>;
}  // namespace clip_net

namespace {

template <class T>
void clip_by_value_exact() {
  constexpr std::size_t N = 37;  // vector body + tail for 4, 8 and 16 lanes
  ctnn::aligned_buffer<T> g(N);
  for (std::size_t i = 0; i < N; ++i) g.data()[i] = (T(i) - T(18)) * T(0.25);
  ctnn::clip_gradients_by_value<N>(g.data(), T(2));
  for (std::size_t i = 0; i < N; ++i) {
    INFO("g[" << i << "]");
    CHECK(g.data()[i] == std::clamp((T(i) - T(18)) * T(0.25), T(-2), T(2)));
  }
}

template <class T>
void clip_by_norm_exact() {
  constexpr std::size_t N = 37;
  ctnn::aligned_buffer<T> g(N);
  g.data()[3] = T(3);   // in a vector
  g.data()[36] = T(-4); // in the tail
  // ‖g‖ = 5 ≤ 10: untouched, the norm returned.
  CHECK(ctnn::clip_gradients_by_norm<N>(g.data(), T(10)) == T(5));
  CHECK(g.data()[3] == T(3));
  CHECK(g.data()[36] == T(-4));
  // ‖g‖ = 5 > 2.5: scaled by 1/2, exactly.
  CHECK(ctnn::clip_gradients_by_norm<N>(g.data(), T(2.5)) == T(5));
  for (std::size_t i = 0; i < N; ++i) {
    INFO("g[" << i << "]");
    CHECK(g.data()[i] == (i == 3 ? T(1.5) : i == 36 ? T(-2) : T(0)));
  }
  CHECK(ctnn::gradient_norm<N>(g.data()) == T(2.5));
}

}  // namespace

TEST_CASE("clipping by value clamps each gradient to [-c, c]", "[clipping]") {
  clip_by_value_exact<float>();
  clip_by_value_exact<double>();
}

TEST_CASE("clipping by global norm scales by c/|g| only above c", "[clipping]") {
  clip_by_norm_exact<float>();
  clip_by_norm_exact<double>();
}

TEST_CASE("the global norm of a long buffer", "[clipping]") {
  constexpr std::size_t N = 1003;
  ctnn::aligned_buffer<double> g(N);
  double want = 0;
  for (std::size_t i = 0; i < N; ++i) {
    g.data()[i] = std::sin(double(i));
    want += g.data()[i] * g.data()[i];
  }
  CHECK(ctnn::gradient_norm<N>(g.data()) == Approx(std::sqrt(want)).epsilon(1e-13));
}

namespace {
struct batch_data {
  std::vector<float> x = std::vector<float>(clip_net::B * 5);
  std::vector<int> y = std::vector<int>(clip_net::B);
  batch_data() {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(float(i)) * 2.0f;
    for (std::size_t b = 0; b < y.size(); ++b) y[b] = int(b % 3);
  }
};
}  // namespace

TEST_CASE("the trainer clips by norm before the update and reports the norm", "[clipping][trainer]") {
  const ctnn::optim::sgd opt{.lr = 0.5f, .momentum = 0.0f};
  clip_net::trainer plain(opt, 3), clipped(opt, 3, {.clip_norm = 0.01f});
  const std::vector<float> w0(plain.model().parameters().begin(), plain.model().parameters().end());
  batch_data d;
  plain.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
  clipped.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
  CHECK(plain.gradient_norm() == -1.0f);
  const auto g = plain.model().gradients();
  double norm = 0;
  for (float v : g) norm += double(v) * double(v);
  norm = std::sqrt(norm);
  REQUIRE(norm > 0.01);
  CHECK(clipped.gradient_norm() == Approx(norm).epsilon(1e-5));
  const auto gc = clipped.model().gradients();
  double norm_c = 0;
  for (float v : gc) norm_c += double(v) * double(v);
  CHECK(std::sqrt(norm_c) == Approx(0.01).epsilon(1e-5));
  const auto w = clipped.model().parameters();
  for (std::size_t i = 0; i < w.size(); ++i) {
    INFO("w[" << i << "]");
    CHECK(gc[i] == Approx(g[i] * 0.01 / norm).epsilon(1e-5).margin(1e-9));
    CHECK(w[i] == Approx(w0[i] - 0.5 * g[i] * 0.01 / norm).epsilon(1e-5).margin(1e-8));
  }
}

TEST_CASE("the trainer regularizes, then clips by value", "[clipping][trainer]") {
  // The gradient the optimizer sees: clamp(g + l2·w, ±c) on weights,
  // clamp(g, ±c) on biases.
  const ctnn::optim::sgd opt{.lr = 0.25f, .momentum = 0.0f};
  clip_net::trainer plain(opt, 9), t(opt, 9, {.l2 = 0.5f, .clip_value = 0.05f});
  const std::vector<float> w0(plain.model().parameters().begin(), plain.model().parameters().end());
  batch_data d;
  plain.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
  t.step(ctnn::feed<"x">(d.x), ctnn::feed<"y">(d.y));
  std::size_t clamped = 0;
  for (const auto& e : ctnn::trainable_tensors<clip_net::net>)
    for (std::size_t k = 0; k < e.shape.size(); ++k) {
      const std::size_t i = e.offset + k;
      INFO(e.name << "[" << k << "]");
      const float raw = plain.model().gradients()[i] + (e.regularize ? 0.5f * w0[i] : 0.0f);
      const float want = std::clamp(raw, -0.05f, 0.05f);
      clamped += raw != want;
      CHECK(t.model().gradients()[i] == Approx(want).epsilon(1e-6).margin(1e-8));
      CHECK(t.model().parameters()[i] == Approx(w0[i] - 0.25f * want).epsilon(1e-6).margin(1e-8));
    }
  CHECK(clamped > 0);
  // Padding: still zero.
  std::vector<bool> used(clip_net::net::param_buffer_size);
  for (const auto& e : ctnn::trainable_tensors<clip_net::net>)
    for (std::size_t k = 0; k < e.shape.size(); ++k) used[e.offset + k] = true;
  for (std::size_t i = 0; i < used.size(); ++i)
    if (!used[i]) CHECK(t.model().gradients()[i] == 0.0f);
}
