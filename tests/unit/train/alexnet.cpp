// AlexNet (dsl/models/alexnet.hpp) at its full size, batch 1: its summary
// rows, then a forward and backward step and two more SGD steps on one image
// that lower its loss, without a heap allocation.
#include <catch2/catch.hpp>

#include <string>

#include <ctnn/ctnn.hpp>
#include <models/alexnet.hpp>

#include "../../support/count_allocations.hpp"
#include "one_sample_steps.hpp"

using ctnn_test::allocations;
using net = ctnn::models::alexnet::network;

TEST_CASE("AlexNet: parameter count and summary rows", "[alexnet]") {
  STATIC_REQUIRE(net::param_count == 60'965'224);
  const std::string s = ctnn::summary<net>();
  INFO(s);
  CHECK(s.find("conv2d 11x11/4+relu") != std::string::npos);
  CHECK(s.find("conv2d 5x5/1 p2 g2+relu") != std::string::npos);
  CHECK(s.find("[96, 55, 55]") != std::string::npos);
  CHECK(s.find("[256, 6, 6]") != std::string::npos);
  CHECK(s.find("37,752,832") != std::string::npos);  // fc6
  CHECK(s.find("parameters: 60,965,224") != std::string::npos);
}

TEST_CASE("AlexNet: SGD steps at batch 1 lower the loss on one image, without allocating", "[alexnet][alloc]") {
  ctnn_test::one_sample_steps<net, 3 * 227 * 227, 7>("conv1.weight", 1e-5f);
}
