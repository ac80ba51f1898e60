// The pooling kernels (columns reduced as vectors, then each window across)
// against the definition computed one window at a time in row-major order:
// values drawn from four levels so that ties are everywhere, planes wider
// than a column block, a window wider than a block, padding, and ceil-mode
// windows that overhang the padded input.

#include <ctnn/kernels/pool.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using ctnn::kernels::window_geometry;

// Outputs along one side: floor rounding, or ceil rounding without the
// windows that would start in the trailing padding.
std::size_t outputs(std::size_t n, std::size_t f, std::size_t s, std::size_t p, bool ceil) {
  const std::size_t span = n + 2 * p - f;
  std::size_t o = (ceil ? (span + s - 1) / s : span / s) + 1;
  if (ceil && (o - 1) * s >= n + p) --o;
  return o;
}

window_geometry geometry(std::size_t h, std::size_t w, std::size_t f, std::size_t s, std::size_t p, bool ceil) {
  return {h, w, f, s, p, outputs(h, f, s, p, ceil), outputs(w, f, s, p, ceil)};
}

// The definition: the first maximum in row-major order, or the mean over
// the window's taps inside the padded input.
template <bool Max, class T>
void reference_forward(const window_geometry& g, const T* x, T* y, std::vector<std::size_t>& winner) {
  for (std::size_t oy = 0; oy < g.ho; ++oy)
    for (std::size_t ox = 0; ox < g.wo; ++ox) {
      std::size_t best = g.lo(oy) * g.w + g.lo(ox);
      T sum = 0;
      for (std::size_t iy = g.lo(oy); iy < g.hi(oy, g.h); ++iy)
        for (std::size_t ix = g.lo(ox); ix < g.hi(ox, g.w); ++ix) {
          if (x[iy * g.w + ix] > x[best]) best = iy * g.w + ix;
          sum += x[iy * g.w + ix];
        }
      y[oy * g.wo + ox] = Max ? x[best] : sum / T(g.taps(oy, g.h) * g.taps(ox, g.w));
      winner[oy * g.wo + ox] = best;
    }
}

template <bool Max, class T>
void reference_backward(const window_geometry& g, const T* dy, const std::vector<std::size_t>& winner, T* dx) {
  for (std::size_t oy = 0; oy < g.ho; ++oy)
    for (std::size_t ox = 0; ox < g.wo; ++ox) {
      const T d = dy[oy * g.wo + ox];
      if (Max) {
        dx[winner[oy * g.wo + ox]] += d;
        continue;
      }
      for (std::size_t iy = g.lo(oy); iy < g.hi(oy, g.h); ++iy)
        for (std::size_t ix = g.lo(ox); ix < g.hi(ox, g.w); ++ix)
          dx[iy * g.w + ix] += d / T(g.taps(oy, g.h) * g.taps(ox, g.w));
    }
}

template <bool Max, class T>
void check_against_reference(const window_geometry& g, std::uint64_t seed) {
  INFO((Max ? "max " : "avg ") << g.h << "x" << g.w << " f" << g.f << " s" << g.s << " p" << g.p << " -> " << g.ho
                               << "x" << g.wo);
  std::mt19937_64 gen(seed);
  const std::size_t planes = 2, hw = g.h * g.w, hwo = g.ho * g.wo;
  std::vector<T> x(planes * hw), dy(planes * hwo);
  for (auto& v : x) v = T(int(gen() % 4)) - T(1.5);  // four levels: ties everywhere
  for (auto& v : dy) v = T(int(gen() % 7)) - T(3);

  std::vector<T> y(planes * hwo), winners(planes * hwo), dx(planes * hw, T(0.5));
  ctnn::kernels::pool_forward<Max>(planes, g, x.data(), y.data(), winners.data());
  ctnn::kernels::pool_backward<Max>(planes, g, dy.data(), winners.data(), dx.data(), /*accumulate=*/true);

  std::vector<T> y_ref(hwo), dx_ref(hw);
  std::vector<std::size_t> winner(hwo);
  for (std::size_t p = 0; p < planes; ++p) {
    reference_forward<Max>(g, x.data() + p * hw, y_ref.data(), winner);
    std::fill(dx_ref.begin(), dx_ref.end(), T(0.5));
    reference_backward<Max>(g, dy.data() + p * hwo, winner, dx_ref.data());
    for (std::size_t o = 0; o < hwo; ++o) {
      // Sums of four levels are exact in any order; so are max and its index.
      REQUIRE(y[p * hwo + o] == y_ref[o]);
      if (Max) REQUIRE(std::size_t(winners[p * hwo + o]) == winner[o]);
    }
    for (std::size_t i = 0; i < hw; ++i) REQUIRE(dx[p * hw + i] == Approx(dx_ref[i]).epsilon(1e-5));
  }
}

template <class T>
void check_all() {
  const window_geometry cases[] = {
      geometry(24, 24, 2, 2, 0, false),    // LeNet's pool1 (the 2x2/2 path)
      geometry(8, 8, 2, 2, 0, false),      // LeNet's pool2: four outputs a row
      geometry(6, 34, 2, 2, 0, false),     // rows not a multiple of the vector
      geometry(2, 2, 2, 2, 0, false),      // one window
      geometry(10, 1000, 2, 2, 0, false),  // two rows to a group of the 2x2 path
      geometry(4, 2050, 2, 2, 0, false),   // wider than that path takes
      geometry(13, 13, 3, 2, 0, true),     // Caffe's ceil-mode pooling
      geometry(9, 11, 3, 2, 1, true),      // padding and overhanging windows
      geometry(7, 7, 3, 1, 1, false),      // overlapping, stride 1
      geometry(5, 600, 2, 2, 0, false),    // a plane wider than a column block
      geometry(6, 700, 3, 3, 1, true),     // wider still, with padding
      geometry(4, 300, 3, 1, 0, false),    // blocks of overlapping windows
      geometry(300, 520, 300, 110, 0, false),  // a window wider than a column block
      geometry(5, 5, 5, 1, 0, false),      // one window over everything
  };
  std::uint64_t seed = 1;
  for (const auto& g : cases) {
    check_against_reference<true, T>(g, seed++);
    check_against_reference<false, T>(g, seed++);
  }
}

}  // namespace

TEST_CASE("pooling kernels match the row-major definition, ties included (float)", "[kernels][pool]") {
  check_all<float>();
}

TEST_CASE("pooling kernels match the row-major definition, ties included (double)", "[kernels][pool]") {
  check_all<double>();
}
