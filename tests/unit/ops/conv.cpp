// Known answers, computed by hand, for conv2d, the pools, flatten and concat:
// each op's spec run directly on small inputs (forward, and the backward
// passes where the routing is the point).
#include <catch2/catch.hpp>

#include <array>
#include <numeric>
#include <vector>

#include <ctnn/ctnn.hpp>

using ctnn::dilation;
using ctnn::groups;
using ctnn::padding;
using ctnn::stride;

namespace {
template <class Node, std::size_t B = 1, class T = double>
std::vector<T> run_forward(const T* x, std::array<T*, 4> params = {}, T* scratch = nullptr) {
  using spec = typename Node::spec;
  std::vector<T> out(B * Node::out_shape::size);
  ctnn::forward_args<T> a;
  a.in[0] = x;
  a.out = out.data();
  a.param = params;
  a.scratch = scratch;
  spec::template forward<B>(a);
  return out;
}
std::array<double, 9> one_to_nine() {
  std::array<double, 9> x{};
  std::iota(x.begin(), x.end(), 1.0);
  return x;
}
inline constexpr auto img1x3x3 = ctnn::input<"x", ctnn::shape<1, 3, 3>>;
}  // namespace

TEST_CASE("conv2d: 3x3 ones, stride 2, padding 1, bias 1 on 1..9", "[conv][known]") {
  // Windows centred on the four corners: 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
  using node = decltype(ctnn::conv2d<"c", 1, 3, stride<2>, padding<1>>(img1x3x3));
  static_assert(std::is_same_v<node::out_shape, ctnn::shape<1, 2, 2>>);
  const auto x = one_to_nine();
  std::array<double, 9> w{};
  w.fill(1.0);
  double b = 1.0;
  std::vector<double> col(node::spec::scratch_size);
  const auto y = run_forward<node>(x.data(), {w.data(), &b}, col.data());
  CHECK(y == std::vector<double>{13, 17, 25, 29});
}

// Seed 003's figure 22.3 (CS231n): 5×5×3 input, two 3×3 filters, padding 1,
// stride 2 → 3×3×2, by (W − F + 2P)/S + 1 (the seed's printed (W − F + 2P)/(S + 1) gives 4/3).
static_assert(std::is_same_v<decltype(ctnn::conv2d<"c", 2, 3, stride<2>, padding<1>>(
                                 ctnn::input<"x", ctnn::shape<3, 5, 5>>))::out_shape,
                             ctnn::shape<2, 3, 3>>);

TEST_CASE("conv2d: a 2x2 filter with dilation 2 reads the corners", "[conv][known]") {
  using node = decltype(ctnn::conv2d<"c", 1, 2, dilation<2>, ctnn::no_bias>(img1x3x3));
  static_assert(std::is_same_v<node::out_shape, ctnn::shape<1, 1, 1>>);
  const auto x = one_to_nine();
  std::array<double, 4> w{1, 2, 3, 4};
  std::vector<double> col(node::spec::scratch_size);
  const auto y = run_forward<node>(x.data(), {w.data()}, col.data());
  CHECK(y[0] == 1 * 1 + 3 * 2 + 7 * 3 + 9 * 4);
}

TEST_CASE("conv2d: relu fused, 2x2 filter [1, 0; 0, -1] on 1..9", "[conv][known]") {
  // x[i][j] - x[i+1][j+1] = -4 everywhere; +bias 5 -> 1; relu keeps it. With
  // bias 3 it is -1 and relu gives 0.
  using node = decltype(ctnn::relu(ctnn::conv2d<"c", 1, 2>(img1x3x3)));
  static_assert(node::spec::kind == "conv2d 2x2/1+relu");
  const auto x = one_to_nine();
  std::array<double, 4> w{1, 0, 0, -1};
  std::vector<double> col(node::spec::scratch_size);
  double b = 5;
  CHECK(run_forward<node>(x.data(), {w.data(), &b}, col.data()) == std::vector<double>{1, 1, 1, 1});
  b = 3;
  CHECK(run_forward<node>(x.data(), {w.data(), &b}, col.data()) == std::vector<double>{0, 0, 0, 0});
}

