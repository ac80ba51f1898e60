// The networks of export_networks.hpp, exported (export_write.cpp, then
// tools/onnx_export.py, which runs onnx.checker) and imported back
// (tools/onnx_import.py, headers generated at build time): the imported
// network has the original's parameters and, on the same inputs, gives the
// same outputs bit for bit, for the batch and for one sample.
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/io/onnx_export.hpp>

#include "export_lenet_onnx.hpp"
#include "export_mlp_onnx.hpp"
#include "export_networks.hpp"
#include "export_sequence_onnx.hpp"

namespace {

constexpr std::size_t B = export_batch;

std::vector<float> floats(const std::vector<ctnn::io::npy_array>& arrays, const std::string& name) {
  for (const auto& a : arrays)
    if (a.name == name) {
      REQUIRE(a.dtype == "<f4");
      std::vector<float> v(a.size());
      std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
      return v;
    }
  FAIL("no array " << name);
  return {};
}

bool same_bits(std::span<const float> got, const std::vector<float>& expected) {
  return got.size() == expected.size() && std::memcmp(got.data(), expected.data(), got.size_bytes()) == 0;
}

// Each output of the imported network against the original's.
template <class Net, std::size_t Outputs, class Load>
void check_round_trip(const std::string& name, Load load) {
  const auto reference = ctnn::io::read_npz(std::string(CTNN_ONNX_EXPORT_DIR) + "/" + name + "_reference.npz");
  const std::vector<float> x = floats(reference, "input");
  const std::vector<float> first(x.begin(), x.begin() + x.size() / B);
  ctnn::model<Net, B, float> m;
  load(m);
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    const auto check = [&]<std::size_t k>(std::integral_constant<std::size_t, k>) {
      const std::vector<float> batch = floats(reference, "output_" + std::to_string(k));
      const std::vector<float> one = floats(reference, "output_" + std::to_string(k) + "_one");
      INFO(name << ", output " << k);
      CHECK(same_bits(m.template predict<k>(ctnn::feed<"image">(x)), batch));
      CHECK(same_bits(m.template predict_one<k>(ctnn::feed<"image">(first)), one));
    };
    (check(std::integral_constant<std::size_t, K>{}), ...);
  }(std::make_index_sequence<Outputs>{});
}

}  // namespace

TEST_CASE("onnx_export: an MLP with batch norm, dropout, fused and separate activations, softmax") {
  static_assert(export_mlp_onnx::network::param_count == export_mlp::network::param_count);
  static_assert(export_mlp_onnx::network::output_count == 2);
  check_round_trip<export_mlp_onnx::network, 2>("export_mlp", [](auto& m) { export_mlp_onnx::load(m); });
}

TEST_CASE("onnx_export: a conv net: strided, padded, floor and ceil windows, channel dropout, batch norm, 3 outputs") {
  static_assert(export_lenet_onnx::network::param_count == export_lenet::network::param_count);
  static_assert(export_lenet_onnx::network::output_count == 3);
  check_round_trip<export_lenet_onnx::network, 3>("export_lenet", [](auto& m) { export_lenet_onnx::load(m); });
}

TEST_CASE("onnx_export: dense layers on a sequence (MatMul, Add) and log-softmax over each step") {
  static_assert(export_sequence_onnx::network::param_count == export_sequence::network::param_count);
  check_round_trip<export_sequence_onnx::network, 1>("export_sequence",
                                                      [](auto& m) { export_sequence_onnx::load(m); });
}

namespace with_maxout {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
using network = decltype(ctnn::network(ctnn::outputs(ctnn::maxout<2>(ctnn::dense<"fc", 8>(x)))));
}  // namespace with_maxout

TEST_CASE("onnx_export: exportable_to_onnx says which networks can be exported") {
  static_assert(ctnn::exportable_to_onnx<export_mlp::network>);
  static_assert(ctnn::exportable_to_onnx<export_lenet::network>);
  static_assert(!ctnn::exportable_to_onnx<with_maxout::network>);
  // Only what predict computes counts: the loss and its label are left out.
  const ctnn::io::graph_description g = ctnn::describe_onnx<export_mlp::network>("mlp", "mlp.npz");
  REQUIRE(g.inputs.size() == 1);
  CHECK(g.inputs[0].name == "image");
  CHECK(g.inputs[0].shape == std::vector<std::size_t>{20});
  REQUIRE(g.outputs.size() == 2);
  CHECK(g.outputs[0].name == "fc5");
  CHECK(g.outputs[1].shape == std::vector<std::size_t>{5});
  CHECK(g.nodes.size() == 13);
  CHECK(g.initializers.size() == 14);  // 5 weights, 4 biases, 4 batch norm tensors, the dropout ratio
}

TEST_CASE("onnx_export: the JSON escapes names and writes each double so that it reads back the same") {
  ctnn::io::graph_description g;
  g.name = "a\"b\\c\nd";
  g.parameters = "p.npz";
  g.initializers.push_back({"r", "", {}, {}, {0.1, 1e-05, 3.0}});
  g.nodes.push_back({"LeakyRelu", "n/LeakyRelu", {"x"}, {"y"}, {ctnn::io::float_attribute("alpha", 0.1)}});
  const std::string json = ctnn::io::to_json(g);
  CHECK(json.find(R"("name": "a\"b\\c\u000ad")") != std::string::npos);
  CHECK(json.find(R"("values": [0.1, 1e-05, 3])") != std::string::npos);
  CHECK(json.find(R"({"name": "alpha", "type": "float", "value": 0.1})") != std::string::npos);
  CHECK(json.find(R"("inputs": [],)") != std::string::npos);
}
