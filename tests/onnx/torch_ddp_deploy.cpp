// The MLP trained in PyTorch with DistributedDataParallel
// (tests/onnx/torch_ddp_train.py), exported to ONNX and imported by
// tools/onnx_import.py --weights auto (torch_ddp_mlp.hpp): at compile time it
// is dsl/models/mlp.hpp's network layer for layer, and on the inputs PyTorch
// ran it gives PyTorch's logits. docs/deploy.md's guide runs these steps.
#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <models/mlp.hpp>

#include "torch_ddp_mlp.hpp"
#include "torch_round_trip_check.hpp"

namespace {

// The layers a prediction runs (inputs and computing nodes; labels and
// losses are training's), in the network's order: each one's kind, output
// shape and parameters' names and shapes.
template <class Network>
constexpr auto prediction_layers() {
  std::array<ctnn::node_info, Network::node_count> layers{};
  std::size_t n = 0;
  for (const ctnn::node_info& i : Network::infos)
    if (i.role == ctnn::node_role::input || i.role == ctnn::node_role::compute) layers[n++] = i;
  return std::pair{layers, n};
}

template <class A, class B>
constexpr bool same_layers() {
  constexpr auto a = prediction_layers<A>();
  constexpr auto b = prediction_layers<B>();
  if (a.second != b.second) return false;
  for (std::size_t k = 0; k < a.second; ++k) {
    const ctnn::node_info &x = a.first[k], &y = b.first[k];
    if (x.kind != y.kind || x.role != y.role || !(x.out == y.out) || x.param_count != y.param_count) return false;
    for (std::size_t p = 0; p < x.param_count; ++p)
      if (x.params[p].name != y.params[p].name || !(x.params[p].shape == y.params[p].shape)) return false;
  }
  return true;
}

using imported = torch_ddp_mlp::network;
using dsl = ctnn::models::mlp::network;

static_assert(imported::param_count == dsl::param_count,
              "the MLP trained in PyTorch must have the parameters of ctnn::models::mlp::network");
static_assert(same_layers<imported, dsl>(),
              "the MLP trained in PyTorch must have the layers, shapes and parameter shapes of "
              "ctnn::models::mlp::network");
// The comparison tells networks apart: batch norm (no fc bias, a bn layer) or dropout (one more layer).
static_assert(!same_layers<imported, ctnn::models::mlp::mlp_bn>());
static_assert(!same_layers<imported, ctnn::models::mlp::mlp_dropout<0.2>>());
static_assert(std::is_same_v<decltype(torch_ddp_mlp::image)::out_shape,
                             decltype(ctnn::models::mlp::image)::out_shape>);
static_assert(std::is_same_v<decltype(torch_ddp_mlp::fc3)::out_shape,
                             decltype(ctnn::models::mlp::logits)::out_shape>);

constexpr std::size_t samples = 8;  // torch_ddp_train.py's SAMPLES

}  // namespace

TEST_CASE("torch_ddp_deploy: the trained MLP predicts PyTorch's logits") {
  const ctnn_torch::data_set data(CTNN_TORCH_DDP_DIR "/torch_ddp_mlp.npz");
  REQUIRE(data.input(0).size() == samples * 784);
  auto m = std::make_unique<ctnn::model<imported, samples, float>>(ctnn::uninitialized);
  torch_ddp_mlp::load(*m);
  data.check(0, m->predict(ctnn::feed<"image">(data.input(0))));
}

TEST_CASE("torch_ddp_deploy: the weights load into the DSL model too") {
  // Same names and shapes: the trained weights fit ctnn::models::mlp, which can
  // go on training from them; its prediction is the imported network's.
  const ctnn_torch::data_set data(CTNN_TORCH_DDP_DIR "/torch_ddp_mlp.npz");
  auto m = std::make_unique<ctnn::model<dsl, samples, float>>();
  m->template param<"fc1.weight">() = torch_ddp_mlp::fc1_weight;
  m->template param<"fc1.bias">() = torch_ddp_mlp::fc1_bias;
  m->template param<"fc2.weight">() = torch_ddp_mlp::fc2_weight;
  m->template param<"fc2.bias">() = torch_ddp_mlp::fc2_bias;
  m->template param<"fc3.weight">() = torch_ddp_mlp::fc3_weight;
  m->template param<"fc3.bias">() = torch_ddp_mlp::fc3_bias;
  data.check(0, m->predict(ctnn::feed<"image">(data.input(0))));
}
