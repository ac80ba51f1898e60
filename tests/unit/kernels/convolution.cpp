// The convolution algorithms of kernels/convolution.hpp, which the static
// conv2d (every size a fixed<N>) and the runtime twin (every size a
// std::size_t) both call: each path against the definition computed one
// output at a time in double, the static and run-time spellings against each
// other, Winograd against im2col, and the path each batch takes.

#include <ctnn/kernels/convolution.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace {

namespace conv = ctnn::kernels::conv;
using ctnn::kernels::fixed;

struct sizes {
  std::size_t c, h, w, out, f, s, p, d, g;
  std::size_t ho() const { return (h + 2 * p - d * (f - 1) - 1) / s + 1; }
  std::size_t wo() const { return (w + 2 * p - d * (f - 1) - 1) / s + 1; }
  auto dynamic() const { return conv::make_geometry(c, h, w, out, f, s, p, d, g, ho(), wo()); }
};

std::vector<double> random_values(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(n);
  for (double& x : v) x = u(gen);
  return v;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// f(yi, xi, wi) for every output y[yi] and every filter tap w[wi] that
// falls inside the image, on x[xi]: the definition of a convolution,
// y[b][o][i][j] = Σ_{c in o's group, u, v} w[o][c][u][v] · x[b][c][i·s − p + u·d][j·s − p + v·d].
template <class F>
void each_tap(const sizes& z, std::size_t batch, F f) {
  const std::size_t cg = z.c / z.g, og = z.out / z.g, ho = z.ho(), wo = z.wo();
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t o = 0; o < z.out; ++o)
      for (std::size_t i = 0; i < ho; ++i)
        for (std::size_t j = 0; j < wo; ++j)
          for (std::size_t c = 0; c < cg; ++c)
            for (std::size_t u = 0; u < z.f; ++u)
              for (std::size_t v = 0; v < z.f; ++v) {
                const std::ptrdiff_t r = std::ptrdiff_t(i * z.s + u * z.d) - std::ptrdiff_t(z.p);
                const std::ptrdiff_t q = std::ptrdiff_t(j * z.s + v * z.d) - std::ptrdiff_t(z.p);
                if (r < 0 || q < 0 || r >= std::ptrdiff_t(z.h) || q >= std::ptrdiff_t(z.w)) continue;
                f(((b * z.out + o) * ho + i) * wo + j,
                  ((b * z.c + o / og * cg + c) * z.h + std::size_t(r)) * z.w + std::size_t(q),
                  ((o * cg + c) * z.f + u) * z.f + v);
              }
}

std::vector<double> reference_forward(const sizes& z, std::size_t batch, const std::vector<double>& x,
                                      const std::vector<double>& w) {
  std::vector<double> y(batch * z.out * z.ho() * z.wo(), 0.0);
  each_tap(z, batch, [&](std::size_t yi, std::size_t xi, std::size_t wi) { y[yi] += w[wi] * x[xi]; });
  return y;
}

// The weight and input gradients of Σ y·gy, by the same definition.
void reference_backward(const sizes& z, std::size_t batch, const std::vector<double>& x,
                        const std::vector<double>& w, const std::vector<double>& gy, std::vector<double>& dw,
                        std::vector<double>& dx) {
  dw.assign(w.size(), 0.0);
  dx.assign(x.size(), 0.0);
  each_tap(z, batch, [&](std::size_t yi, std::size_t xi, std::size_t wi) {
    dw[wi] += gy[yi] * x[xi];
    dx[xi] += gy[yi] * w[wi];
  });
}

struct results {
  std::vector<double> y, dw, dx;
};

// One forward and backward through im2col (Winograd = false) or Winograd.
template <bool Winograd, class Geo, class SB>
results run(const Geo& geo, SB batch, const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>& gy) {
  const std::size_t n = ctnn::kernels::extent_value(batch);
  results r{std::vector<double>(gy.size()), std::vector<double>(w.size()), std::vector<double>(x.size())};
  std::vector<double> scratch(n * conv::scratch_per_sample(geo)), room(n * conv::room_per_sample(geo));
  const auto nothing = [](double*) {};
  if constexpr (Winograd) {
    conv::winograd_forward(geo, batch, x.data(), w.data(), scratch.data(), r.y.data(), nothing);
    conv::winograd_backward(geo, batch, x.data(), static_cast<const double*>(scratch.data()), gy.data(),
                            r.dw.data(), r.dx.data(), room.data(), true, false, true, false);
  } else {
    conv::forward(geo, batch, x.data(), w.data(), scratch.data(), r.y.data(), nothing);
    conv::weight_gradient<false>(geo, batch, x.data(), gy.data(), r.dw.data(), room.data());
    conv::data_gradient<false>(geo, batch, w.data(), gy.data(), r.dx.data(), room.data());
  }
  return r;
}