TEST_CASE("conv2d: groups keep channels apart; backward of a 1x1 grouped conv", "[conv][known]") {
  // Two channels, two groups, 1x1 weights 2 and 3: y0 = 2·x0, y1 = 3·x1.
  static constexpr auto x2 = ctnn::input<"x", ctnn::shape<2, 1, 2>>;
  using node = decltype(ctnn::conv2d<"c", 2, 1, groups<2>, ctnn::no_bias>(x2));
  static_assert(node::spec::direct && node::spec::scratch_size == 0);
  const std::array<double, 4> x{1, 2, 10, 20};
  std::array<double, 2> w{2, 3};
  CHECK(run_forward<node>(x.data(), {w.data()}) == std::vector<double>{2, 4, 30, 60});
  // dx = w·dy per group, dw = Σ dy·x per group.
  const std::array<double, 4> dy{1, 1, 1, -1};
  std::array<double, 4> dx{};
  std::array<double, 2> dw{};
  ctnn::backward_args<double> a;
  a.in[0] = x.data();
  a.dout = dy.data();
  a.din[0] = dx.data();
  a.param[0] = w.data();
  a.dparam[0] = dw.data();
  node::spec::backward<1, ctnn::grad_mode::input(0) | ctnn::grad_mode::param(0)>(a);
  CHECK(dx == std::array<double, 4>{2, 2, 3, -3});
  CHECK(dw == std::array<double, 2>{3, -10});
}

TEST_CASE("max_pool and avg_pool 2x2/2 on 1..16; max_pool 3x3/2 p1 on 1..25", "[pool][known]") {
  static constexpr auto x4 = ctnn::input<"x", ctnn::shape<1, 4, 4>>;
  std::array<double, 16> x{};
  std::iota(x.begin(), x.end(), 1.0);
  using mp = decltype(ctnn::max_pool<2>(x4));
  std::array<double, 4> win{};
  CHECK(run_forward<mp>(x.data(), {}, win.data()) == std::vector<double>{6, 8, 14, 16});
  CHECK(win == std::array<double, 4>{5, 7, 13, 15});  // the winners' indices
  using ap = decltype(ctnn::avg_pool<2>(x4));
  CHECK(run_forward<ap>(x.data()) == std::vector<double>{3.5, 5.5, 11.5, 13.5});

  // Backward: the gradient goes to the winners only (the rest overwritten with 0).
  const std::array<double, 4> dy{1, 2, 3, 4};
  std::array<double, 16> dx{};
  dx.fill(99);
  ctnn::backward_args<double> a;
  a.dout = dy.data();
  a.din[0] = dx.data();
  a.scratch = win.data();
  mp::spec::backward<1, ctnn::grad_mode::input(0)>(a);
  std::array<double, 16> want{};
  want[5] = 1, want[7] = 2, want[13] = 3, want[15] = 4;
  CHECK(dx == want);

  static constexpr auto x5 = ctnn::input<"x", ctnn::shape<1, 5, 5>>;
  std::array<double, 25> x25{};
  std::iota(x25.begin(), x25.end(), 1.0);
  using mp3 = decltype(ctnn::max_pool<3, stride<2>, padding<1>>(x5));
  static_assert(std::is_same_v<mp3::out_shape, ctnn::shape<1, 3, 3>>);
  std::array<double, 9> win3{};
  CHECK(run_forward<mp3>(x25.data(), {}, win3.data()) == std::vector<double>{7, 9, 10, 17, 19, 20, 22, 24, 25});
}

