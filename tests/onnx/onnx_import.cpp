// Networks imported from ONNX by tools/onnx_import.py (headers generated at
// build time from the models of make_models.py): the shapes and parameter
// counts are static_asserts inside each header; here each network runs with
// its imported weights on the saved batch and its outputs are compared with
// ONNX's (float64): each element of a float model within 2e-6 + 1e-4·|y|
// (at most 5e-6 apart, 3e-6 relative, measured), of a double model within
// 1e-12 + 1e-11·|y| (9e-14 measured): the import adds no error beyond the
// arithmetic's rounding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>

#include "bn_net.hpp"
#include "conv_net.hpp"
#include "conv_net_blob.hpp"
#include "elementwise_net.hpp"
#include "exported_lstm.hpp"
#include "mlp_gemm.hpp"
#include "mlp_matmul.hpp"
#include "sequence_net.hpp"

namespace {

constexpr std::size_t B = 3;  // make_models.py's batch

struct reference {
  std::vector<float> input;
  std::vector<std::vector<double>> expected;
};

template <class T>
std::vector<T> values(const ctnn::io::npy_array& a, const char* dtype) {
  REQUIRE(a.dtype == dtype);
  std::vector<T> v(a.size());
  std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
  return v;
}

reference load_reference(const std::string& model) {
  reference r;
  const auto arrays = ctnn::io::read_npz(std::string(CTNN_ONNX_MODELS_DIR) + "/" + model + ".npz");
  for (std::size_t k = 0;; ++k) {
    const auto it = std::find_if(arrays.begin(), arrays.end(),
                                 [&](const auto& a) { return a.name == "expected_" + std::to_string(k); });
    if (it == arrays.end()) break;
    r.expected.push_back(values<double>(*it, "<f8"));
  }
  for (const auto& a : arrays)
    if (a.name == "input") r.input = values<float>(a, "<f4");
  REQUIRE(!r.input.empty());
  REQUIRE(!r.expected.empty());
  return r;
}

// Every element within atol + rtol·|expected|; prints the largest errors.
template <class T>
void check_close(const char* what, std::span<const T> got, const std::vector<double>& expected, double rtol,
                 double atol) {
  REQUIRE(got.size() == expected.size());
  double max_abs = 0, max_rel = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double e = expected[i], d = std::abs(double(got[i]) - e);
    max_abs = std::max(max_abs, d);
    if (e != 0) max_rel = std::max(max_rel, d / std::abs(e));
    INFO(what << " element " << i << ": " << double(got[i]) << " against " << e);
    REQUIRE(d <= atol + rtol * std::abs(e));
  }
  std::printf("%s: max abs error %.3g, max relative error %.3g\n", what, max_abs, max_rel);
}

template <class T>
std::vector<T> as(const std::vector<float>& x) {
  return std::vector<T>(x.begin(), x.end());
}

// A float model against ONNX's float64 outputs: float rounding through a few
// layers. A double model (the same float weights, widened exactly) differs
// only by the order of its sums.
constexpr double float_rtol = 1e-4, float_atol = 2e-6;
constexpr double double_rtol = 1e-11, double_atol = 1e-12;

// Output K for the whole batch, and for the first sample alone (predict_one).
template <ctnn::fixed_string In, std::size_t K, class T, class Net>
void check_output(const std::string& what, ctnn::model<Net, B, T>& m, const reference& r, double rtol, double atol) {
  const std::vector<T> x = as<T>(r.input);
  check_close<T>(what.c_str(), m.template predict<K>(ctnn::feed<In>(x)), r.expected[K], rtol, atol);
  const std::vector<T> first(x.begin(), x.begin() + x.size() / B);
  const std::vector<double> expected(r.expected[K].begin(), r.expected[K].begin() + r.expected[K].size() / B);
  check_close<T>((what + ", one sample").c_str(), m.template predict_one<K>(ctnn::feed<In>(first)), expected, rtol,
                 atol);
}

