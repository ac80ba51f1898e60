// GoogLeNet (dsl/models/googlenet.hpp) at its full size, batch 1: the
// parameters of each module and classifier (the compiler sums them from the
// network's nodes), the summary's rounding rows, then a forward and backward
// step through the main and both auxiliary losses and two more SGD steps on
// one image that lower its loss, without a heap allocation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include <ctnn/ctnn.hpp>
#include <models/googlenet.hpp>

#include "../../support/count_allocations.hpp"
#include "one_sample_steps.hpp"

using ctnn_test::allocations;
using net = ctnn::models::googlenet::network;

namespace {

// The trainable scalars of the layers whose name starts with prefix; with
// weights_only, biases are left out (the seed's and the paper's "params").
constexpr std::size_t params_of(std::string_view prefix, bool weights_only = false) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < net::node_count; ++i) {
    const auto& node = net::plan.nodes[i];
    if (!node.name.starts_with(prefix)) continue;
    for (std::size_t j = 0; j < (weights_only ? std::min<std::size_t>(node.param_count, 1) : node.param_count); ++j)
      if (node.params[j].trainable) n += node.params[j].shape.size();
  }
  return n;
}

}  // namespace

// Caffe's bvlc_googlenet, layer by layer (weights + biases).
static_assert(params_of("conv1/") + params_of("conv2/") == 9'472 + 4'160 + 110'784);
static_assert(params_of("inception_3a/") == 163'696);
static_assert(params_of("inception_3b/") == 388'736);
static_assert(params_of("inception_4a/") == 376'176);
static_assert(params_of("inception_4b/") == 449'160);
static_assert(params_of("inception_4c/") == 510'104);
static_assert(params_of("inception_4d/") == 605'376);
static_assert(params_of("inception_4e/") == 868'352);
static_assert(params_of("inception_5a/") == 1'043'456);
static_assert(params_of("inception_5b/") == 1'444'080);
static_assert(params_of("loss3/") == 1'025'000);
static_assert(params_of("loss1/") == 3'188'840);
static_assert(params_of("loss2/") == 3'190'888);
// Without the auxiliary classifiers: 6,998,552.
static_assert(net::param_count - params_of("loss1/") - params_of("loss2/") == 6'998'552);
// Seed 003's params column counts weights in units of 1024: 3a "159K" and
// 3b "380K" are these modules' weights; the later rows differ (guide, 14).
static_assert(params_of("inception_3a/", true) == 163'328);  // 159.5K
static_assert(params_of("inception_3b/", true) == 388'096);  // 379.0K

TEST_CASE("GoogLeNet: parameter count and summary rows", "[googlenet]") {
  STATIC_REQUIRE(net::param_count == 13'378'280);
  const std::string s = ctnn::summary<net>();
  INFO(s);
  CHECK(s.find("conv2d 7x7/2 p3 floor+relu") != std::string::npos);
  CHECK(s.find("max_pool 3x3/2 ceil") != std::string::npos);
  CHECK(s.find("inception_5b/pool_proj") != std::string::npos);
  CHECK(s.find("[1024, 7, 7]") != std::string::npos);
  CHECK(s.find("parameters: 13,378,280") != std::string::npos);
}

TEST_CASE("GoogLeNet: SGD steps at batch 1 lower the loss on one image, without allocating",
          "[googlenet][alloc]") {
  ctnn_test::one_sample_steps<net, 3 * 224 * 224, 7>("conv1/7x7_s2.weight", 1e-4f);
}
