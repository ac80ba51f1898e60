// step(), predict() and predict_one() make no heap allocation: every
// operator new in this program is counted, and the count must not move.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <models/mlp.hpp>

#include "../../support/count_allocations.hpp"

using ctnn_test::allocations;

namespace mlp {
using net = ctnn::models::mlp::network;  // the main job's MLP
}  // namespace mlp

TEST_CASE("no heap allocation in step, predict and predict_one", "[alloc]") {
  ctnn::trainer<mlp::net, ctnn::batch<64>> t({.lr = 0.01f, .momentum = 0.9f}, 7);
  std::vector<float> x(64 * 784, 0.25f);
  std::vector<unsigned char> y(64, 3);
  t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));  // warm-up: the OpenMP team starts here
  const long before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 3; ++i) loss += t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
  const float first = t.predict(ctnn::feed<"image">(x))[0];
  const float one = t.predict_one(ctnn::feed<"image">(x.data()))[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(loss));
  CHECK(first == Approx(one).epsilon(1e-5));
  // The counter works: a vector allocates. Its buffer escapes through a
  // volatile pointer, or clang may remove the allocation altogether.
  std::vector<int> v(10);
  static int* volatile escape = nullptr;
  escape = v.data();
  CHECK(escape != nullptr);
  CHECK(allocations.load() > after);
}

TEST_CASE("the counter replaces every form of operator new, std::nothrow included", "[alloc]") {
  // A form left to the runtime allocates elsewhere and is freed by the
  // replaced delete: uncounted, and a mismatch under AddressSanitizer.
  static void* volatile escape = nullptr;  // keeps clang from removing the allocations
  long before = allocations.load();
  int* one = new (std::nothrow) int(3);
  escape = one;
  CHECK(allocations.load() == before + 1);
  delete one;
  before = allocations.load();
  int* many = new (std::nothrow) int[5];
  escape = many;
  CHECK(allocations.load() == before + 1);
  delete[] many;
  struct alignas(128) wide {
    float v[32];
  };
  before = allocations.load();
  wide* w = new (std::nothrow) wide;
  escape = w;
  CHECK(allocations.load() == before + 1);
  CHECK(reinterpret_cast<std::uintptr_t>(w) % 128 == 0);
  delete w;
  before = allocations.load();
  wide* ws = new (std::nothrow) wide[3];
  escape = ws;
  CHECK(allocations.load() == before + 1);
  delete[] ws;
  CHECK(escape != nullptr);
}
