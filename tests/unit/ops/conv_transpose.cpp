// conv2d_transpose: hand-computed answers (seed 003's 2×2 → 5×5 upsampling,
// with padding and output padding), the seed's own construction (zeros
// between the inputs, then a convolution with the flipped filter), and the
// adjoint identity <conv(z), x> = <z, conv_transpose(x)> with the same
// weight array, which is what makes it the transpose.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <numeric>
#include <random>
#include <vector>

#include <omp.h>

#include <ctnn/ctnn.hpp>

using ctnn::dilation;
using ctnn::groups;
using ctnn::no_bias;
using ctnn::output_padding;
using ctnn::padding;
using ctnn::stride;

namespace {
template <class Node, std::size_t B = 1, class T = double>
std::vector<T> run_forward(const T* x, std::array<T*, 4> params = {}) {
  using spec = typename Node::spec;
  std::vector<T> out(B * Node::out_shape::size), scratch(B * spec::scratch_size + 1);
  ctnn::forward_args<T> a;
  a.in[0] = x;
  a.out = out.data();
  a.param = params;
  a.scratch = scratch.data();
  spec::template forward<B>(a);
  return out;
}
// Input 1, 10, 100, 1000 and filter 1..9: each output's digits say which
// input pixels and taps reached it.
inline constexpr auto x2x2 = ctnn::input<"x", ctnn::shape<1, 2, 2>>;
constexpr std::array<double, 4> x_digits{1, 10, 100, 1000};
std::array<double, 9> one_to_nine() {
  std::array<double, 9> w{};
  std::iota(w.begin(), w.end(), 1.0);
  return w;
}
// Input pixel (i, j) adds x·w[ky][kx] at output (2i + ky, 2j + kx).
const std::vector<double> seed_picture{
    1,   2,   13,   20,   30,    //
    4,   5,   46,   50,   60,    //
    107, 208, 1379, 2080, 3090,  //
    400, 500, 4600, 5000, 6000,  //
    700, 800, 7900, 8000, 9000};
}  // namespace

TEST_CASE("conv2d_transpose: 2x2 input, 3x3 filter, stride 2 gives 5x5 (seed 003)", "[conv_transpose][known]") {
  using node = decltype(ctnn::conv2d_transpose<"up", 1, 3, stride<2>, no_bias>(x2x2));
  // (H − 1)·S − 2P + D·(F − 1) + 1 + A = 2 + 2 + 1 = 5.
  static_assert(std::is_same_v<node::out_shape, ctnn::shape<1, 5, 5>>);
  static_assert(node::spec::kind == "conv2d_transpose 3x3/2");
  auto w = one_to_nine();
  CHECK(run_forward<node>(x_digits.data(), {w.data()}) == seed_picture);
}

TEST_CASE("conv2d_transpose: padding crops, output_padding adds a row and a column", "[conv_transpose][known]") {
  auto w = one_to_nine();
  SECTION("padding 1: the centre 3x3 of the picture, plus the bias") {
    using node = decltype(ctnn::conv2d_transpose<"up", 1, 3, stride<2>, padding<1>>(x2x2));
    static_assert(std::is_same_v<node::out_shape, ctnn::shape<1, 3, 3>>);
    double b = 0.5;
    CHECK(run_forward<node>(x_digits.data(), {w.data(), &b}) ==
          std::vector<double>{5.5, 46.5, 50.5, 208.5, 1379.5, 2080.5, 500.5, 4600.5, 5000.5});
  }
  SECTION("padding 1, output_padding 1: 4x4, twice the input, the picture's rows and columns 1..4") {
    using node = decltype(ctnn::conv2d_transpose<"up", 1, 3, stride<2>, padding<1>, output_padding<1>, no_bias>(x2x2));
    static_assert(std::is_same_v<node::out_shape, ctnn::shape<1, 4, 4>>);
    static_assert(node::spec::kind == "conv2d_transpose 3x3/2 p1 a1");
    CHECK(run_forward<node>(x_digits.data(), {w.data()}) ==
          std::vector<double>{5, 46, 50, 60, 208, 1379, 2080, 3090, 500, 4600, 5000, 6000, 800, 7900, 8000, 9000});
  }
  SECTION("relu fused: one node, negative outputs clipped") {
    using node = decltype(ctnn::relu(ctnn::conv2d_transpose<"up", 1, 3, stride<2>>(x2x2)));
    static_assert(node::spec::kind == "conv2d_transpose 3x3/2+relu");
    double b = -1000;
    const auto y = run_forward<node>(x_digits.data(), {w.data(), &b});
    for (std::size_t i = 0; i < y.size(); ++i) CHECK(y[i] == std::max(0.0, seed_picture[i] - 1000));
  }
}

TEST_CASE("conv2d_transpose: two input channels, two groups, dilation 2", "[conv_transpose][known]") {
  // Group g maps input channel g to output channel g with a 2×2 filter whose
  // taps are 2 apart: a 1×1 input becomes a 3×3 output with the taps at the corners.
  using node =
      decltype(ctnn::conv2d_transpose<"up", 2, 2, dilation<2>, groups<2>, no_bias>(ctnn::input<"x", ctnn::shape<2, 1, 1>>));
  static_assert(std::is_same_v<node::out_shape, ctnn::shape<2, 3, 3>>);
  std::array<double, 2> x{1, -2};
  std::array<double, 8> w{1, 2, 3, 4, 5, 6, 7, 8};  // [C_in 2, C_out/G 1, 2, 2]
  CHECK(run_forward<node>(x.data(), {w.data()}) ==
        std::vector<double>{1, 0, 2, 0, 0, 0, 3, 0, 4, -10, 0, -12, 0, 0, 0, -14, 0, -16});
}

