// affine_grid and bilinear_sampler: worked values, the identity theta giving
// back the image bit for bit, the writing and the adding backward, central
// differences in double for theta, the image and the grid (inputs with
// requires_grad, and a localization layer's parameters through gc::check),
// and PyTorch's F.affine_grid / F.grid_sample (align_corners=False, zeros
// outside) on the data of tests/data/spatial_reference.npz (written by
// make_spatial_reference.py next to it): values and gradients to 1e-10 in
// double, 2e-5 in float. Training steps and predictions through both ops
// make no heap allocation (this executable counts every operator new).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../../gradcheck/support.hpp"
#include "../../support/count_allocations.hpp"
#include "../../support/reference_data.hpp"

using Catch::Detail::Approx;

namespace {

constexpr std::size_t B = 3, C = 2, Hin = 5, Win = 6, H = 4, W = 7;

std::vector<double> array(const std::string& name) { return ctnn_test::reference_array("spatial_reference.npz", name); }
using ctnn_test::as;
using ctnn_test::deviation;

namespace nets {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<C, Hin, Win>, ctnn::requires_grad>;
inline constexpr auto theta = ctnn::input<"theta", ctnn::shape<6>, ctnn::requires_grad>;
inline constexpr auto grid_in = ctnn::input<"grid", ctnn::shape<H, W, 2>, ctnn::requires_grad>;
inline constexpr auto target = ctnn::input<"t", ctnn::shape<C, H, W>>;

inline constexpr auto grid = ctnn::affine_grid<H, W>(theta);
inline constexpr auto affine_y = ctnn::bilinear_sampler(image, ctnn::ref<grid>);
using affine = decltype(ctnn::network(ctnn::squared_error(ctnn::ref<affine_y>, target),
                                      ctnn::outputs(ctnn::ref<affine_y>, ctnn::ref<grid>)));

inline constexpr auto grid_y = ctnn::bilinear_sampler(image, grid_in);
using given_grid = decltype(ctnn::network(ctnn::squared_error(ctnn::ref<grid_y>, target), ctnn::outputs(ctnn::ref<grid_y>)));

// A spatial transformer in small: theta from a dense layer on the image.
inline constexpr auto flat_image = ctnn::input<"image", ctnn::shape<1, Hin, Win>>;
inline constexpr auto class_t = ctnn::input<"t", ctnn::shape<5>>;
inline constexpr auto loc_theta = ctnn::dense<"loc", 6>(ctnn::flatten(flat_image));
using localized = decltype(ctnn::network(ctnn::squared_error(
    ctnn::dense<"head", 5>(ctnn::flatten(ctnn::bilinear_sampler(flat_image, ctnn::affine_grid<H, W>(loc_theta)))),
    class_t)));

template <std::size_t Side, std::size_t Channels>
inline constexpr auto square = ctnn::input<"image", ctnn::shape<Channels, Side, Side>>;
template <std::size_t Side, std::size_t Channels>
using identity = decltype(ctnn::network(ctnn::outputs(ctnn::bilinear_sampler(
    square<Side, Channels>, ctnn::affine_grid<Side, Side>(ctnn::constant<"id", ctnn::shape<6>, 1, 0, 0, 0, 1, 0>)))));
}  // namespace nets

// L's derivative by central differences in each element of `x`, against `analytic`.
template <class Loss>
double worst_central_difference(std::vector<double> x, std::span<const double> analytic, Loss&& loss) {
  REQUIRE(x.size() == analytic.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + gc::step;
    const double up = loss(x);
    x[i] = keep - gc::step;
    const double down = loss(x);
    x[i] = keep;
    const double numeric = (up - down) / (2 * gc::step);
    const double scale = std::max({std::abs(numeric), std::abs(analytic[i]), gc::relative_floor});
    worst = std::max(worst, std::abs(numeric - analytic[i]) / scale);
  }
  return worst;
}

template <class T>
void compare_affine(double bound) {
  INFO((sizeof(T) == 8 ? "double" : "float"));
  ctnn::model<nets::affine, B, T> m;
  const auto image = as<T>(array("affine.image")), theta = as<T>(array("affine.theta")),
             t = as<T>(array("affine.target"));
  const T loss = m.forward(ctnn::feed<"image">(image), ctnn::feed<"theta">(theta), ctnn::feed<"t">(t));
  m.backward();
  const double ref_loss = array("affine.loss")[0];
  CHECK(std::abs(double(loss) - ref_loss) <= bound * std::max(1.0, std::abs(ref_loss)));
  CHECK(deviation<T>(m.template input_grad<"image">(), array("affine.dimage")) <= bound);
  CHECK(deviation<T>(m.template input_grad<"theta">(), array("affine.dtheta")) <= bound);
  CHECK(deviation<T>(m.template predict<0>(ctnn::feed<"image">(image), ctnn::feed<"theta">(theta)),
                     array("affine.output")) <= bound);
  CHECK(deviation<T>(m.template predict<1>(ctnn::feed<"theta">(theta)), array("affine.grid")) <= bound);
}

template <class T>
void compare_grid(double bound) {
  INFO((sizeof(T) == 8 ? "double" : "float"));
  ctnn::model<nets::given_grid, B, T> m;
  const auto image = as<T>(array("grid.image")), grid = as<T>(array("grid.grid")), t = as<T>(array("grid.target"));
  const T loss = m.forward(ctnn::feed<"image">(image), ctnn::feed<"grid">(grid), ctnn::feed<"t">(t));
  m.backward();
  const double ref_loss = array("grid.loss")[0];
  CHECK(std::abs(double(loss) - ref_loss) <= bound * std::max(1.0, std::abs(ref_loss)));
  CHECK(deviation<T>(m.template input_grad<"image">(), array("grid.dimage")) <= bound);
  CHECK(deviation<T>(m.template input_grad<"grid">(), array("grid.dgrid")) <= bound);
  CHECK(deviation<T>(m.predict(ctnn::feed<"image">(image), ctnn::feed<"grid">(grid)), array("grid.output")) <= bound);
}

}  // namespace

