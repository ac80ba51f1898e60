// Central-difference gradient checks of conv2d in every combination of
// stride {1, 2}, padding {0, 1}, dilation {1, 2} and groups {1, 2} (3×3
// filters on a 9×7 image, so that height and width cannot be swapped
// unnoticed), the 1×1 paths, fused activations, tied filters, max and
// average pooling (with floor and ceil rounding), global average pooling,
// flatten and concat. Only parameters are perturbed, so every op under test
// sits behind a 1×1 convolution "c0" whose weight gradient goes through the
// op's data gradient.
#include "support.hpp"

#include <vector>

using ctnn::dilation;
using ctnn::groups;
using ctnn::padding;
using ctnn::stride;

namespace {

template <std::size_t S, std::size_t P, std::size_t D, std::size_t G>
struct conv_case {
  static constexpr auto x = ctnn::input<"x", ctnn::shape<2, 9, 7>>;
  static constexpr auto y =
      ctnn::tanh(ctnn::conv2d<"c1", 4, 3, stride<S>, padding<P>, dilation<D>, groups<G>>(ctnn::conv2d<"c0", 4, 1>(x)));
  using out = typename decltype(y)::out_shape;
  using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<out::size>>)));
};

template <std::size_t S, std::size_t P, std::size_t D, std::size_t G>
void check_conv() {
  using C = conv_case<S, P, D, G>;
  using out = typename C::out;
  // The output size rule, spelled out: (W - F' + 2P)/S + 1 with F' = D(F-1)+1.
  static_assert(out::dims[1] == (9 - (D * 2 + 1) + 2 * P) / S + 1);
  static_assert(out::dims[2] == (7 - (D * 2 + 1) + 2 * P) / S + 1);
  gc::rng r(1000 + 100 * S + 10 * P + D + 7 * G);
  const auto x = r.uniform_array<gc::B * 2 * 9 * 7>(-1, 1);
  const auto t = r.uniform_array<gc::B * out::size>(-0.5, 0.5);
  ctnn::model<typename C::net, gc::B, double> m;
  gc::randomize(m, 3, 0.5);
  INFO("stride " << S << ", padding " << P << ", dilation " << D << ", groups " << G);
  const auto rep = gc::check("conv2d", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 4);
  GC_REQUIRE_BELOW(rep, 1e-6);
}

}  // namespace

TEST_CASE("gradcheck: conv2d, every stride, padding, dilation and groups", "[gradcheck][conv]") {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check_conv<1 + (I & 1), (I >> 1) & 1, 1 + ((I >> 2) & 1), 1 + ((I >> 3) & 1)>(), ...);
  }(std::make_index_sequence<16>{});
}

namespace conv_1x1 {
// 1×1 with stride 1 (the input is the GEMM operand itself), 1×1 with stride
// 2 (through im2col), grouped, no bias, no activation.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4, 5, 3>>;
inline constexpr auto h = ctnn::conv2d<"a", 6, 1, groups<2>, ctnn::no_bias>(ctnn::conv2d<"c0", 4, 1>(x));
inline constexpr auto y = ctnn::conv2d<"b", 3, 1, stride<2>>(h);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<3 * 3 * 2>>)));
static_assert(std::is_same_v<decltype(y)::out_shape, ctnn::shape<3, 3, 2>>);
}  // namespace conv_1x1

TEST_CASE("gradcheck: 1x1 convolutions, direct and strided, grouped, without bias", "[gradcheck][conv]") {
  gc::rng r(21);
  const auto x = r.uniform_array<gc::B * 4 * 5 * 3>(-1, 1);
  const auto t = r.uniform_array<gc::B * 18>(-1, 1);
  ctnn::model<conv_1x1::net, gc::B, double> m;
  gc::randomize(m, 4, 0.6);
  const auto rep = gc::check("1x1 convolutions", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 5);
  GC_REQUIRE_BELOW(rep, 1e-6);
}

namespace conv_relu_tied {
// relu fused into a convolution, and one 3×3 filter bank used twice by name
// (its gradient accumulates over both uses).
inline constexpr auto x = ctnn::input<"x", ctnn::shape<3, 6, 6>>;
inline constexpr auto h = ctnn::relu(ctnn::conv2d<"c0", 4, 1>(x));
inline constexpr auto y = ctnn::conv2d<"s", 4, 3, padding<1>>(ctnn::conv2d<"s", 4, 3, padding<1>>(h));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<4 * 36>>)));
}  // namespace conv_relu_tied