TEST_CASE("floor_mode and ceil_mode on 1..25 (5x5): 2x2/2 windows that do not tile it", "[conv][pool][known]") {
  static constexpr auto x5 = ctnn::input<"x", ctnn::shape<1, 5, 5>>;
  std::array<double, 25> x{};
  std::iota(x.begin(), x.end(), 1.0);
  // floor: the last row and column are left out; windows {0,1}, {2,3}.
  using conv = decltype(ctnn::conv2d<"c", 1, 2, stride<2>, ctnn::floor_mode, ctnn::no_bias>(x5));
  static_assert(std::is_same_v<conv::out_shape, ctnn::shape<1, 2, 2>>);
  std::array<double, 4> w{1, 1, 1, 1};
  std::vector<double> col(conv::spec::scratch_size);
  CHECK(run_forward<conv>(x.data(), {w.data()}, col.data()) == std::vector<double>{16, 24, 56, 64});
  // ceil: a third window {4} per axis, overhanging the input.
  using mp = decltype(ctnn::max_pool<2, ctnn::ceil_mode>(x5));
  static_assert(std::is_same_v<mp::out_shape, ctnn::shape<1, 3, 3>>);
  std::array<double, 9> win{};
  CHECK(run_forward<mp>(x.data(), {}, win.data()) == std::vector<double>{7, 9, 10, 17, 19, 20, 22, 24, 25});
  // The average divides by the positions inside the input: 4, 2 or 1.
  using ap = decltype(ctnn::avg_pool<2, ctnn::ceil_mode>(x5));
  CHECK(run_forward<ap>(x.data()) == std::vector<double>{4, 6, 7.5, 14, 16, 17.5, 21.5, 23.5, 25});
  // Backward of the average: the corner window's one input takes its whole gradient.
  const std::array<double, 9> dy{0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<double, 25> dx{};
  ctnn::backward_args<double> a;
  a.dout = dy.data();
  a.din[0] = dx.data();
  ap::spec::backward<1, ctnn::grad_mode::input(0)>(a);
  CHECK(dx[24] == 1.0);
  CHECK(std::accumulate(dx.begin(), dx.end(), 0.0) == 1.0);
}

// The reference networks' odd windows: ResNet's 7×7/2 p3 convolution and
// 3×3/2 p1 pool (floor, PyTorch), GoogLeNet's 3×3/2 pools (ceil, Caffe).
static_assert(std::is_same_v<decltype(ctnn::conv2d<"conv1", 64, 7, stride<2>, padding<3>, ctnn::floor_mode>(
                                 ctnn::input<"x", ctnn::shape<3, 224, 224>>))::out_shape,
                             ctnn::shape<64, 112, 112>>);
static_assert(std::is_same_v<decltype(ctnn::max_pool<3, stride<2>, padding<1>, ctnn::floor_mode>(
                                 ctnn::input<"x", ctnn::shape<64, 112, 112>>))::out_shape,
                             ctnn::shape<64, 56, 56>>);
static_assert(std::is_same_v<decltype(ctnn::max_pool<3, stride<2>, ctnn::ceil_mode>(
                                 ctnn::input<"x", ctnn::shape<64, 112, 112>>))::out_shape,
                             ctnn::shape<64, 56, 56>>);
static_assert(std::is_same_v<decltype(ctnn::max_pool<3, stride<2>, ctnn::ceil_mode>(
                                 ctnn::input<"x", ctnn::shape<480, 28, 28>>))::out_shape,
                             ctnn::shape<480, 14, 14>>);
// A ceil-mode window may not start in the trailing padding: 2×2/2 p1 on 3
// gives 2 windows, not ceil(3/2) + 1 = 3.
static_assert(ctnn::detail::window_out(3, 2, 1, 2, ctnn::window_rounding::ceil) == 2);
static_assert(ctnn::detail::window_out(5, 2, 0, 2, ctnn::window_rounding::ceil) == 3);
static_assert(ctnn::detail::window_out(5, 2, 0, 2, ctnn::window_rounding::floor) == 2);
static_assert(!ctnn::detail::window_fits(5, 2, 0, 2) && ctnn::detail::window_fits(5, 2, 0, 2, ctnn::window_rounding::floor));
static_assert(!ctnn::detail::window_fits(1, 3, 0, 1, ctnn::window_rounding::floor));  // larger than the input

TEST_CASE("global_avg_pool, flatten and concat", "[pool][concat][known]") {
  static constexpr auto a = ctnn::input<"a", ctnn::shape<2, 1, 2>>;
  static constexpr auto b = ctnn::input<"b", ctnn::shape<1, 1, 2>>;
  const std::array<double, 4> xa{1, 3, 10, 20};
  using gap = decltype(ctnn::global_avg_pool(a));
  static_assert(std::is_same_v<gap::out_shape, ctnn::shape<2>>);
  CHECK(run_forward<gap>(xa.data()) == std::vector<double>{2, 15});
  using fl = decltype(ctnn::flatten(a));
  static_assert(std::is_same_v<fl::out_shape, ctnn::shape<4>>);
  CHECK(run_forward<fl>(xa.data()) == std::vector<double>{1, 3, 10, 20});

  using cat = decltype(ctnn::concat(a, b));
  static_assert(std::is_same_v<cat::out_shape, ctnn::shape<3, 1, 2>>);
  // Batch of two: each sample's output is a's block, then b's.
  const std::array<double, 8> xa2{1, 2, 3, 4, 5, 6, 7, 8};
  const std::array<double, 4> xb2{-1, -2, -3, -4};
  std::vector<double> out(12);
  ctnn::forward_args<double> f;
  f.in = {xa2.data(), xb2.data()};
  f.out = out.data();
  cat::spec::forward<2>(f);
  CHECK(out == std::vector<double>{1, 2, 3, 4, -1, -2, 5, 6, 7, 8, -3, -4});
  // Backward splits the gradient the same way; b's part accumulates.
  std::array<double, 8> da{};
  std::array<double, 4> db{1, 1, 1, 1};
  ctnn::backward_args<double> g;
  g.dout = out.data();
  g.din = {da.data(), db.data()};
  cat::spec::backward<2, ctnn::grad_mode::input(0) | ctnn::grad_mode::input(1) | ctnn::grad_mode::input_accumulate(1)>(g);
  CHECK(da == xa2);
  CHECK(db == std::array<double, 4>{0, -1, -2, -3});
}