void check_against_reference(const sizes& z, std::size_t batch, const results& r, const std::vector<double>& x,
                             const std::vector<double>& w, const std::vector<double>& gy, double bound) {
  std::vector<double> dw, dx;
  reference_backward(z, batch, x, w, gy, dw, dx);
  CHECK(max_abs_difference(r.y, reference_forward(z, batch, x, w)) <= bound);
  CHECK(max_abs_difference(r.dw, dw) <= bound);
  CHECK(max_abs_difference(r.dx, dx) <= bound);
}

}  // namespace

TEST_CASE("im2col convolution against the definition: stride, padding, dilation, groups, 1x1",
          "[kernels][conv]") {
  const sizes cases[] = {{4, 9, 7, 6, 3, 2, 1, 2, 2}, {3, 8, 8, 5, 3, 1, 1, 1, 1}, {4, 6, 5, 6, 1, 1, 0, 1, 2},
                         {2, 7, 7, 3, 1, 2, 0, 1, 1}};
  for (const sizes& z : cases) {
    INFO("c " << z.c << " f " << z.f << " s " << z.s << " p " << z.p << " d " << z.d << " g " << z.g);
    for (const std::size_t batch : {std::size_t(1), std::size_t(5)}) {
      const auto x = random_values(batch * z.c * z.h * z.w, 1);
      const auto w = random_values(z.out * (z.c / z.g) * z.f * z.f, 2);
      const auto gy = random_values(batch * z.out * z.ho() * z.wo(), 3);
      check_against_reference(z, batch, run<false>(z.dynamic(), batch, x, w, gy), x, w, gy, 1e-13);
    }
  }
}

TEST_CASE("Winograd F(2x2, 5x5) against the definition and im2col, static and run-time sizes alike",
          "[kernels][conv]") {
  // LeNet's conv2 (16 tiles a sample, two samples a block) and a 28×28 image
  // whose 144 tiles take three of the transforms' 64-tile chunks.
  constexpr sizes lenet{20, 12, 12, 50, 5, 1, 0, 1, 1}, large{8, 28, 28, 8, 5, 1, 0, 1, 1};
  constexpr auto lenet_static = conv::make_geometry(fixed<20>{}, fixed<12>{}, fixed<12>{}, fixed<50>{}, fixed<5>{},
                                                    fixed<1>{}, fixed<0>{}, fixed<1>{}, fixed<1>{}, fixed<8>{},
                                                    fixed<8>{});
  constexpr auto large_static = conv::make_geometry(fixed<8>{}, fixed<28>{}, fixed<28>{}, fixed<8>{}, fixed<5>{},
                                                    fixed<1>{}, fixed<0>{}, fixed<1>{}, fixed<1>{}, fixed<24>{},
                                                    fixed<24>{});
  // The path each batch takes: Winograd from 8 samples in even halves of blocks.
  static_assert(conv::winograd_block(lenet_static) == 2 && conv::winograd_block(large_static) == 1);
  static_assert(conv::uses_winograd(lenet_static, fixed<16>{}) && conv::uses_winograd(lenet_static, fixed<8>{}));
  static_assert(!conv::uses_winograd(lenet_static, fixed<4>{}) && !conv::uses_winograd(lenet_static, fixed<10>{}));
  static_assert(conv::uses_winograd(large_static, fixed<8>{}) && !conv::uses_winograd(large_static, fixed<7>{}));
  CHECK(conv::uses_winograd(lenet.dynamic(), 16));
  CHECK(!conv::uses_winograd(lenet.dynamic(), 10));
  CHECK(!conv::uses_winograd(sizes{20, 12, 12, 50, 5, 1, 1, 1, 1}.dynamic(), 16));  // padded
  CHECK(!conv::uses_winograd(sizes{4, 12, 12, 50, 5, 1, 0, 1, 1}.dynamic(), 16));   // too few input channels

  const auto check = [](const sizes& z, const auto& geo_static, auto batch_static) {
    const std::size_t batch = batch_static;
    const auto x = random_values(batch * z.c * z.h * z.w, 4);
    const auto w = random_values(z.out * z.c * 25, 5);
    const auto gy = random_values(batch * z.out * z.ho() * z.wo(), 6);
    const results wd = run<true>(z.dynamic(), batch, x, w, gy), ws = run<true>(geo_static, batch_static, x, w, gy);
    const results id = run<false>(z.dynamic(), batch, x, w, gy), is = run<false>(geo_static, batch_static, x, w, gy);
    check_against_reference(z, batch, wd, x, w, gy, 1e-11);
    check_against_reference(z, batch, id, x, w, gy, 1e-12);
    // The two spellings of one path: the same arithmetic.
    CHECK(max_abs_difference(wd.y, ws.y) <= 1e-14);
    CHECK(max_abs_difference(wd.dw, ws.dw) <= 1e-14);
    CHECK(max_abs_difference(wd.dx, ws.dx) <= 1e-14);
    CHECK(max_abs_difference(id.y, is.y) <= 1e-14);
    CHECK(max_abs_difference(id.dw, is.dw) <= 1e-14);
    CHECK(max_abs_difference(id.dx, is.dx) <= 1e-14);
  };
  check(lenet, lenet_static, fixed<16>{});
  check(large, large_static, fixed<8>{});
}
