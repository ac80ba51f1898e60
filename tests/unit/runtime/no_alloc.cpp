// The twin's step(), predict() and predict_one() make no heap allocation:
// every buffer is planned when the model is built. Every operator new of
// this executable is counted, and the count must not move.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <ctnn/runtime.hpp>
#include <models/lenet.hpp>
#include <models/mlp.hpp>
#include <models/tiny_mlp.hpp>

#include "../../support/count_allocations.hpp"

using ctnn_test::allocations;

namespace {
// The counter works: a vector allocates. Its buffer escapes through a
// volatile pointer, or clang may remove the allocation altogether.
void allocations_are_counted(long after) {
  std::vector<int> v(10);
  static int* volatile escape = nullptr;
  escape = v.data();
  CHECK(escape != nullptr);
  CHECK(allocations.load() > after);
}
}  // namespace

TEST_CASE("no heap allocation in the twin's step, predict and predict_one", "[runtime][alloc]") {
  ctnn::runtime::trainer mlp(ctnn::runtime::from<ctnn::models::mlp::network>(), 64, {.lr = 0.01f, .momentum = 0.9f});
  ctnn::runtime::trainer tiny(ctnn::runtime::from<ctnn::models::tiny_mlp::network>(), 32,
                              {.lr = 0.01f, .momentum = 0.9f});
  std::vector<float> x(64 * 784, 0.25f), u(32 * 16, 0.5f), t(32, 0.1f);
  std::vector<unsigned char> y(64, 3);
  mlp.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));  // warm-up: the OpenMP team starts here
  tiny.step(ctnn::feed<"features">(u), ctnn::feed<"target">(t));
  const long before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 3; ++i)
    loss += mlp.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y)) +
            tiny.step(ctnn::feed<"features">(u), ctnn::feed<"target">(t));
  const float first = mlp.predict(ctnn::feed<"image">(x))[0];
  const float one = mlp.predict_one(ctnn::feed<"image">(x.data()))[0];
  const float tiny_first = tiny.predict(ctnn::feed<"features">(u))[0];
  const float tiny_one = tiny.predict_one(ctnn::feed<"features">(u.data()))[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(loss));
  CHECK(first == Approx(one).epsilon(1e-5));
  CHECK(tiny_first == Approx(tiny_one).epsilon(1e-5));
  allocations_are_counted(after);
}

TEST_CASE("no heap allocation in LeNet's twin step, predict and predict_one", "[runtime][alloc][conv]") {
  constexpr std::size_t B = 8;
  ctnn::runtime::trainer lenet(ctnn::runtime::from<ctnn::models::lenet::network>(), B,
                               {.lr = 0.01f, .momentum = 0.9f});
  std::vector<float> x(B * 28 * 28);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 29) / 29.0f;
  std::vector<unsigned char> y(B, 7);
  lenet.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));  // warm-up: the OpenMP team starts here
  const long before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 3; ++i) loss += lenet.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
  const float first = lenet.predict(ctnn::feed<"image">(x))[0];
  const float one = lenet.predict_one(ctnn::feed<"image">(x.data()))[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(loss));
  CHECK(first == Approx(one).epsilon(1e-5));
  allocations_are_counted(after);
}

TEST_CASE("no heap allocation in the twin's backward_from and input_grad", "[runtime][alloc][vjp]") {
  namespace rt = ctnn::runtime;
  rt::graph g;
  const auto x = g.input("x", {6}, /*requires_grad=*/true);
  const auto y = g.dense("fc2", 3, g.tanh(g.dense("fc1", 5, x)));
  g.output(y);
  g.loss(g.squared_error(y, g.input("t", {3})));
  rt::model m(g, 8);
  std::vector<float> u(8 * 6, 0.5f), t(8 * 3, 0.25f), up(8 * 3, 1.0f);
  m.forward(ctnn::feed<"x">(u), ctnn::feed<"t">(t));
  m.backward();
  const long before = allocations.load();
  m.forward(ctnn::feed<"x">(u), ctnn::feed<"t">(t));
  m.backward_from(0, up);
  const float by_index = m.input_grad("x")[0];
  m.backward_from("fc2", up);
  const float by_name = m.input_grad("x")[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(by_index != 0.0f);
  CHECK(by_index == by_name);
  allocations_are_counted(after);
}
