// Augmentation: exact results of flips, padded crops and jitter on small
// hand-made images, in-place and out-of-place agreement, and a reproducible
// random pipeline.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include <ctnn/data/augment.hpp>

using Catch::Detail::Approx;
namespace data = ctnn::data;

namespace {
std::vector<float> iota_image(std::size_t n, float start = 1) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + float(i);
  return v;
}
}  // namespace

TEST_CASE("xoshiro256**: reproducible, and its draws in range", "[data][augment]") {
  data::xoshiro256ss a(42), b(42), c(43);
  std::vector<std::uint64_t> ra, rb, rc;
  for (int i = 0; i < 8; ++i) {
    ra.push_back(a());
    rb.push_back(b());
    rc.push_back(c());
  }
  CHECK(ra == rb);
  CHECK(ra != rc);
  // Reference values. splitmix64 from 0 (Vigna's splitmix64.c, Java's SplittableRandom):
  CHECK(data::xoshiro256ss(0).state() ==
        std::array<std::uint64_t, 4>{0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull, 0x06c45d188009454full,
                                     0xf88bb8a8724c81ecull});
  // xoshiro256** from the state {1, 2, 3, 4} (the first output is rotl(2·5, 7)·9 = 11520).
  auto x = data::xoshiro256ss::from_state({1, 2, 3, 4});
  const std::vector<std::uint64_t> want{11520ull, 0ull, 1509978240ull, 1215971899390074240ull};
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 4; ++i) got.push_back(x());
  CHECK(got == want);

  data::xoshiro256ss g(7);
  std::set<std::uint64_t> seen;
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t k = g.below(5);
    REQUIRE(k < 5);
    seen.insert(k);
    const double u = g.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(seen.size() == 5);
  CHECK(sum / 20000 == Approx(0.5).margin(0.01));
  CHECK_FALSE(g.bernoulli(0.0));
  CHECK(g.bernoulli(1.0));
}

TEST_CASE("geometry: run time, compile time, from a ctnn::shape", "[data][augment]") {
  static_assert(data::image_geometry<data::image_size>);
  static_assert(data::image_geometry<data::fixed_image<3, 32, 32>>);
  static_assert(std::is_same_v<data::image_of<ctnn::shape<28, 28>>, data::fixed_image<1, 28, 28>>);
  static_assert(std::is_same_v<data::image_of<ctnn::shape<3, 32, 32>>, data::fixed_image<3, 32, 32>>);
  static_assert(data::image_values(data::fixed_image<3, 32, 32>{}) == 3072);
  CHECK(data::image_values(data::image_size{2, 3, 4}) == 24);
}

TEST_CASE("hflip: a known 2×3 image, and twice is the identity", "[data][augment]") {
  std::vector<float> img{1, 2, 3,  //
                         4, 5, 6};
  data::hflip(img.data(), data::image_size{1, 2, 3});
  CHECK(img == std::vector<float>{3, 2, 1, 6, 5, 4});

  std::vector<float> out(6);
  data::hflip(img.data(), out.data(), data::fixed_image<1, 2, 3>{});
  CHECK(out == std::vector<float>{1, 2, 3, 4, 5, 6});

  // [3, 4, 5]: each channel's rows mirrored; twice gives the original back.
  const auto orig = iota_image(60);
  auto x = orig;
  data::hflip(x.data(), data::fixed_image<3, 4, 5>{});
  CHECK(x[0] == 5.0f);
  CHECK(x[4] == 1.0f);
  CHECK(x[20] == 25.0f);  // channel 1, row 0: 21..25 reversed
  CHECK(x != orig);
  data::hflip(x.data(), data::fixed_image<3, 4, 5>{});
  CHECK(x == orig);
}

TEST_CASE("padded_crop: identity at the centre, exact shifts with zeros entering", "[data][augment]") {
  const data::image_size g{1, 3, 4};
  const auto img = iota_image(12);  // rows 1 2 3 4 / 5 6 7 8 / 9 10 11 12
  std::vector<float> out(12, -1.0f);

  data::padded_crop(img.data(), out.data(), g, 0, 0, 0);
  CHECK(out == img);
  data::padded_crop(img.data(), out.data(), g, 2, 2, 2);  // offset = pad: no shift
  CHECK(out == img);

  // pad 1, window at (0, 2): one row of padding on top, the image moved left by one.
  data::padded_crop(img.data(), out.data(), g, 1, 0, 2);
  CHECK(out == std::vector<float>{0, 0, 0, 0,  //
                                  2, 3, 4, 0,  //
                                  6, 7, 8, 0});
  // pad 2, window at (4, 0): up by two, right by two.
  data::padded_crop(img.data(), out.data(), g, 2, 4, 0);
  CHECK(out == std::vector<float>{0, 0, 9, 10,  //
                                  0, 0, 0, 0,   //
                                  0, 0, 0, 0});
  // Beyond the image: all zeros.
  data::padded_crop(img.data(), out.data(), g, 5, 0, 0);
  CHECK(out == std::vector<float>(12, 0.0f));

  CHECK_THROWS_AS(data::padded_crop(img.data(), out.data(), g, 1, 3, 0), std::invalid_argument);
}

