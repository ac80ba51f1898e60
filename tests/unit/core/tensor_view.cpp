// tensor_view: row-major element access, assignment from nested lists and
// ranges (sizes checked before anything is written), const views, std
// algorithms and spans; what model::param and model::grad return; and the
// xtensor adaptor of <ctnn/xtensor.hpp> over the same memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <numeric>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <ctnn/core/tensor_view.hpp>
#include <ctnn/ops/dense.hpp>
#include <ctnn/ops/io.hpp>
#include <ctnn/ops/variable.hpp>
#include <ctnn/train/model.hpp>
#include <ctnn/xtensor.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

using Catch::Detail::Approx;
using Catch::Matchers::Equals;
using ctnn::tensor_view;

namespace {
template <class V, class R>
concept assignable_from = requires(V v, R r) { v = r; };

static_assert(std::ranges::contiguous_range<tensor_view<float, 2>>);
static_assert(std::ranges::sized_range<tensor_view<float, 2>>);
static_assert(std::ranges::borrowed_range<tensor_view<float, 2>>);
static_assert(std::is_trivially_copy_constructible_v<tensor_view<float, 2>>);
// A view of const float converts from a view of float, not the other way.
static_assert(std::is_convertible_v<tensor_view<float, 2>, tensor_view<const float, 2>>);
static_assert(!std::is_convertible_v<tensor_view<const float, 2>, tensor_view<float, 2>>);
// Only a view of non-const elements is written to.
static_assert(assignable_from<tensor_view<float, 1>&, std::vector<float>>);
static_assert(!assignable_from<tensor_view<const float, 1>&, std::vector<float>>);
static_assert(std::is_same_v<decltype(std::declval<const tensor_view<float, 2>&>()(0, 0)), const float&>);
static_assert(std::is_same_v<decltype(std::declval<tensor_view<float, 2>&>()(0, 0)), float&>);
// Spans take it as a range.
static_assert(std::is_convertible_v<tensor_view<float, 2>, std::span<float>>);
static_assert(std::is_convertible_v<tensor_view<float, 2>, std::span<const float>>);
static_assert(!std::is_convertible_v<tensor_view<const float, 2>, std::span<float>>);

inline constexpr auto x = ctnn::variable<"x", ctnn::shape<2>>;
inline constexpr auto f = ctnn::dense<"w", 1>(x);  // a root gives one value per sample
using net = decltype(ctnn::network(f));
}  // namespace

TEST_CASE("tensor_view: elements are row-major, in access and in iteration", "[core][tensor_view]") {
  std::array<float, 24> data{};
  std::iota(data.begin(), data.end(), 0.0f);
  tensor_view<float, 3> v(data.data(), {2, 3, 4});
  CHECK(v.size() == 24);
  CHECK(v.shape() == std::array<std::size_t, 3>{2, 3, 4});
  CHECK(v.shape(1) == 3);
  CHECK(v(0, 0, 0) == 0.0f);
  CHECK(v(0, 0, 3) == 3.0f);
  CHECK(v(0, 1, 0) == 4.0f);
  CHECK(v(1, 0, 0) == 12.0f);
  CHECK(v(1, 2, 3) == 23.0f);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) CHECK(&v(i, j, k) == &v[(i * 3 + j) * 4 + k]);
  CHECK(v.data() == data.data());
  CHECK(std::equal(v.begin(), v.end(), data.begin(), data.end()));
  CHECK(std::accumulate(v.begin(), v.end(), 0.0f) == 276.0f);
  CHECK(*std::max_element(v.begin(), v.end()) == 23.0f);
  v(1, 1, 1) = -5.0f;
  CHECK(data[17] == -5.0f);

  const std::span<float> s = v;
  CHECK(s.data() == data.data());
  CHECK(s.size() == 24);
  CHECK(v.span().size() == 24);
}

TEST_CASE("tensor_view: nested initializer lists are written row by row", "[core][tensor_view]") {
  std::array<double, 6> data{};
  tensor_view<double, 2> w(data.data(), {3, 2});
  w = {{1.0, 0.5}, {0.2, 1.2}, {1.2, 0.1}};
  CHECK(data == std::array<double, 6>{1.0, 0.5, 0.2, 1.2, 1.2, 0.1});
  CHECK(w(2, 0) == 1.2);

  tensor_view<double, 1> b(data.data(), {6});
  b = {6, 5, 4, 3, 2, 1};
  CHECK(data == std::array<double, 6>{6, 5, 4, 3, 2, 1});
  b.fill(0.25);
  CHECK(std::all_of(data.begin(), data.end(), [](double d) { return d == 0.25; }));
}

