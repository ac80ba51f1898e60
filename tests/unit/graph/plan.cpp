// Compile-time facts of the planner: node order, shapes, parameter table,
// gradient write/accumulate decisions and workspace sizes.
#include <catch2/catch.hpp>

#include <ctnn/ctnn.hpp>
#include <models/mlp.hpp>

namespace mlp {
using net = ctnn::models::mlp::network;  // the main job's MLP
}  // namespace mlp

TEST_CASE("the Fashion-MNIST MLP as a type", "[plan]") {
  using net = mlp::net;
  // relu(dense(x)) fuses: input, fc1, fc2, fc3, label, loss.
  STATIC_REQUIRE(net::node_count == 6);
  STATIC_REQUIRE(net::param_count == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  STATIC_REQUIRE(net::param_count == 235'146);
  STATIC_REQUIRE(net::plan.params.unique == 6);
  STATIC_REQUIRE(net::leaf_count == 2);
  STATIC_REQUIRE(net::infos[net::leaf_ids.first[0]].name == "image");
  STATIC_REQUIRE(net::infos[net::leaf_ids.first[1]].name == "class");
  STATIC_REQUIRE(net::infos[1].kind == "dense+relu");
  STATIC_REQUIRE(net::infos[3].out == ctnn::info_of<ctnn::shape<10>>());
  STATIC_REQUIRE(net::flops == 2.0 * (784 * 256 + 256 * 128 + 128 * 10) + 4.0 * 10);
  // Each buffer is rounded to 16 elements: values 256+128+16+16+16, no input copy.
  STATIC_REQUIRE(net::plan.value_elems == 256 + 128 + 16 + 16 + 16);
  // Gradients live from first write to their own backward: fc3's and fc1's
  // gradient are never live together, so fc1 reuses fc3's slot.
  STATIC_REQUIRE(net::plan.grad_elems == 256 + 128 + 16);
  // fc1 (784 × 256) and fc2 (256 × 128) sum their depth as two halves, the
  // second into their scratch (256 and 128 per sample); fc3 is too small to.
  // The loss keeps its 10 probabilities (16).
  STATIC_REQUIRE(net::plan.scratch_elems == 256 + 128 + 16);
  // Inference: fc1's output and its scratch, live together; fc1's output
  // dies once fc2 has read it, and fc3 (the output) reuses it.
  STATIC_REQUIRE(net::plan.infer_elems == 256 + 256);
  STATIC_REQUIRE(net::training_workspace<64> ==
                 64 * (net::plan.value_elems + net::plan.scratch_elems + net::plan.grad_elems + net::plan.temp_elems));
  // Nothing below the loss needs a gradient except through parameters.
  STATIC_REQUIRE(!net::plan.needs_grad[0]);
  STATIC_REQUIRE(net::plan.needs_grad[1]);
}

namespace fan_out {
// h feeds two consumers: the second to run backward must add, not overwrite.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"h", 8>(x));
inline constexpr auto y = ctnn::add(ctnn::ref<h>, ctnn::dense<"g", 8>(ctnn::ref<h>));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<8>>)));
}  // namespace fan_out

TEST_CASE("fan-out: the first consumer in backward writes, the next accumulates", "[plan]") {
  using net = fan_out::net;
  using ctnn::grad_mode::input;
  using ctnn::grad_mode::input_accumulate;
  STATIC_REQUIRE(net::node_count == 6);  // x, h, g, add, t, loss
  constexpr std::size_t h = 1, g = 2, add = 3;
  STATIC_REQUIRE(net::infos[h].name == "h");
  STATIC_REQUIRE(net::infos[g].name == "g");
  STATIC_REQUIRE(net::plan.fan_out[h] == 2);
  // add runs backward first (highest index): it writes h's gradient...
  STATIC_REQUIRE((net::plan.grad_mask[add] & input(0)) != 0);
  STATIC_REQUIRE((net::plan.grad_mask[add] & input_accumulate(0)) == 0);
  // ...and g, running after it, adds to it.
  STATIC_REQUIRE((net::plan.grad_mask[g] & input(0)) != 0);
  STATIC_REQUIRE((net::plan.grad_mask[g] & input_accumulate(0)) != 0);
}

namespace tied {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<16>>;
inline constexpr auto b = ctnn::input<"b", ctnn::shape<16>>;
inline constexpr auto y = ctnn::add(ctnn::dense<"shared", 8>(a), ctnn::dense<"shared", 8>(b));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<8>>)));
}  // namespace tied

TEST_CASE("tied weights: one name, one slot in the flat buffer", "[plan]") {
  using net = tied::net;
  using ctnn::grad_mode::param;
  using ctnn::grad_mode::param_accumulate;
  STATIC_REQUIRE(net::param_count == 16 * 8 + 8);
  STATIC_REQUIRE(net::plan.params.unique == 2);
  STATIC_REQUIRE(net::param_buffer_size == ctnn::align_up(16 * 8) + ctnn::align_up(8));
  constexpr std::size_t first = 1, second = 3;  // a, dense(a), b, dense(b), add, t, loss
  STATIC_REQUIRE(net::infos[first].name == "shared");
  STATIC_REQUIRE(net::infos[second].name == "shared");
  STATIC_REQUIRE(net::plan.param_offset[first][0] == net::plan.param_offset[second][0]);
  STATIC_REQUIRE((net::plan.grad_mask[second] & param_accumulate(0)) == 0);
  STATIC_REQUIRE((net::plan.grad_mask[first] & param_accumulate(0)) != 0);
}

TEST_CASE("live ranges that overlap never share memory", "[plan]") {
  constexpr std::array<ctnn::live_range, 4> r{{{0, 2, 32}, {1, 1, 16}, {2, 3, 16}, {3, 3, 32}}};
  constexpr auto placed = [&] {
    std::array<std::size_t, 4> off{};
    const std::size_t total = ctnn::place_ranges(r, off);
    return std::pair{off, total};
  }();
  STATIC_REQUIRE(placed.first[0] == 0);
  STATIC_REQUIRE(placed.first[1] == 32);
  STATIC_REQUIRE(placed.first[2] == 32);  // [1] died at step 1
  STATIC_REQUIRE(placed.first[3] == 0);   // [0] died at step 2
  STATIC_REQUIRE(placed.second == 48);
}

TEST_CASE("the summary names every layer, its shape and the totals", "[plan]") {
  const std::string s = ctnn::summary<mlp::net>();
  CHECK_THAT(s, Catch::Contains("dense+relu") && Catch::Contains("fc1") && Catch::Contains("[256]"));
  CHECK_THAT(s, Catch::Contains("200,960"));
  CHECK_THAT(s, Catch::Contains("parameters: 235,146"));
}
