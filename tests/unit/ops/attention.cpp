// The attention ops against PyTorch: nn.MultiheadAttention (2 heads; 4 heads
// with a causal mask), nn.LayerNorm, nn.GELU and a pre-norm encoder block of
// them with two nn.Linear layers, on the data of
// tests/data/attention_reference.npz (written by make_attention_reference.py
// next to it). Outputs, the loss and the gradients of every parameter and of
// the input must agree to 1e-10 in double; a float model to 2e-5 relative to
// each tensor's largest value.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include "../../support/reference_data.hpp"

namespace {

constexpr std::size_t T = 5, D = 8, FF = 16;

const std::vector<ctnn::io::npy_array>& reference() { return ctnn_test::reference_arrays("attention_reference.npz"); }
std::vector<double> array(const std::string& name) { return ctnn_test::reference_array("attention_reference.npz", name); }
using ctnn_test::as;
using ctnn_test::deviation;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The case's arrays that are not parameters.
bool is_data(const std::string& name, const std::string& n) {
  for (const char* k : {"x", "target", "output", "loss", "dx"})
    if (n == name + "." + k) return true;
  return false;
}

// Runs case `name` through model type Net at batch B (input "x" with
// requires_grad, target "t"), loading every "<name>.*" parameter by its ctnn
// name, and compares the output, the loss and every gradient.
template <class Net, std::size_t B, class T>
void compare(const std::string& name, double bound) {
  INFO("case " << name << (sizeof(T) == 8 ? " (double)" : " (float)"));
  ctnn::model<Net, B, T> m;
  std::size_t loaded = 0;
  for (const auto& a : reference()) {
    const auto& n = a.name;
    if (n.rfind(name + ".", 0) != 0 || is_data(name, n) || ends_with(n, ".grad")) continue;
    const auto v = as<T>(array(n));
    auto p = m.param_span(n);
    REQUIRE(p.size() == v.size());
    std::copy(v.begin(), v.end(), p.begin());
    loaded += v.size();
  }
  CHECK(loaded == Net::param_count);  // every parameter came from PyTorch
  const auto x = as<T>(array(name + ".x"));
  const auto t = as<T>(array(name + ".target"));
  const T loss = m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  m.backward();
  const double ref_loss = array(name + ".loss")[0];
  CHECK(std::abs(double(loss) - ref_loss) <= bound * std::max(1.0, std::abs(ref_loss)));
  // The forward pass again, by predict, for the output itself.
  CHECK(deviation<T>(m.predict(ctnn::feed<"x">(x)), array(name + ".output")) <= bound);
  CHECK(deviation<T>(m.template input_grad<"x">(), array(name + ".dx")) <= bound);
  std::size_t compared = 0;
  for (const auto& a : reference()) {
    const auto& n = a.name;
    if (n.rfind(name + ".", 0) != 0 || !ends_with(n, ".grad")) continue;
    const std::string param = n.substr(0, n.size() - 5);
    INFO("gradient of " << param);
    CHECK(deviation<T>(std::span<const T>(m.grad_span(param)), array(n)) <= bound);
    compared += a.size();
  }
  CHECK(compared == Net::param_count);
}

namespace nets {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, D>, ctnn::requires_grad>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<T, D>>;

// The loss of y and y itself as the output predict returns.
template <auto y>
using with_loss = decltype(ctnn::network(ctnn::squared_error(y, t), ctnn::outputs(y)));

inline constexpr auto mha_y = ctnn::multi_head_attention<"mha", 2>(x);
using mha = with_loss<mha_y>;
inline constexpr auto mha_causal_y = ctnn::multi_head_attention<"mha_causal", 4, ctnn::causal>(x);
using mha_causal = with_loss<mha_causal_y>;
inline constexpr auto ln_y = ctnn::layer_norm<"ln">(x);
using ln = with_loss<ln_y>;
inline constexpr auto gelu_y = ctnn::gelu(x);
using gelu = with_loss<gelu_y>;

// x1 = x + attn(ln1(x)); y = x1 + lin2(gelu(lin1(ln2(x1)))), causal with 2 heads.
inline constexpr auto x1 =
    ctnn::add(x, ctnn::multi_head_attention<"block.attn", 2, ctnn::causal>(ctnn::layer_norm<"block.ln1">(x)));
inline constexpr auto block_y = ctnn::add(
    ctnn::ref<x1>,
    ctnn::dense<"block.lin2", D>(ctnn::gelu(ctnn::dense<"block.lin1", FF>(ctnn::layer_norm<"block.ln2">(ctnn::ref<x1>)))));
using block = with_loss<block_y>;
}  // namespace nets

}  // namespace

TEST_CASE("attention ops: PyTorch's parameter counts", "[attention]") {
  // nn.MultiheadAttention(8, h): 3·8·8 + 3·8 + 8·8 + 8 = 288 for any h.
  STATIC_REQUIRE(nets::mha::param_count == 288);
  STATIC_REQUIRE(nets::mha_causal::param_count == 288);
  STATIC_REQUIRE(nets::ln::param_count == 2 * D);
  STATIC_REQUIRE(nets::gelu::param_count == 0);
  // Two LayerNorms, the attention, nn.Linear(8, 16) and nn.Linear(16, 8).
  STATIC_REQUIRE(nets::block::param_count == 2 * 2 * D + 288 + (D * FF + FF) + (FF * D + D));
}

TEST_CASE("attention ops agree with PyTorch in double", "[attention][pytorch]") {
  compare<nets::mha, 2, double>("mha", 1e-10);
  compare<nets::mha_causal, 3, double>("mha_causal", 1e-10);
  compare<nets::ln, 2, double>("ln", 1e-10);
  compare<nets::gelu, 3, double>("gelu", 1e-10);
  compare<nets::block, 2, double>("block", 1e-10);
}

TEST_CASE("attention ops agree with PyTorch in float", "[attention][pytorch]") {
  compare<nets::mha, 2, float>("mha", 2e-5);
  compare<nets::mha_causal, 3, float>("mha_causal", 2e-5);
  compare<nets::ln, 2, float>("ln", 2e-5);
  compare<nets::gelu, 3, float>("gelu", 2e-5);
  compare<nets::block, 2, float>("block", 2e-5);
}
