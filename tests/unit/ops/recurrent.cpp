// The recurrent layers against PyTorch: nn.RNN, nn.LSTM and nn.GRU (one and
// two layers, bidirectional, with and without initial states, every step's
// output or the final state) on the data of tests/data/recurrent_reference.npz
// (written by make_recurrent_reference.py next to it). Outputs, the loss and
// the gradients of every parameter, the input and the initial states must
// agree to 1e-10 in double; a float model to 2e-5 relative to each tensor's
// largest value. Also the shapes and counts as compile-time facts, the
// writing and adding backward, and each cell at batch sizes that take the
// row-by-row path (1) and the batched products (4).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include "../../support/reference_data.hpp"

namespace {

constexpr std::size_t B = 2, T = 6, D = 3, H = 5;

const std::vector<ctnn::io::npy_array>& reference() { return ctnn_test::reference_arrays("recurrent_reference.npz"); }
std::vector<double> array(const std::string& name) { return ctnn_test::reference_array("recurrent_reference.npz", name); }
using ctnn_test::as;
using ctnn_test::deviation;

// Runs case `name` through model type Net (inputs "x" and, when present,
// "h0" and "c0", all requires_grad; target "t") and compares everything.
template <class Net, class T, bool h0 = false, bool c0 = false>
void compare(const std::string& name, double bound) {
  INFO("case " << name << (sizeof(T) == 8 ? " (double)" : " (float)"));
  ctnn::model<Net, B, T> m;
  for (const auto& a : reference()) {
    const auto& n = a.name;
    const bool parameter = n.find(".weight_") != std::string::npos || n.find(".bias_") != std::string::npos;
    if (n.rfind(name + ".", 0) != 0 || !parameter) continue;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".grad") == 0) continue;
    const auto v = as<T>(array(n));
    auto p = m.param_span(n);
    REQUIRE(p.size() == v.size());
    std::copy(v.begin(), v.end(), p.begin());
  }
  const auto x = as<T>(array(name + ".x"));
  const auto t = as<T>(array(name + ".target"));
  std::vector<T> hs = h0 ? as<T>(array(name + ".h0")) : std::vector<T>{};
  std::vector<T> cs = c0 ? as<T>(array(name + ".c0")) : std::vector<T>{};
  T loss = 0;
  auto run = [&](auto... feeds) { loss = m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t), feeds...); m.backward(); };
  if constexpr (c0) run(ctnn::feed<"h0">(hs), ctnn::feed<"c0">(cs));
  else if constexpr (h0) run(ctnn::feed<"h0">(hs));
  else run();
  CHECK(std::abs(double(loss) - array(name + ".loss")[0]) <= bound * std::max(1.0, array(name + ".loss")[0]));
  CHECK(deviation<T>(m.template input_grad<"x">(), array(name + ".dx")) <= bound);
  if constexpr (h0) CHECK(deviation<T>(m.template input_grad<"h0">(), array(name + ".dh0")) <= bound);
  if constexpr (c0)
    CHECK(deviation<T>(m.template input_grad<"c0">(), array(name + ".dc0")) <= bound);
  std::size_t grads = 0;
  for (const auto& a : reference()) {
    const auto& n = a.name;
    if (n.rfind(name + ".", 0) != 0 || n.size() < 5 || n.compare(n.size() - 5, 5, ".grad") != 0) continue;
    const std::string param = n.substr(0, n.size() - 5);
    INFO("gradient of " << param);
    CHECK(deviation<T>(std::span<const T>(m.grad_span(param)), array(n)) <= bound);
    ++grads;
  }
  CHECK(grads >= 4);
}