// Net (input In, Outputs outputs) with the weights `load` copies in, in
// float and in double, against make_models.py's `name`.npz.
template <class Net, ctnn::fixed_string In, std::size_t Outputs, class Load>
void check_network(const std::string& name, Load load) {
  const reference r = load_reference(name);
  REQUIRE(r.expected.size() == Outputs);
  ctnn::model<Net, B, float> mf;
  ctnn::model<Net, B, double> md;
  load(mf);
  load(md);
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (check_output<In, K>(name + " float, output " + std::to_string(K), mf, r, float_rtol, float_atol), ...);
    (check_output<In, K>(name + " double, output " + std::to_string(K), md, r, double_rtol, double_atol), ...);
  }(std::make_index_sequence<Outputs>{});
}

}  // namespace

TEST_CASE("onnx_import: an MLP of Gemm layers (transB 1 and 0), ReLU, LeakyReLU, Softmax") {
  check_network<mlp_gemm::network, "input", 1>("mlp_gemm", [](auto& m) { mlp_gemm::load(m); });
}

TEST_CASE("onnx_import: MatMul + Add as dense layers, Tanh, Dropout, Sigmoid, Elu, LogSoftmax, two outputs") {
  check_network<mlp_matmul::network, "x_1", 2>("mlp_matmul", [](auto& m) { mlp_matmul::load(m); });
}

TEST_CASE("onnx_import: a conv net: padded Conv, ceil-mode MaxPool, a floor-mode strided Conv, Flatten, Gemm") {
  check_network<conv_net::network, "image", 1>("conv_net", [](auto& m) { conv_net::load(m); });
}

TEST_CASE("onnx_import: conv_net with its weights linked in as a blob predicts the literal import's bits") {
  static_assert(std::is_same_v<conv_net_blob::network, conv_net::network>);
  // The blob's arrays are aligned for the widest vector load.
  CHECK(reinterpret_cast<std::uintptr_t>(&conv_net_blob::conv1_weight[0]) % 64 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(&conv_net_blob::fc_bias[0]) % 64 == 0);
  CHECK(std::memcmp(conv_net_blob::fc_weight, conv_net::fc_weight, sizeof conv_net::fc_weight) == 0);
  const reference r = load_reference("conv_net");
  ctnn::model<conv_net::network, B, float> literal, blob;
  conv_net::load(literal);
  conv_net_blob::load(blob);
  const std::span<const float> a = literal.predict(ctnn::feed<"image">(r.input));
  const std::span<const float> b = blob.predict(ctnn::feed<"image">(r.input));
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
  // Loaded parameters stay trainable: the blob is only where they start from.
  blob.param<"fc.bias">()[0] += 1.0f;
  CHECK(conv_net_blob::fc_bias[0] + 1.0f == blob.param<"fc.bias">()[0]);
}

TEST_CASE("onnx_import: BatchNormalization of feature maps and of a flat layer, AveragePool, GlobalAveragePool") {
  check_network<bn_net::network, "pixels", 1>("bn_net", [](auto& m) { bn_net::load(m); });
}

TEST_CASE("onnx_import: grouped Conv, Add/Sub/Mul/Div/Sum/Neg/Exp, ConvTranspose, Concat, Reshape, Squeeze") {
  check_network<elementwise_net::network, "x", 1>("elementwise_net", [](auto& m) { elementwise_net::load(m); });
}

TEST_CASE("onnx_import: a bidirectional LSTM, a GRU, an RNN's Y_h, the transposes around them, LayerNormalization") {
  check_network<sequence_net::network, "seq", 2>("sequence_net", [](auto& m) { sequence_net::load(m); });
}

TEST_CASE("onnx_import: an LSTM as PyTorch exports it: zero initial states from Shape, Gather, Concat, Expand") {
  check_network<exported_lstm::network, "rows", 1>("exported_lstm", [](auto& m) { exported_lstm::load(m); });
}
