// constant and the broadcasts by hand: a constant's values in every sample,
// per-channel and per-feature broadcasts forward, and their backward sums.
#include <catch2/catch.hpp>

#include <array>

#include <ctnn/ctnn.hpp>

namespace {
namespace shifted {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 2>>;
using net = decltype(ctnn::network(ctnn::outputs(
    ctnn::add(x, ctnn::constant<"eye", ctnn::shape<2, 2>, 1, 0, 0, 1>), ctnn::constant<"half", ctnn::shape<3>, 0.5>)));
}  // namespace shifted
inline constexpr auto image = ctnn::input<"image", ctnn::shape<2, 1, 3>>;
inline constexpr auto channel = ctnn::input<"channel", ctnn::shape<2>>;
inline constexpr auto seq = ctnn::input<"seq", ctnn::shape<2, 3>>;
inline constexpr auto feature = ctnn::input<"feature", ctnn::shape<3>>;
}  // namespace

static_assert(shifted::net::leaf_count == 1);
static_assert(shifted::net::param_count == 0);
static_assert(decltype(ctnn::broadcast_add(image, channel))::spec::kind == "broadcast_add");
static_assert(std::is_same_v<decltype(ctnn::broadcast_multiply(seq, feature))::out_shape, ctnn::shape<2, 3>>);

TEST_CASE("constant: its values in every sample", "[constant][known]") {
  ctnn::model<shifted::net, 2, double> m;
  const std::array<double, 8> x{1, 2, 3, 4, 5, 6, 7, 8};
  const auto y = m.predict<0>(ctnn::feed<"x">(x));
  CHECK(std::vector<double>(y.begin(), y.end()) == std::vector<double>{2, 2, 3, 5, 6, 6, 7, 9});
  const auto h = m.predict<1>();  // reads no input
  CHECK(std::vector<double>(h.begin(), h.end()) == std::vector<double>(6, 0.5));
}

TEST_CASE("broadcast per channel of [2, 1, 3]: forward and backward", "[broadcast][known]") {
  using add = decltype(ctnn::broadcast_add(image, channel))::spec;
  using mul = decltype(ctnn::broadcast_multiply(image, channel))::spec;
  const std::array<double, 6> x{1, 2, 3, 4, 5, 6};
  const std::array<double, 2> v{10, -1};
  std::array<double, 6> y{};
  ctnn::forward_args<double> f;
  f.in = {x.data(), v.data()};
  f.out = y.data();
  add::forward<1>(f);
  CHECK(y == std::array<double, 6>{11, 12, 13, 3, 4, 5});
  mul::forward<1>(f);
  CHECK(y == std::array<double, 6>{10, 20, 30, -4, -5, -6});

  const std::array<double, 6> dy{1, 1, 2, 0, 1, -1};
  std::array<double, 6> dx{};
  std::array<double, 2> dv{};
  ctnn::backward_args<double> a;
  a.in = {x.data(), v.data()};
  a.dout = dy.data();
  a.din = {dx.data(), dv.data()};
  namespace gm = ctnn::grad_mode;
  constexpr unsigned write = gm::input(0) | gm::input(1);
  mul::backward<1, write>(a);
  CHECK(dx == std::array<double, 6>{10, 10, 20, 0, -1, 1});
  CHECK(dv == std::array<double, 2>{1 + 2 + 6, 5 - 6});  // Σ dy·x per channel
  add::backward<1, write | gm::input_accumulate(1)>(a);
  CHECK(dx == dy);
  CHECK(dv == std::array<double, 2>{9 + 4, -1 + 0});  // adds Σ dy
}

TEST_CASE("broadcast per feature of [2, 3]: forward and backward", "[broadcast][known]") {
  using mul = decltype(ctnn::broadcast_multiply(seq, feature))::spec;
  const std::array<double, 6> x{1, 2, 3, 4, 5, 6};
  const std::array<double, 3> v{2, 0, -1};
  std::array<double, 6> y{};
  ctnn::forward_args<double> f;
  f.in = {x.data(), v.data()};
  f.out = y.data();
  mul::forward<1>(f);
  CHECK(y == std::array<double, 6>{2, 0, -3, 8, 0, -6});

  const std::array<double, 6> dy{1, 2, 3, -1, 1, 0};
  std::array<double, 6> dx{};
  std::array<double, 3> dv{};
  dv.fill(7);  // written over, not added to
  ctnn::backward_args<double> a;
  a.in = {x.data(), v.data()};
  a.dout = dy.data();
  a.din = {dx.data(), dv.data()};
  namespace gm = ctnn::grad_mode;
  mul::backward<1, gm::input(0) | gm::input(1)>(a);
  CHECK(dx == std::array<double, 6>{2, 0, -3, -2, 0, 0});
  CHECK(dv == std::array<double, 3>{1 - 4, 4 + 5, 9 + 0});  // Σ over steps of dy·x
}
