// LeNet (dsl/models/lenet.hpp): its summary, a few training steps on
// synthetic data that lower the loss, the same bits on one thread and two
// and from run to run over a shuffled epoch,
// and step()/predict()/predict_one() without a heap allocation.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <random>
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
  const float first = t.step(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
  float last = first;
  for (int i = 0; i < 15; ++i) last = t.step(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
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
    for (int i = 0; i < 3; ++i) t.step(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
    const auto p = t.model().parameters();
    return std::vector<float>(p.begin(), p.end());
  };
  const auto one = train(1), two = train(2);
  omp_set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}

// An epoch as a training run takes it: the order shuffled by a seeded
// generator, Adam, batches of 16. The same seed and team size must give the
// same parameters bit for bit (run-to-run: no timing, address or thread
// schedule may reach a value); the test suite runs it under each instruction
// set the machine offers.
TEST_CASE("LeNet: an epoch twice with the same seed and team size gives the same bits", "[lenet][threads][determinism]") {
  constexpr std::size_t B = 16, n = 96;
  const ctnn_test::synthetic_squares data(n, 13);
  const int saved = omp_get_max_threads();
  const auto epoch = [&](int threads, std::uint64_t seed) {
    omp_set_num_threads(threads);
    ctnn::trainer<net, ctnn::batch<B>, ctnn::optim::adam> t({.lr = 1e-3f}, seed);
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    std::mt19937_64 gen(seed);
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen() % (i + 1)]);
    std::vector<float> x(B * 784);
    std::vector<unsigned char> y(B);
    for (std::size_t first = 0; first + B <= n; first += B) {
      for (std::size_t b = 0; b < B; ++b) {
        std::memcpy(x.data() + b * 784, data.x.data() + order[first + b] * 784, 784 * sizeof(float));
        y[b] = data.y[order[first + b]];
      }
      t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
    }
    const auto p = t.model().parameters();
    return std::vector<float>(p.begin(), p.end());
  };
  const auto two = epoch(2, 21), two_again = epoch(2, 21);
  const auto one = epoch(1, 21), one_again = epoch(1, 21);
  const auto other_seed = epoch(2, 22);
  omp_set_num_threads(saved);
  REQUIRE(two.size() == one.size());
  CHECK(std::memcmp(two.data(), two_again.data(), two.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(one.data(), one_again.data(), one.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);  // and across team sizes
  CHECK(std::memcmp(two.data(), other_seed.data(), two.size() * sizeof(float)) != 0);  // the seed matters
}

TEST_CASE("LeNet: no heap allocation in step, predict and predict_one", "[lenet][alloc]") {
  constexpr std::size_t B = 8;
  const ctnn_test::synthetic_squares data(B, 9);
  ctnn::trainer<net, ctnn::batch<B>> t({.lr = 0.01f, .momentum = 0.9f}, 7);
  t.step(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));  // warm-up: the OpenMP team starts here
  const long before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 2; ++i) loss += t.step(ctnn::feed<"image">(data.x), ctnn::feed<"class">(data.y));
  const float batch0 = t.predict(ctnn::feed<"image">(data.x))[0];
  const float one = t.predict_one(ctnn::feed<"image">(data.x.data()))[0];
  const long after = allocations.load();
  CHECK(after - before == 0);
  CHECK(std::isfinite(loss));
  CHECK(batch0 == Approx(one).epsilon(1e-4));
}