TEST_CASE("spatial transformer: shapes and the op contract", "[spatial]") {
  using grid_spec = ctnn::affine_grid_op<4, 7>::spec<ctnn::shape<6>>;
  STATIC_REQUIRE(std::is_same_v<grid_spec::out_shape, ctnn::shape<4, 7, 2>>);
  STATIC_REQUIRE(std::is_same_v<ctnn::affine_grid_op<3, 3>::spec<ctnn::shape<2, 3>>::out_shape, ctnn::shape<3, 3, 2>>);
  using sampler_spec = ctnn::bilinear_sampler_op::spec<ctnn::shape<2, 5, 6>, ctnn::shape<4, 7, 2>>;
  STATIC_REQUIRE(std::is_same_v<sampler_spec::out_shape, ctnn::shape<2, 4, 7>>);
  STATIC_REQUIRE(ctnn::op<ctnn::affine_grid_op<4, 7>, ctnn::shape<6>>);
  STATIC_REQUIRE(ctnn::op<ctnn::bilinear_sampler_op, ctnn::shape<2, 5, 6>, ctnn::shape<4, 7, 2>>);
  STATIC_REQUIRE(nets::affine::param_count == 0);
  STATIC_REQUIRE(nets::localized::param_count == (Hin * Win * 6 + 6) + (H * W * 5 + 5));
}

TEST_CASE("spatial transformer: worked values on a 2x2 image", "[spatial]") {
  // Pixels 1 2 / 3 4; centres at ±0.5 in normalized coordinates.
  using S = ctnn::bilinear_sampler_op::spec<ctnn::shape<1, 2, 2>, ctnn::shape<1, 5, 2>>;
  const double image[4] = {1, 2, 3, 4};
  const double grid[10] = {0, 0,  -0.5, -0.5,  0.5, 0.5,  -1, -1,  0.25, -0.5};
  double out[5];
  ctnn::forward_args<double> a;
  a.in = {image, grid};
  a.out = out;
  S::forward<1, double>(a);
  CHECK(out[0] == 2.5);                   // the middle: the mean of all four
  CHECK(out[1] == 1);                     // pixel (0, 0)'s centre
  CHECK(out[2] == 4);                     // pixel (1, 1)'s centre
  CHECK(out[3] == 0.25);                  // the corner: a quarter of pixel (0, 0), the rest outside
  CHECK(out[4] == Approx(1.75));          // row 0, three quarters of the way from 1 to 2

  // A 90° rotation, theta = [0 -1 0; 1 0 0]: grid point (i, j) is (-y_i, x_j),
  // with the pixel centres x_j, y_i = ∓0.5.
  using G = ctnn::affine_grid_op<2, 2>::spec<ctnn::shape<6>>;
  const double theta[6] = {0, -1, 0, 1, 0, 0};
  double g[8];
  ctnn::forward_args<double> ga;
  ga.in = {theta};
  ga.out = g;
  G::forward<1, double>(ga);
  const double expected[8] = {0.5, -0.5, 0.5, 0.5, -0.5, -0.5, -0.5, 0.5};
  for (int k = 0; k < 8; ++k) CHECK(g[k] == expected[k]);
}