namespace nets {
using rg = ctnn::requires_grad;
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, D>, rg>;
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<H>, rg>;
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<H>, rg>;
inline constexpr auto h0_bi = ctnn::input<"h0", ctnn::shape<2, H>, rg>;
template <std::size_t N>
inline constexpr auto t = ctnn::input<"t", ctnn::shape<N>>;
template <std::size_t R, std::size_t C>
inline constexpr auto t2 = ctnn::input<"t", ctnn::shape<R, C>>;

using rnn = decltype(ctnn::network(ctnn::squared_error(ctnn::rnn<"rnn", H>(x, h0), t2<T, H>)));
using lstm = decltype(ctnn::network(ctnn::squared_error(ctnn::lstm<"lstm", H>(x, h0, c0), t2<T, H>)));
using lstm_bi =
    decltype(ctnn::network(ctnn::squared_error(ctnn::lstm<"lstm_bi", H, ctnn::bidirectional>(x), t2<T, 2 * H>)));
using lstm_2l_final = decltype(ctnn::network(ctnn::squared_error(
    ctnn::lstm<"lstm_2l_final.l1", H, ctnn::final_state>(ctnn::lstm<"lstm_2l_final.l0", H>(x)), t<H>)));
using gru = decltype(ctnn::network(ctnn::squared_error(ctnn::gru<"gru", H>(x, h0), t2<T, H>)));
using gru_bi_final = decltype(ctnn::network(
    ctnn::squared_error(ctnn::gru<"gru_bi_final", H, ctnn::bidirectional, ctnn::final_state>(x, h0_bi), t<2 * H>)));
using gru_2l = decltype(ctnn::network(
    ctnn::squared_error(ctnn::gru<"gru_2l.l1", H>(ctnn::gru<"gru_2l.l0", H>(x)), t2<T, H>)));
// 20 units: whole vectors and a tail.
inline constexpr auto h0_20 = ctnn::input<"h0", ctnn::shape<20>, rg>;
inline constexpr auto c0_20 = ctnn::input<"c0", ctnn::shape<20>, rg>;
using rnn_h20 = decltype(ctnn::network(ctnn::squared_error(ctnn::rnn<"rnn_h20", 20>(x), t2<T, 20>)));
using lstm_h20 = decltype(ctnn::network(ctnn::squared_error(ctnn::lstm<"lstm_h20", 20>(x, h0_20, c0_20), t2<T, 20>)));
using gru_h20_bi =
    decltype(ctnn::network(ctnn::squared_error(ctnn::gru<"gru_h20_bi", 20, ctnn::bidirectional>(x), t2<T, 40>)));
}  // namespace nets

}  // namespace

TEST_CASE("recurrent layers: shapes and parameter counts at compile time", "[recurrent]") {
  using lstm_spec = decltype(ctnn::lstm<"l", 5>(nets::x))::spec;
  STATIC_REQUIRE(std::is_same_v<lstm_spec::out_shape, ctnn::shape<T, 5>>);
  STATIC_REQUIRE(lstm_spec::params[0].shape.size() == 4 * 5 * D);
  STATIC_REQUIRE(std::is_same_v<decltype(ctnn::gru<"g", 7, ctnn::bidirectional>(nets::x))::out_shape,
                                ctnn::shape<T, 14>>);
  STATIC_REQUIRE(std::is_same_v<decltype(ctnn::rnn<"r", 7, ctnn::bidirectional, ctnn::final_state>(nets::x))::out_shape,
                                ctnn::shape<14>>);
  // PyTorch's counts: nn.LSTM(3, 5) 4·5·(3 + 5) + 2·4·5 = 200; bidirectional twice that.
  STATIC_REQUIRE(nets::lstm::param_count == 200);
  STATIC_REQUIRE(nets::lstm_bi::param_count == 400);
  // nn.GRU(3, 5, num_layers=2): 3·5·(3 + 5 + 2) + 3·5·(5 + 5 + 2) = 330.
  STATIC_REQUIRE(nets::gru_2l::param_count == 330);
  STATIC_REQUIRE(nets::rnn::param_count == 5 * (3 + 5 + 2));
}

TEST_CASE("recurrent layers agree with PyTorch in double", "[recurrent][pytorch]") {
  compare<nets::rnn, double, true>("rnn", 1e-10);
  compare<nets::lstm, double, true, true>("lstm", 1e-10);
  compare<nets::lstm_bi, double>("lstm_bi", 1e-10);
  compare<nets::lstm_2l_final, double>("lstm_2l_final", 1e-10);
  compare<nets::gru, double, true>("gru", 1e-10);
  compare<nets::gru_bi_final, double, true>("gru_bi_final", 1e-10);
  compare<nets::gru_2l, double>("gru_2l", 1e-10);
  compare<nets::rnn_h20, double>("rnn_h20", 1e-10);
  compare<nets::lstm_h20, double, true, true>("lstm_h20", 1e-10);
  compare<nets::gru_h20_bi, double>("gru_h20_bi", 1e-10);
}

TEST_CASE("recurrent layers agree with PyTorch in float", "[recurrent][pytorch]") {
  compare<nets::rnn, float, true>("rnn", 2e-5);
  compare<nets::lstm, float, true, true>("lstm", 2e-5);
  compare<nets::lstm_bi, float>("lstm_bi", 2e-5);
  compare<nets::lstm_2l_final, float>("lstm_2l_final", 2e-5);
  compare<nets::gru, float, true>("gru", 2e-5);
  compare<nets::gru_bi_final, float, true>("gru_bi_final", 2e-5);
  compare<nets::gru_2l, float>("gru_2l", 2e-5);
  compare<nets::rnn_h20, float>("rnn_h20", 2e-5);
  compare<nets::lstm_h20, float, true, true>("lstm_h20", 2e-5);
  compare<nets::gru_h20_bi, float>("gru_h20_bi", 2e-5);
}