TEST_CASE("gradcheck: relu(conv2d) fused, and tied filters", "[gradcheck][conv]") {
  using net = conv_relu_tied::net;
  static_assert(gc::node_id<net>("conv2d 1x1/1+relu") != ctnn::none);
  std::array<double, gc::B * 3 * 36> x{};
  std::array<double, gc::B * 4 * 36> t{};
  ctnn::model<net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t s) {
        gc::rng d(300 + s);
        x = d.uniform_array<x.size()>(-1, 1);
        t = d.uniform_array<t.size()>(-1, 1);
      },
      [&](auto& mm) {
        // The fused output hides how far below zero a pre-activation was:
        // recompute the 1×1 convolution's pre-activations from its weights.
        const auto w = mm.param_span("c0.weight");
        const auto b = mm.param_span("c0.bias");
        for (std::size_t n = 0; n < gc::B; ++n)
          for (std::size_t c = 0; c < 4; ++c)
            for (std::size_t p = 0; p < 36; ++p) {
              double z = b[c];
              for (std::size_t k = 0; k < 3; ++k) z += w[c * 3 + k] * x[(n * 3 + k) * 36 + p];
              if (std::abs(z) <= gc::kink_margin) return false;
            }
        return true;
      });
  const auto rep = gc::check("relu(conv), tied", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 4);
  GC_REQUIRE_BELOW(rep, 1e-6);
}

namespace {
// The largest gap between each window's best and second best input, for max
// pooling: the check needs every winner clear of a tie.
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t S, std::size_t P,
          ctnn::window_rounding R>
bool windows_untied(std::span<const double> v, std::size_t batch) {
  const std::size_t Ho = ctnn::detail::window_out(H, F, P, S, R), Wo = ctnn::detail::window_out(W, F, P, S, R);
  for (std::size_t p = 0; p < batch * C; ++p)
    for (std::size_t oy = 0; oy < Ho; ++oy)
      for (std::size_t ox = 0; ox < Wo; ++ox) {
        double best = -INFINITY, second = -INFINITY;
        for (std::size_t ky = 0; ky < F; ++ky)
          for (std::size_t kx = 0; kx < F; ++kx) {
            const long iy = long(oy * S + ky) - long(P), ix = long(ox * S + kx) - long(P);
            if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W)) continue;
            const double e = v[p * H * W + std::size_t(iy) * W + std::size_t(ix)];
            if (e > best) {
              second = best;
              best = e;
            } else if (e > second) {
              second = e;
            }
          }
        if (best - second <= gc::kink_margin) return false;
      }
  return true;
}

template <class Net, std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t S, std::size_t P,
          std::size_t XN, std::size_t TN, ctnn::window_rounding R = ctnn::window_rounding::exact>
void check_max_pool(const char* what) {
  std::array<double, XN> x{};
  std::array<double, TN> t{};
  ctnn::model<Net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t s) {
        gc::rng d(400 + s);
        x = d.uniform_array<XN>(-1, 1);
        t = d.uniform_array<TN>(-1, 1);
      },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
        return windows_untied<C, H, W, F, S, P, R>(mm.value(gc::node_named<Net>("c0")), gc::B);
      });
  INFO(what);
  GC_REQUIRE_BELOW(gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}
}  // namespace