TEST_CASE("spatial transformer: the identity theta gives back the image exactly", "[spatial]") {
  gc::rng r(5);
  auto run = [&]<std::size_t Side, std::size_t Channels, class T>() {
    INFO("side " << Side << ", channels " << Channels << (sizeof(T) == 8 ? ", double" : ", float"));
    ctnn::model<nets::identity<Side, Channels>, 2, T> m;
    std::vector<T> x(2 * Channels * Side * Side);
    for (T& v : x) v = T(r.uniform(-3, 3));
    const auto y = m.predict(ctnn::feed<"image">(x));
    REQUIRE(y.size() == x.size());
    CHECK(std::equal(y.begin(), y.end(), x.begin()));
  };
  run.template operator()<28, 1, float>();
  run.template operator()<28, 3, double>();
  run.template operator()<40, 1, float>();
  run.template operator()<5, 2, float>();
  run.template operator()<101, 1, float>();
}

TEST_CASE("spatial transformer: the adding backward is the writing one plus what was there", "[spatial]") {
  using S = ctnn::bilinear_sampler_op::spec<ctnn::shape<C, Hin, Win>, ctnn::shape<H, W, 2>>;
  using G = ctnn::affine_grid_op<H, W>::spec<ctnn::shape<6>>;
  constexpr std::size_t n_img = C * Hin * Win, n_grid = H * W * 2, n_out = C * H * W;
  gc::rng r(7);
  std::vector<double> image(2 * n_img), grid(2 * n_grid), dout(2 * n_out), theta(12);
  for (double& v : image) v = r.uniform(-1, 1);
  for (double& v : grid) v = r.uniform(-1.2, 1.2);
  for (double& v : dout) v = r.uniform(-1, 1);
  for (double& v : theta) v = r.uniform(-1, 1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  using namespace ctnn::grad_mode;

  std::vector<double> di_w(2 * n_img, nan), dg_w(2 * n_grid, nan), di_a(2 * n_img, 1.0), dg_a(2 * n_grid, 1.0);
  ctnn::backward_args<double> a;
  a.in = {image.data(), grid.data()};
  a.dout = dout.data();
  a.din = {di_w.data(), dg_w.data()};
  S::backward<2, input(0) | input(1), double>(a);
  a.din = {di_a.data(), dg_a.data()};
  S::backward<2, input(0) | input(1) | input_accumulate(0) | input_accumulate(1), double>(a);
  for (std::size_t i = 0; i < di_w.size(); ++i) REQUIRE(di_a[i] == Approx(di_w[i] + 1).epsilon(1e-12));
  for (std::size_t i = 0; i < dg_w.size(); ++i) REQUIRE(dg_a[i] == Approx(dg_w[i] + 1).epsilon(1e-12));
  // Only the grid's gradient asked for: the image's buffer is not touched.
  std::vector<double> untouched(2 * n_img, nan), dg_only(2 * n_grid, nan);
  a.din = {untouched.data(), dg_only.data()};
  S::backward<2, input(1), double>(a);
  CHECK(std::all_of(untouched.begin(), untouched.end(), [](double v) { return std::isnan(v); }));
  CHECK(dg_only == dg_w);

  std::vector<double> dt_w(12, nan), dt_a(12, 1.0);
  ctnn::backward_args<double> ga;
  ga.in = {theta.data()};
  ga.dout = grid.data();  // any upstream gradient
  ga.din = {dt_w.data()};
  G::backward<2, input(0), double>(ga);
  ga.din = {dt_a.data()};
  G::backward<2, input(0) | input_accumulate(0), double>(ga);
  for (std::size_t i = 0; i < 12; ++i) REQUIRE(dt_a[i] == Approx(dt_w[i] + 1).epsilon(1e-12));
}

TEST_CASE("spatial transformer: central differences in double for theta, the image and the grid", "[spatial][gradcheck]") {
  // PyTorch's data: rotated, scaled, shifted thetas and grid points partly
  // outside the image. Random points lie ~1e-3 pixels or more from the
  // interpolation's kinks at whole pixel positions, far beyond the step.
  const auto image = array("affine.image"), theta = array("affine.theta"), t = array("affine.target");
  const auto grid = array("grid.grid"), t_grid = array("grid.target"), image2 = array("grid.image");
  {
    ctnn::model<nets::affine, B, double> m;
    m.forward(ctnn::feed<"image">(image), ctnn::feed<"theta">(theta), ctnn::feed<"t">(t));
    m.backward();
    const auto dimage = m.input_grad<"image">();
    const std::vector<double> di(dimage.begin(), dimage.end());
    const auto dtheta = m.input_grad<"theta">();
    const std::vector<double> dt(dtheta.begin(), dtheta.end());
    const double e_theta = worst_central_difference(theta, dt, [&](const std::vector<double>& v) {
      return m.forward(ctnn::feed<"image">(image), ctnn::feed<"theta">(v), ctnn::feed<"t">(t));
    });
    const double e_image = worst_central_difference(image, di, [&](const std::vector<double>& v) {
      return m.forward(ctnn::feed<"image">(v), ctnn::feed<"theta">(theta), ctnn::feed<"t">(t));
    });
    INFO("theta " << e_theta << ", image " << e_image);
    CHECK(e_theta < 1e-6);
    CHECK(e_image < 1e-6);
  }
  {
    ctnn::model<nets::given_grid, B, double> m;
    m.forward(ctnn::feed<"image">(image2), ctnn::feed<"grid">(grid), ctnn::feed<"t">(t_grid));
    m.backward();
    const auto dgrid = m.input_grad<"grid">();
    const std::vector<double> dg(dgrid.begin(), dgrid.end());
    const double e_grid = worst_central_difference(grid, dg, [&](const std::vector<double>& v) {
      return m.forward(ctnn::feed<"image">(image2), ctnn::feed<"grid">(v), ctnn::feed<"t">(t_grid));
    });
    INFO("grid " << e_grid);
    CHECK(e_grid < 1e-6);
  }
  {
    // The localization layer's and the head's parameters through the transformer.
    gc::rng r(3);
    const auto x = r.uniform_array<gc::B * Hin * Win>(0, 1);
    const auto target = r.uniform_array<gc::B * 5>(-1, 1);
    ctnn::model<nets::localized, gc::B, double> m;
    gc::randomize(m, 4, 0.2);
    auto bias = m.param_span("loc.bias");  // near the identity, so the image stays mostly in view
    const double identity[6] = {1, 0, 0, 0, 1, 0};
    for (std::size_t k = 0; k < 6; ++k) bias[k] += identity[k];
    GC_REQUIRE_BELOW(gc::check("dense -> affine_grid -> bilinear_sampler", m, ctnn::feed<"image">(x),
                               ctnn::feed<"t">(target)),
                     1e-6);
  }
}

TEST_CASE("spatial transformer: PyTorch's F.affine_grid and F.grid_sample", "[spatial][pytorch]") {
  compare_affine<double>(1e-10);
  compare_affine<float>(2e-5);
  compare_grid<double>(1e-10);
  compare_grid<float>(2e-5);
}

TEST_CASE("spatial transformer: no heap allocation in step and predict", "[spatial][alloc]") {
  ctnn::trainer<nets::localized, ctnn::batch<gc::B>, ctnn::optim::adam> t({.lr = 1e-3f}, 1);
  std::vector<float> x(gc::B * Hin * Win, 0.5f), target(gc::B * 5, 0.1f);
  ctnn::model<nets::affine, B, float> m;
  std::vector<float> image(B * C * Hin * Win, 0.5f), theta(B * 6, 0.3f);
  t.step(ctnn::feed<"image">(x), ctnn::feed<"t">(target));  // the first call may set up
  const long before = ctnn_test::allocations.load();
  for (int i = 0; i < 3; ++i) t.step(ctnn::feed<"image">(x), ctnn::feed<"t">(target));
  const auto y = m.predict<0>(ctnn::feed<"image">(image), ctnn::feed<"theta">(theta));
  CHECK(ctnn_test::allocations.load() == before);
  CHECK(y.size() == B * C * H * W);
}