TEST_CASE("padded_crop: in place equals out of place for every offset, per channel", "[data][augment]") {
  const data::fixed_image<2, 5, 6> g;
  const auto img = iota_image(60);
  constexpr std::size_t pad = 3;
  for (std::size_t dy = 0; dy <= 2 * pad; ++dy)
    for (std::size_t dx = 0; dx <= 2 * pad; ++dx) {
      CAPTURE(dy, dx);
      std::vector<float> out(60), in_place = img;
      data::padded_crop(img.data(), out.data(), g, pad, dy, dx);
      data::padded_crop(in_place.data(), in_place.data(), g, pad, dy, dx);
      CHECK(in_place == out);
      // Spot-check the definition: out(c, y, x) = in(c, y + dy − pad, x + dx − pad) or 0.
      for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t y = 0; y < 5; ++y)
          for (std::size_t x = 0; x < 6; ++x) {
            const long ys = long(y + dy) - long(pad), xs = long(x + dx) - long(pad);
            const float want = ys >= 0 && ys < 5 && xs >= 0 && xs < 6 ? img[c * 30 + std::size_t(ys) * 6 + std::size_t(xs)]
                                                                       : 0.0f;
            REQUIRE(out[c * 30 + y * 6 + x] == want);
          }
    }
}

TEST_CASE("brightness_contrast: identity, and exact values for known c and b", "[data][augment]") {
  const data::image_size g{1, 2, 2};
  const std::vector<float> img{0.1f, 0.3f, 0.7f, 0.9f};  // mean 0.5
  auto x = img;
  data::brightness_contrast(x.data(), g, 1.0, 0.0);
  CHECK(x == img);
  std::vector<double> xd{0.1, 0.3, 0.7, 0.123456789};
  const auto xd0 = xd;
  data::brightness_contrast(xd.data(), g, 1.0, 0.0, std::nullopt);
  CHECK(xd == xd0);

  // Dyadic values: every step is exact. mean = 0.5; x' = (x − 0.5)·0.5 + 0.5 + 0.125.
  std::vector<double> y{0.25, 0.5, 0.75, 0.5};
  data::brightness_contrast(y.data(), g, 0.5, 0.125);
  CHECK(y == std::vector<double>{0.5, 0.625, 0.75, 0.625});

  // Contrast 2 about the mean, then clamped to [0, 1] (or not).
  std::vector<double> z{0.0, 0.25, 0.75, 1.0}, zc = z;
  data::brightness_contrast(z.data(), g, 2.0, 0.0, std::nullopt);
  CHECK(z == std::vector<double>{-0.5, 0.0, 1.0, 1.5});
  data::brightness_contrast(zc.data(), g, 2.0, 0.0);
  CHECK(zc == std::vector<double>{0.0, 0.0, 1.0, 1.0});
  std::vector<double> w{0.0, 0.25, 0.75, 1.0};
  data::brightness_contrast(w.data(), g, 1.0, 0.5, data::value_range{-1.0, 1.25});
  CHECK(w == std::vector<double>{0.5, 0.75, 1.25, 1.25});
}

TEST_CASE("augmenter: the same seed gives the same batch, another seed another", "[data][augment]") {
  constexpr std::size_t n = 16, size = 3 * 8 * 8;
  std::vector<float> batch(n * size);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = float((i * 37) % 101) / 100.0f;
  const data::augment_options o{.flip_probability = 0.5, .pad = 2, .contrast = {0.8, 1.2}, .brightness = {-0.1, 0.1}};
  const data::fixed_image<3, 8, 8> g;

  data::augmenter a(g, o, 1), b(g, o, 1), c(g, o, 2);
  std::vector<float> ra(batch.size()), rb = batch, rc(batch.size());
  a(batch.data(), n, ra.data());
  b(rb.data(), n);  // in place: the same result
  c(batch.data(), n, rc.data());
  CHECK(ra == rb);
  CHECK(ra != rc);
  CHECK(ra != batch);
  for (float v : ra) {
    REQUIRE(v >= 0.0f);
    REQUIRE(v <= 1.0f);
  }
  // The stream continues: the next batch differs from the first.
  std::vector<float> ra2(batch.size());
  a(batch.data(), n, ra2.data());
  CHECK(ra2 != ra);
  // Reseeding restarts it.
  a.seed(1);
  a(batch.data(), n, ra2.data());
  CHECK(ra2 == ra);
  // A run-time geometry gives the same images as the compile-time one.
  data::augmenter d(data::image_size{3, 8, 8}, o, 1);
  std::vector<float> rd(batch.size());
  d(batch.data(), n, rd.data());
  CHECK(rd == ra);
}