namespace pools {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 6, 5>>;
inline constexpr auto h = ctnn::conv2d<"c0", 3, 1>(x);
template <class P>
using net_of = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"fc", 4>(ctnn::flatten(P{})), ctnn::input<"t", ctnn::shape<4>>)));
using max_3s2p1 = net_of<decltype(ctnn::max_pool<3, stride<2>, padding<1>>(ctnn::conv2d<"c0", 3, 1>(ctnn::input<"x", ctnn::shape<2, 7, 5>>)))>;
using max_2 = net_of<decltype(ctnn::max_pool<2>(ctnn::conv2d<"c0", 3, 1>(ctnn::input<"x", ctnn::shape<2, 6, 4>>)))>;
using max_3s1p1 = net_of<decltype(ctnn::max_pool<3, stride<1>, padding<1>>(h))>;  // overlapping windows
using avg_3s2p1 = net_of<decltype(ctnn::avg_pool<3, stride<2>, padding<1>>(ctnn::conv2d<"c0", 3, 1>(ctnn::input<"x", ctnn::shape<2, 7, 5>>)))>;
using avg_2 = net_of<decltype(ctnn::avg_pool<2>(ctnn::conv2d<"c0", 3, 1>(ctnn::input<"x", ctnn::shape<2, 6, 4>>)))>;
using global = net_of<decltype(ctnn::global_avg_pool(h))>;
// Windows that do not tile 6×5: ceil_mode adds an overhanging last window
// (3 rows of outputs from 6 inputs), floor_mode drops the partial one.
using max_3s2_ceil = net_of<decltype(ctnn::max_pool<3, stride<2>, ctnn::ceil_mode>(h))>;
using max_3s2p1_floor = net_of<decltype(ctnn::max_pool<3, stride<2>, padding<1>, ctnn::floor_mode>(h))>;
using avg_3s2p1_ceil = net_of<decltype(ctnn::avg_pool<3, stride<2>, padding<1>, ctnn::ceil_mode>(h))>;
using conv_floor = net_of<decltype(ctnn::tanh(ctnn::conv2d<"c1", 2, 3, stride<2>, ctnn::floor_mode>(h)))>;
}  // namespace pools

TEST_CASE("gradcheck: max pooling, windows apart, overlapping and padded", "[gradcheck][pool]") {
  check_max_pool<pools::max_2, 3, 6, 4, 2, 2, 0, gc::B * 2 * 6 * 4, gc::B * 4>("max_pool 2x2/2");
  check_max_pool<pools::max_3s2p1, 3, 7, 5, 3, 2, 1, gc::B * 2 * 7 * 5, gc::B * 4>("max_pool 3x3/2 p1");
  check_max_pool<pools::max_3s1p1, 3, 6, 5, 3, 1, 1, gc::B * 2 * 6 * 5, gc::B * 4>("max_pool 3x3/1 p1");
  check_max_pool<pools::max_3s2_ceil, 3, 6, 5, 3, 2, 0, gc::B * 2 * 6 * 5, gc::B * 4, ctnn::window_rounding::ceil>(
      "max_pool 3x3/2 ceil");
  check_max_pool<pools::max_3s2p1_floor, 3, 6, 5, 3, 2, 1, gc::B * 2 * 6 * 5, gc::B * 4,
                 ctnn::window_rounding::floor>("max_pool 3x3/2 p1 floor");
}

