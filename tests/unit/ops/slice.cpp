// slice and chunk by hand: the rows they copy, and a backward that writes
// zeros outside its rows or adds only inside them.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>

#include <ctnn/ctnn.hpp>

namespace {
inline constexpr auto v = ctnn::input<"v", ctnn::shape<6>>;
inline constexpr auto image = ctnn::input<"image", ctnn::shape<3, 2, 2>>;
using flat = decltype(ctnn::slice<2, 5>(v))::spec;
}  // namespace

static_assert(std::is_same_v<decltype(ctnn::slice<2, 5>(v))::out_shape, ctnn::shape<3>>);
static_assert(std::is_same_v<decltype(ctnn::slice<1, 3>(image))::out_shape, ctnn::shape<2, 2, 2>>);
static_assert(std::is_same_v<decltype(ctnn::chunk<2, 3>(v))::out_shape, ctnn::shape<2>>);
static_assert(std::is_same_v<decltype(ctnn::chunk<1, 3>(v)), decltype(ctnn::slice<2, 4>(v))>);  // the same node
static_assert(flat::offset == 2 && flat::length == 3);

TEST_CASE("slice: forward copies each sample's rows", "[slice][known]") {
  // Two samples of [3, 2, 2]: channel c of sample b holds 10·b + c in all four positions.
  std::array<double, 24> x{};
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < 4; ++p) x[b * 12 + c * 4 + p] = 10.0 * b + c;
  std::array<double, 16> y{};
  ctnn::forward_args<double> a;
  a.in[0] = x.data();
  a.out = y.data();
  decltype(ctnn::slice<1, 3>(image))::spec::forward<2>(a);
  const std::array<double, 16> expected{1, 1, 1, 1, 2, 2, 2, 2, 11, 11, 11, 11, 12, 12, 12, 12};
  CHECK(y == expected);
}

TEST_CASE("slice: backward writes zeros elsewhere, or adds only to its rows", "[slice][known]") {
  const std::array<double, 6> dy{1, 2, 3, 4, 5, 6};  // two samples of three rows
  std::array<double, 12> dx{};
  dx.fill(NAN);  // a reused buffer: whatever was there must not survive a write
  ctnn::backward_args<double> a;
  a.dout = dy.data();
  a.din[0] = dx.data();
  namespace gm = ctnn::grad_mode;
  flat::backward<2, gm::input(0)>(a);
  CHECK(dx == std::array<double, 12>{0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0});
  dx.fill(1);
  flat::backward<2, gm::input(0) | gm::input_accumulate(0)>(a);
  CHECK(dx == std::array<double, 12>{1, 1, 2, 3, 4, 1, 1, 1, 5, 6, 7, 1});
}
