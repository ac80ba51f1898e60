// Applying fitted preprocessing and augmenting batches make no heap
// allocation: every operator new in this program is counted, and the count
// must not move. (Fitting allocates; that is done before counting.)
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include <ctnn/data/augment.hpp>
#include <ctnn/data/preprocess.hpp>

#include "../../support/count_allocations.hpp"

using ctnn_test::allocations;

TEST_CASE("no heap allocation when applying preprocessing or augmenting a batch", "[alloc][data]") {
  constexpr std::size_t n = 256, d = 784, k = 50;
  std::vector<float> x(n * d), y(n * d), z(n * k), back(n * d);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 256) / 255.0f;
  std::vector<double> xd(x.begin(), x.end()), zd(n * k);

  const auto s = ctnn::data::standardizer::fit(x.data(), n, d);
  const auto m = ctnn::data::min_max_scaler::fit(x.data(), n, d);
  const auto p = ctnn::data::pca::fit(x.data(), n, d, k);
  ctnn::data::augmenter aug(ctnn::data::fixed_image<1, 28, 28>{},
                            {.flip_probability = 0.5, .pad = 2, .contrast = {0.8, 1.2}, .brightness = {-0.1, 0.1}},
                            1);
  ctnn::data::augmenter aug_rt(ctnn::data::image_size{1, 28, 28}, {.flip_probability = 0.5, .pad = 4}, 2);
  p.project(x.data(), n, z.data());  // warm-up: the OpenMP team starts here

  const long before = allocations.load();
  s.apply(x.data(), n, y.data());
  s.apply(y.data(), n);
  s.invert(y.data(), n);
  m.apply(x.data(), n, y.data());
  p.project(x.data(), n, z.data());
  p.whiten(x.data(), n, z.data());
  p.reconstruct(z.data(), n, back.data());
  p.project(xd.data(), n, zd.data());
  aug(x.data(), n, y.data());
  aug(y.data(), n);
  aug_rt(y.data(), n);
  ctnn::data::hflip(y.data(), ctnn::data::image_size{1, 28, 28});
  ctnn::data::padded_crop(y.data(), y.data(), ctnn::data::fixed_image<1, 28, 28>{}, 3, 1, 5);
  ctnn::data::brightness_contrast(y.data(), ctnn::data::fixed_image<1, 28, 28>{}, 1.1, 0.05);
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(z[0]));
  CHECK(std::isfinite(back[0]));
  // The counter works: a vector allocates (its buffer escapes, so clang
  // cannot elide the allocation).
  std::vector<int> v(10);
  static int* volatile escape = nullptr;
  escape = v.data();
  CHECK(escape != nullptr);
  CHECK(allocations.load() > after);
}