TEST_CASE("tensor_view: ranges and other views are copied element by element", "[core][tensor_view]") {
  std::array<float, 6> a{}, b{1, 2, 3, 4, 5, 6};
  tensor_view<float, 2> va(a.data(), {2, 3});
  const tensor_view<float, 2> vb(b.data(), {2, 3});
  va = vb;  // the elements, not the pointer
  CHECK(va.data() == a.data());
  CHECK(a == b);
  va = std::vector<double>{6, 5, 4, 3, 2, 1};
  CHECK(a == std::array<float, 6>{6, 5, 4, 3, 2, 1});
  // A view of another shape with as many elements: the flat order.
  std::array<float, 6> c{};
  tensor_view<float, 1>(c.data(), {6}) = va;
  CHECK(c == a);
  // Read-only views read.
  const tensor_view<const float, 2> r = va;
  CHECK(r(1, 2) == 1.0f);
  CHECK(std::ranges::equal(std::span<const float>(r), a));
}

TEST_CASE("tensor_view: a size mismatch throws and writes nothing", "[core][tensor_view]") {
  std::array<float, 6> data{1, 2, 3, 4, 5, 6};
  const std::array<float, 6> before = data;
  tensor_view<float, 2> w(data.data(), {2, 3});
  CHECK_THROWS_AS((w = std::vector<float>(5, 9.0f)), std::invalid_argument);
  CHECK_THROWS_WITH((w = std::vector<float>(5, 9.0f)),
                    Equals("ctnn::tensor_view: cannot assign 5 values to a view of shape {2, 3} (6 elements)"));
  CHECK_THROWS_WITH((w = {{9.0f, 9.0f}, {9.0f, 9.0f}, {9.0f, 9.0f}}),
                    Equals("ctnn::tensor_view: cannot assign a nested list with 3 items on axis 0 to a view of "
                           "shape {2, 3} (it needs 2)"));
  // The second row is short: the first is not written either.
  CHECK_THROWS_WITH((w = {{9.0f, 9.0f, 9.0f}, {9.0f, 9.0f}}),
                    Equals("ctnn::tensor_view: cannot assign a nested list with 2 items on axis 1 to a view of "
                           "shape {2, 3} (it needs 3)"));
  std::array<float, 4> four{};
  CHECK_THROWS_WITH((w = tensor_view<float, 2>(four.data(), {2, 2})),
                    Equals("ctnn::tensor_view: cannot assign 4 values to a view of shape {2, 3} (6 elements)"));
  CHECK(data == before);
}

TEST_CASE("tensor_view: as_xtensor is an xtensor expression over the same memory", "[core][tensor_view][xtensor]") {
  std::array<double, 6> data{};
  tensor_view<double, 2> w(data.data(), {3, 2});
  auto x = ctnn::as_xtensor(w);
  STATIC_REQUIRE(decltype(x)::rank == 2);
  CHECK(x.shape()[0] == 3);
  CHECK(x.shape()[1] == 2);
  ctnn::as_xtensor(w) = xt::xtensor<double, 2>{{1, 2}, {3, 4}, {5, 6}};
  CHECK(data == std::array<double, 6>{1, 2, 3, 4, 5, 6});
  CHECK(w(2, 1) == 6.0);
  w(0, 1) = -2;  // and back: the adaptor sees what the view writes
  CHECK(x(0, 1) == -2.0);
  CHECK(xt::sum(ctnn::as_xtensor(w))() == 17.0);  // 1 - 2 + 3 + 4 + 5 + 6
  const xt::xtensor<double, 2> twice = 2.0 * ctnn::as_xtensor(tensor_view<const double, 2>(w));
  CHECK(twice(2, 0) == 10.0);
}

TEST_CASE("tensor_view: model::param and model::grad are views of the model's buffers", "[core][tensor_view]") {
  ctnn::model<net, 1, double> m;
  auto w = m.param<"w.weight">();
  STATIC_REQUIRE(std::is_same_v<decltype(w), tensor_view<double, 2>>);
  STATIC_REQUIRE(std::is_same_v<decltype(m.grad<"w.bias">()), tensor_view<double, 1>>);
  const auto& cm = m;
  STATIC_REQUIRE(std::is_same_v<decltype(cm.param<"w.weight">()), tensor_view<const double, 2>>);
  STATIC_REQUIRE(std::is_same_v<decltype(cm.grad<"x">()), tensor_view<const double, 1>>);
  CHECK(w.shape() == std::array<std::size_t, 2>{2, 1});
  w = {{2}, {-3}};
  const auto flat = m.param_span("w.weight");
  CHECK(std::vector<double>(flat.begin(), flat.end()) == std::vector<double>{2, -3});
  CHECK(cm.param<"w.weight">()(1, 0) == -3.0);
  m.param<"x">() = {1.0, -1.0};
  m.param<"w.bias">() = {0.5};
  CHECK(m.forward_backward() == Approx(2.0 + 3.0 + 0.5));
  CHECK(cm.grad<"x">()(0) == 2.0);
  CHECK(cm.grad<"x">()(1) == -3.0);
  CHECK_THROWS_WITH((m.param<"x">() = {1.0, 2.0, 3.0}),
                    Equals("ctnn::tensor_view: cannot assign a nested list with 3 items on axis 0 to a view of "
                           "shape {2} (it needs 2)"));
}