TEST_CASE("conv2d_transpose: seed 003's construction, zeros between inputs and the flipped filter",
          "[conv_transpose][known]") {
  // Stride 2, padding 1, output padding 1: insert S − 1 = 1 zero between
  // neighbours (2×2 → 3×3), pad by F − 1 − P = 1 on each side and A = 1 more
  // at the bottom and right (→ 6×6), then convolve at stride 1 with the
  // filter turned by 180°.
  auto w = one_to_nine();
  std::array<double, 9> flipped{};
  for (std::size_t i = 0; i < 9; ++i) flipped[i] = w[8 - i];
  std::array<double, 36> spread{};
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j) spread[(1 + 2 * i) * 6 + 1 + 2 * j] = x_digits[i * 2 + j];
  using conv = decltype(ctnn::conv2d<"c", 1, 3, no_bias>(ctnn::input<"s", ctnn::shape<1, 6, 6>>));
  using up = decltype(ctnn::conv2d_transpose<"up", 1, 3, stride<2>, padding<1>, output_padding<1>, no_bias>(x2x2));
  static_assert(std::is_same_v<conv::out_shape, up::out_shape>);
  CHECK(run_forward<conv>(spread.data(), {flipped.data()}) == run_forward<up>(x_digits.data(), {w.data()}));
}

namespace {
// <conv(z), x> = <z, conv_transpose(x)>: conv2d from [Co, Ho, Wo] to
// [Ci, H, W] and conv2d_transpose back, with one weight array
// [Ci, Co/G, F, F] (the layout both use), at batch 2.
template <std::size_t Ci, std::size_t Co, std::size_t H, std::size_t W, std::size_t F, std::size_t S, std::size_t P,
          std::size_t D, std::size_t G>
void check_adjoint(unsigned seed) {
  using up = decltype(ctnn::conv2d_transpose<"t", Co, F, stride<S>, padding<P>, dilation<D>, groups<G>, no_bias>(
      ctnn::input<"x", ctnn::shape<Ci, H, W>>));
  using out = typename up::out_shape;
  using down = decltype(ctnn::conv2d<"c", Ci, F, stride<S>, padding<P>, dilation<D>, groups<G>, no_bias>(
      ctnn::input<"z", out>));
  static_assert(std::is_same_v<typename down::out_shape, ctnn::shape<Ci, H, W>>);
  constexpr std::size_t B = 2;
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x(B * Ci * H * W), z(B * out::size), w(Ci * (Co / G) * F * F);
  for (auto* v : {&x, &z, &w})
    for (double& e : *v) e = u(gen);
  const auto tx = run_forward<up, B>(x.data(), {w.data()});
  const auto cz = run_forward<down, B>(z.data(), {w.data()});
  const double lhs = std::inner_product(cz.begin(), cz.end(), x.begin(), 0.0);
  const double rhs = std::inner_product(z.begin(), z.end(), tx.begin(), 0.0);
  INFO("S " << S << ", P " << P << ", D " << D << ", G " << G << ", F " << F);
  CHECK(lhs == Approx(rhs).epsilon(1e-12));
  CHECK(std::abs(lhs) > 1e-3);  // not trivially zero
}
}  // namespace

TEST_CASE("conv2d_transpose: the adjoint of conv2d with the same weights", "[conv_transpose][adjoint]") {
  check_adjoint<3, 4, 4, 3, 3, 2, 1, 1, 1>(1);  // the usual 2× upsampling geometry
  check_adjoint<2, 4, 3, 5, 3, 1, 0, 2, 2>(2);  // dilated, grouped
  check_adjoint<2, 3, 3, 2, 4, 3, 2, 1, 1>(3);  // stride 3, even filter, wide padding
  check_adjoint<4, 6, 3, 3, 1, 1, 0, 1, 2>(4);  // 1×1, the direct path
  check_adjoint<2, 2, 2, 3, 1, 2, 0, 1, 1>(5);  // 1×1 with stride 2: through col2im
}

namespace threads_case {
// Large enough (4 samples × 262,144 multiply-adds) for the samples to be
// split over the OpenMP team.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16, 8, 8>>;
// Behind a 1×1 convolution, so that the data gradient runs too.
inline constexpr auto y =
    ctnn::relu(ctnn::conv2d_transpose<"up", 16, 4, stride<2>, padding<1>>(ctnn::conv2d<"c0", 16, 1>(x)));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<16 * 16 * 16>>),
                                   ctnn::outputs(y)));
static_assert(std::is_same_v<decltype(y)::out_shape, ctnn::shape<16, 16, 16>>);
}  // namespace threads_case

TEST_CASE("conv2d_transpose: the same bits on one thread and on the team", "[conv_transpose][threads]") {
  using net = threads_case::net;
  constexpr std::size_t B = 4;
  std::mt19937_64 gen(9);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x(B * 16 * 64), t(B * 16 * 256);
  for (auto* v : {&x, &t})
    for (double& e : *v) e = u(gen);
  const auto run = [&](int threads) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    ctnn::model<net, B, double> m(4);
    const double loss = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    std::vector<double> r(m.gradients().begin(), m.gradients().end());
    r.push_back(loss);
    omp_set_num_threads(before);
    return r;
  };
  const auto one = run(1), team = run(2);
  CHECK(one == team);
  CHECK(std::any_of(one.begin(), one.end(), [](double v) { return v != 0.0; }));
}
