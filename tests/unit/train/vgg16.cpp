// VGG16 (dsl/models/vgg16.hpp): seed 003's memory table row by row, asserted
// by the compiler on the full-size network; its summary; and, on 32×32
// images (at 224 the test would need 2.4 GB and over 20 s), a forward and
// backward step and two more SGD steps on one image that lower its loss,
// without a heap allocation.
#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <ctnn/ctnn.hpp>
#include <models/vgg16.hpp>

#include "../../support/count_allocations.hpp"
#include "one_sample_steps.hpp"

using ctnn_test::allocations;
namespace vgg = ctnn::models::vgg16;

namespace {

// Seed 003, "VGGNet" (the table under figure 3.3): per row the output
// values ("memory") and the weights ("params", biases not counted). The
// first FC row prints 77*512*4096; its value 102,760,448 is 7·7·512·4096.
struct seed_row {
  std::string_view layer;
  std::size_t values, weights;
};
constexpr std::array<seed_row, 22> seed_table{{
    {"INPUT [224x224x3]", 224 * 224 * 3, 0},
    {"CONV3-64 [224x224x64]", 224 * 224 * 64, 1'728},
    {"CONV3-64 [224x224x64]", 224 * 224 * 64, 36'864},
    {"POOL2 [112x112x64]", 112 * 112 * 64, 0},
    {"CONV3-128 [112x112x128]", 112 * 112 * 128, 73'728},
    {"CONV3-128 [112x112x128]", 112 * 112 * 128, 147'456},
    {"POOL2 [56x56x128]", 56 * 56 * 128, 0},
    {"CONV3-256 [56x56x256]", 56 * 56 * 256, 294'912},
    {"CONV3-256 [56x56x256]", 56 * 56 * 256, 589'824},
    {"CONV3-256 [56x56x256]", 56 * 56 * 256, 589'824},
    {"POOL2 [28x28x256]", 28 * 28 * 256, 0},
    {"CONV3-512 [28x28x512]", 28 * 28 * 512, 1'179'648},
    {"CONV3-512 [28x28x512]", 28 * 28 * 512, 2'359'296},
    {"CONV3-512 [28x28x512]", 28 * 28 * 512, 2'359'296},
    {"POOL2 [14x14x512]", 14 * 14 * 512, 0},
    {"CONV3-512 [14x14x512]", 14 * 14 * 512, 2'359'296},
    {"CONV3-512 [14x14x512]", 14 * 14 * 512, 2'359'296},
    {"CONV3-512 [14x14x512]", 14 * 14 * 512, 2'359'296},
    {"POOL2 [7x7x512]", 7 * 7 * 512, 0},
    {"FC [1x1x4096]", 4'096, 102'760'448},
    {"FC [1x1x4096]", 4'096, 16'777'216},
    {"FC [1x1x1000]", 1'000, 4'096'000},
}};

constexpr auto table = vgg::activation_table<vgg::network>();

constexpr bool rows_match() {
  if (table.size() != seed_table.size()) return false;
  for (std::size_t i = 0; i < table.size(); ++i)
    if (table[i].values != seed_table[i].values || table[i].weights != seed_table[i].weights) return false;
  return true;
}
constexpr std::size_t total_values() {
  std::size_t n = 0;
  for (const auto& r : table) n += r.values;
  return n;
}
constexpr std::size_t total_weights() {
  std::size_t n = 0;
  for (const auto& r : table) n += r.weights;
  return n;
}

}  // namespace

// The seed's rows, one by one: output values and weights.
static_assert(table.size() == 22);
static_assert(table[1].values == 3'211'264 && table[1].weights == 1'728);  // CONV3-64
static_assert(table[19].values == 4'096 && table[19].weights == 102'760'448);  // FC1
static_assert(rows_match());
// The sum of the seed's rows: 15,237,608 values per image, input included,
// 60,950,432 bytes in float (61 MB). The seed's total line, "24M * 4 bytes
// ~ 93MB / image", does not follow from its own rows (docs/guide.md, 14).
static_assert(total_values() == 15'237'608);
static_assert(total_values() * sizeof(float) == 60'950'432);
// The weights of the rows are the seed's "TOTAL params: 138M"; with the
// 13,416 biases they are the network's parameters.
static_assert(total_weights() == 138'344'128);
static_assert(total_weights() + 13'416 == vgg::network::param_count);

TEST_CASE("VGG16: seed 003's memory table, row by row", "[vgg16]") {
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO(seed_table[i].layer << " <-> " << table[i].kind << " " << table[i].name);
    CHECK(table[i].values == seed_table[i].values);
    CHECK(table[i].weights == seed_table[i].weights);
  }
  CHECK(table[0].kind == "input");
  CHECK(table[1].name == "conv1_1");
  CHECK(table[21].name == "fc8");
}

TEST_CASE("VGG16: parameter count and summary rows", "[vgg16]") {
  STATIC_REQUIRE(vgg::network::param_count == 138'357'544);
  const std::string s = ctnn::summary<vgg::network>();
  INFO(s);
  CHECK(s.find("conv2d 3x3/1 p1+relu") != std::string::npos);
  CHECK(s.find("[512, 7, 7]") != std::string::npos);
  CHECK(s.find("102,764,544") != std::string::npos);  // fc6 with its biases
  CHECK(s.find("parameters: 138,357,544") != std::string::npos);
}

TEST_CASE("VGG16 on 32x32: SGD steps at batch 1 lower the loss on one image, without allocating",
          "[vgg16][alloc]") {
  using small = vgg::vgg16_at<32>::network;
  // The full network less fc6's weights on 7·7·512 inputs, plus those on 512.
  STATIC_REQUIRE(small::param_count == 138'357'544 - 102'760'448 + 512 * 4096);
  ctnn_test::one_sample_steps<small, 3 * 32 * 32, 7>("conv1_1.weight", 1e-5f);
}