TEST_CASE("gradcheck: average and global average pooling", "[gradcheck][pool]") {
  gc::rng r(31);
  {
    ctnn::model<pools::avg_2, gc::B, double> m;
    gc::randomize(m, 5);
    const auto x = r.uniform_array<gc::B * 2 * 6 * 4>(-1, 1);
    const auto t = r.uniform_array<gc::B * 4>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("avg_pool 2x2/2", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
  {
    ctnn::model<pools::avg_3s2p1, gc::B, double> m;
    gc::randomize(m, 6);
    const auto x = r.uniform_array<gc::B * 2 * 7 * 5>(-1, 1);
    const auto t = r.uniform_array<gc::B * 4>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("avg_pool 3x3/2 p1", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
  {
    ctnn::model<pools::global, gc::B, double> m;
    gc::randomize(m, 7);
    const auto x = r.uniform_array<gc::B * 2 * 6 * 5>(-1, 1);
    const auto t = r.uniform_array<gc::B * 4>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("global_avg_pool", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
  {
    ctnn::model<pools::avg_3s2p1_ceil, gc::B, double> m;
    gc::randomize(m, 8);
    const auto x = r.uniform_array<gc::B * 2 * 6 * 5>(-1, 1);
    const auto t = r.uniform_array<gc::B * 4>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("avg_pool 3x3/2 p1 ceil", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
  {
    ctnn::model<pools::conv_floor, gc::B, double> m;
    gc::randomize(m, 9, 0.5);
    const auto x = r.uniform_array<gc::B * 2 * 6 * 5>(-1, 1);
    const auto t = r.uniform_array<gc::B * 4>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("conv2d 3x3/2 floor", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
}

namespace inception {
// One input feeding three branches (1×1, 3×3 padded, max pool 3×3/1 p1)
// joined by concat: the input gradient accumulates over three consumers.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 5, 4>>;
inline constexpr auto h = ctnn::conv2d<"c0", 3, 1>(x);
inline constexpr auto y = ctnn::concat(ctnn::conv2d<"b1", 2, 1>(ctnn::ref<h>),
                                       ctnn::tanh(ctnn::conv2d<"b3", 2, 3, padding<1>>(ctnn::ref<h>)),
                                       ctnn::max_pool<3, stride<1>, padding<1>>(ctnn::ref<h>));
static_assert(std::is_same_v<decltype(y)::out_shape, ctnn::shape<7, 5, 4>>);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"fc", 3>(ctnn::flatten(y)), ctnn::input<"t", ctnn::shape<3>>)));
}  // namespace inception

TEST_CASE("gradcheck: concat of three branches on one input (an inception module)", "[gradcheck][concat]") {
  check_max_pool<inception::net, 3, 5, 4, 3, 1, 1, gc::B * 2 * 5 * 4, gc::B * 3>("inception");
}

namespace wino {
// A 5×5 convolution that takes the Winograd F(2×2, 5×5) path at batch 8
// (and im2col at batch 4): 8 channels in and out, a 6×8 output (even, not
// square, so that rows and columns of tiles cannot be swapped unnoticed).
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8, 10, 12>>;
inline constexpr auto h = ctnn::conv2d<"w", 8, 5>(ctnn::conv2d<"c0", 8, 1>(x));
using conv = std::remove_cvref_t<decltype(h)>;
static_assert(conv::spec::winograd<8> && conv::spec::winograd<64> && !conv::spec::winograd<4>);
inline constexpr auto y = ctnn::tanh(h);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<8 * 6 * 8>>)));
constexpr std::size_t in_size = 8 * 10 * 12, out_size = 8 * 6 * 8;
}  // namespace wino

TEST_CASE("gradcheck: a 5x5 convolution through Winograd F(2x2, 5x5)", "[gradcheck][conv][winograd]") {
  gc::rng r(31);
  const auto x = r.uniform_array<8 * wino::in_size>(-1, 1);
  const auto t = r.uniform_array<8 * wino::out_size>(-0.5, 0.5);
  ctnn::model<wino::net, 8, double> m;
  gc::randomize(m, 12, 0.3);
  const auto rep = gc::check("conv2d 5x5 winograd", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 4);
  GC_REQUIRE_BELOW(rep, 1e-6);
}

TEST_CASE("Winograd F(2x2, 5x5) gives im2col's outputs and gradients", "[conv][winograd]") {
  // One batch of 8 through Winograd against its two halves through im2col:
  // the same outputs, and gradients that are the halves' mean (the loss is
  // the batch mean), to rounding in double.
  gc::rng r(32);
  const auto x = r.uniform_array<8 * wino::in_size>(-1, 1);
  const auto t = r.uniform_array<8 * wino::out_size>(-0.5, 0.5);
  ctnn::model<wino::net, 8, double> m8;
  ctnn::model<wino::net, 4, double> m4;
  gc::randomize(m8, 13, 0.3);
  gc::randomize(m4, 13, 0.3);
  m8.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const std::size_t id = gc::node_named<wino::net>("w");
  const auto y8 = m8.value(id);
  std::vector<double> want(y8.size());
  std::vector<std::vector<double>> grads;
  for (std::size_t half = 0; half < 2; ++half) {
    m4.forward_backward(ctnn::feed<"x">(x.data() + half * 4 * wino::in_size),
                        ctnn::feed<"t">(t.data() + half * 4 * wino::out_size));
    const auto y4 = m4.value(id);
    std::copy(y4.begin(), y4.end(), want.begin() + std::ptrdiff_t(half * y4.size()));
    grads.emplace_back(m4.gradients().begin(), m4.gradients().end());
  }
  for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(y8[i] == Approx(want[i]).margin(1e-12));
  const auto g8 = m8.gradients();
  for (std::size_t i = 0; i < g8.size(); ++i) REQUIRE(g8[i] == Approx((grads[0][i] + grads[1][i]) / 2).margin(1e-12));
}