TEST_CASE("augmenter: each step alone does what it says", "[data][augment]") {
  const data::image_size g{1, 4, 4};
  const auto img = iota_image(16, 0.0f);  // 0..15, no two equal
  constexpr std::size_t n = 4000;
  std::vector<float> batch(n * 16);
  for (std::size_t i = 0; i < n; ++i) std::copy(img.begin(), img.end(), batch.begin() + std::ptrdiff_t(i * 16));

  SECTION("defaults: nothing changes") {
    data::augmenter a(g, {}, 3);
    auto b = batch;
    a(b.data(), n);
    CHECK(b == batch);
  }
  SECTION("flips: each image is the original or its mirror, about half mirrored") {
    data::augmenter a(g, {.flip_probability = 0.5}, 3);
    auto b = batch;
    a(b.data(), n);
    auto mirror = img;
    data::hflip(mirror.data(), g);
    std::size_t flipped = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::vector<float> one(b.begin() + std::ptrdiff_t(i * 16), b.begin() + std::ptrdiff_t(i * 16 + 16));
      REQUIRE((one == img || one == mirror));
      flipped += one == mirror;
    }
    CHECK(double(flipped) / n == Approx(0.5).margin(0.03));
  }
  SECTION("crops: every offset of [0, 2p]² occurs, each a padded_crop") {
    constexpr std::size_t pad = 1;
    data::augmenter a(g, {.pad = pad}, 3);
    auto b = batch;
    a(b.data(), n);
    std::vector<std::vector<float>> candidates;
    for (std::size_t dy = 0; dy <= 2 * pad; ++dy)
      for (std::size_t dx = 0; dx <= 2 * pad; ++dx) {
        std::vector<float> c(16);
        data::padded_crop(img.data(), c.data(), g, pad, dy, dx);
        candidates.push_back(c);
      }
    std::vector<std::size_t> count(candidates.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::vector<float> one(b.begin() + std::ptrdiff_t(i * 16), b.begin() + std::ptrdiff_t(i * 16 + 16));
      const auto it = std::find(candidates.begin(), candidates.end(), one);
      REQUIRE(it != candidates.end());
      ++count[std::size_t(it - candidates.begin())];
    }
    for (std::size_t k : count) CHECK(double(k) / n == Approx(1.0 / 9).margin(0.02));
  }
  SECTION("jitter: c and b drawn inside their ranges") {
    data::augmenter a(g, {.contrast = {0.5, 1.5}, .brightness = {-2.0, 2.0}, .clamp_to = std::nullopt}, 3);
    auto b = batch;
    a(b.data(), n);
    double cmin = 10, cmax = -10, bmin = 10, bmax = -10;
    for (std::size_t i = 0; i < n; ++i) {
      // x' = c·(x − 7.5) + 7.5 + b: pixel 0 and pixel 15 give c and b back.
      const double c = (double(b[i * 16 + 15]) - double(b[i * 16])) / 15.0;
      const double bb = double(b[i * 16]) - (c * (0.0 - 7.5) + 7.5);
      cmin = std::min(cmin, c);
      cmax = std::max(cmax, c);
      bmin = std::min(bmin, bb);
      bmax = std::max(bmax, bb);
    }
    CHECK(cmin >= 0.5 - 1e-5);
    CHECK(cmax <= 1.5 + 1e-5);
    CHECK(cmin < 0.55);
    CHECK(cmax > 1.45);
    CHECK(bmin >= -2.0 - 1e-4);
    CHECK(bmax <= 2.0 + 1e-4);
    CHECK(bmin < -1.9);
    CHECK(bmax > 1.9);
  }
  SECTION("bad options are rejected") {
    CHECK_THROWS_AS(data::augmenter(g, {.flip_probability = 1.5}, 1), std::invalid_argument);
    CHECK_THROWS_AS(data::augmenter(g, {.contrast = {1.2, 0.8}}, 1), std::invalid_argument);
    CHECK_THROWS_AS(data::augmenter(data::image_size{1, 0, 4}, {}, 1), std::invalid_argument);
  }
}
