// dense_transposed by hand: y = x·Wᵀ + b with W the [3, 2] weight of a dense
// layer from 3 to 2 features, and its backward products, written and added.
#include <catch2/catch.hpp>

#include <array>

#include <ctnn/ctnn.hpp>

namespace {
inline constexpr auto h = ctnn::input<"h", ctnn::shape<2>>;
using node = decltype(ctnn::dense_transposed<"dec", "enc.weight", 3>(h));
using spec = node::spec;
}  // namespace

static_assert(std::is_same_v<node::out_shape, ctnn::shape<3>>);
static_assert(spec::params.size() == 2);
static_assert(spec::params[0].name == "enc.weight" && spec::params[0].shape.size() == 6);
static_assert(spec::params[0].shape.dims[0] == 3 && spec::params[0].shape.dims[1] == 2);  // the owner's [in, out]
static_assert(spec::params[1].name == "dec.bias" && !spec::params[1].regularize);
static_assert(decltype(ctnn::dense_transposed<"dec", "enc.weight", 3, ctnn::no_bias>(h))::spec::params.size() == 1);

TEST_CASE("dense_transposed: forward and backward by hand", "[dense_transposed][known]") {
  const std::array<double, 6> w{1, 2, 3, 4, 5, 6};  // rows: the owner's inputs
  const std::array<double, 3> b{0.5, 0, -0.5};
  const std::array<double, 2> x{1, -1};
  std::array<double, 3> y{};
  ctnn::forward_args<double> f;
  f.in[0] = x.data();
  f.out = y.data();
  f.param = {const_cast<double*>(w.data()), const_cast<double*>(b.data())};
  spec::forward<1>(f);
  CHECK(y == std::array<double, 3>{-0.5, -1, -1.5});

  const std::array<double, 3> dy{1, 2, 3};
  std::array<double, 2> dx{};
  std::array<double, 6> dw{};
  std::array<double, 3> db{};
  ctnn::backward_args<double> a;
  a.in[0] = x.data();
  a.out = y.data();
  a.dout = dy.data();
  a.din[0] = dx.data();
  a.param = {w.data(), b.data()};
  a.dparam = {dw.data(), db.data()};
  namespace gm = ctnn::grad_mode;
  constexpr unsigned write = gm::input(0) | gm::param(0) | gm::param(1);
  spec::backward<1, write>(a);
  CHECK(dx == std::array<double, 2>{22, 28});
  CHECK(dw == std::array<double, 6>{1, -1, 2, -2, 3, -3});
  CHECK(db == dy);
  constexpr unsigned add = write | gm::input_accumulate(0) | gm::param_accumulate(0) | gm::param_accumulate(1);
  spec::backward<1, add>(a);
  CHECK(dx == std::array<double, 2>{44, 56});
  CHECK(dw == std::array<double, 6>{2, -2, 4, -4, 6, -6});
  CHECK(db == std::array<double, 3>{2, 4, 6});
}
