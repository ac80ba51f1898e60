// LeNet (dsl/models/lenet.hpp): its summary, a few training steps on
// synthetic data that lower the loss, the same bits on one thread and two,
// and step()/predict()/predict_one() without a heap allocation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <string>
#include <vector>

#include <omp.h>

#include <ctnn/ctnn.hpp>
#include <models/lenet.hpp>

#include "../../support/count_allocations.hpp"
#include "synthetic_squares.hpp"

using ctnn_test::allocations;
using net = ctnn::models::lenet::network;

TEST_CASE("LeNet: shapes, parameter count and summary rows", "[lenet]") {
  STATIC_REQUIRE(net::param_count == 431'080);
  const std::string s = ctnn::summary<net>();
  INFO(s);
  CHECK(s.find("conv2d 5x5/1") != std::string::npos);
  CHECK(s.find("max_pool 2x2/2") != std::string::npos);
  CHECK(s.find("[20, 24, 24]") != std::string::npos);
  CHECK(s.find("[50, 4, 4]") != std::string::npos);
  CHECK(s.find("25,050") != std::string::npos);  // conv2's parameters
  CHECK(s.find("parameters: 431,080") != std::string::npos);
}

TEST_CASE("LeNet: a few SGD steps on synthetic data lower the loss", "[lenet]") {
  constexpr std::size_t B = 16;
  const ctnn_test::synthetic_squares data(B, 5);
  ctnn::trainer<net, ctnn::batch<B>> t({.lr = 0.02f, .momentum = 0.9f}, 3);
  const float first = t.step(data.x.data(), data.y.data());
  float last = first;
  for (int i = 0; i < 15; ++i) last = t.step(data.x.data(), data.y.data());
  INFO("loss " << first << " -> " << last);
  CHECK(std::isfinite(last));
  CHECK(last < 0.5f * first);
}

// Convolution and pooling split the batch over the team and sum the
// weight gradient's two halves in a fixed order, so the team size must not
// change a single bit of the parameters.
TEST_CASE("LeNet: the same parameters, bit for bit, after steps on one thread and on two", "[lenet][threads]") {
  const ctnn_test::synthetic_squares data(64, 11);
  const int saved = omp_get_max_threads();
  const auto train = [&](int threads) {
    omp_set_num_threads(threads);
    ctnn::trainer<net, ctnn::batch<64>> t({.lr = 0.01f, .momentum = 0.9f}, 3);
    for (int i = 0; i < 3; ++i) t.step(data.x.data(), data.y.data());
    const auto p = t.model().parameters();
    return std::vector<float>(p.begin(), p.end());
  };
  const auto one = train(1), two = train(2);
  omp_set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}

TEST_CASE("LeNet: no heap allocation in step, predict and predict_one", "[lenet][alloc]") {
  constexpr std::size_t B = 8;
  const ctnn_test::synthetic_squares data(B, 9);
  ctnn::trainer<net, ctnn::batch<B>> t({.lr = 0.01f, .momentum = 0.9f}, 7);
  t.step(data.x.data(), data.y.data());  // warm-up: the OpenMP team starts here
  const long before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 2; ++i) loss += t.step(data.x.data(), data.y.data());
  const float batch0 = t.predict(data.x.data())[0];
  const float one = t.predict_one(data.x.data())[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(loss));
  CHECK(batch0 == Approx(one).epsilon(1e-4));
}
