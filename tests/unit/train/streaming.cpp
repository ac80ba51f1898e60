// ctnn::streaming: a network trained on whole sequences, run one step of one
// sample at a time. Each step's output must equal the full-sequence
// forward's row for that step (predict_one) bit for bit: an LSTM with a
// dense head on a one-feature signal (the audio-effect shape), a GRU and an
// RNN stacked over embedded ids with a fused and a separate activation, and
// an LSTM with its final state only, which equals the full forward at the
// last step. reset() starts over; step() allocates nothing.
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/train/streaming.hpp>

#include "../../support/count_allocations.hpp"

namespace audio {
inline constexpr std::size_t T = 50;
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, 1>>;
inline constexpr auto y = ctnn::dense<"out", 1>(ctnn::lstm<"lstm", 32>(x));
using net = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace audio

namespace tokens {
inline constexpr std::size_t T = 12;
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<T>>;
inline constexpr auto h = ctnn::rnn<"rnn", 9>(ctnn::gru<"gru", 20>(ctnn::embedding<"emb", 11, 6>(ids)));
inline constexpr auto y = ctnn::dense<"out", 11>(ctnn::tanh(ctnn::dense<"mid", 13>(ctnn::relu(ctnn::ref<h>))));
using net = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace tokens

namespace summary {
inline constexpr std::size_t T = 20;
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, 3>>;
inline constexpr auto y = ctnn::dense<"out", 2>(ctnn::lstm<"lstm", 16, ctnn::final_state>(x));
using net = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace summary

namespace {
template <class V>
bool same_bits(std::span<const float> a, const V& b) {
  return a.size() == std::size(b) && std::memcmp(a.data(), std::data(b), a.size_bytes()) == 0;
}
}  // namespace

TEST_CASE("streaming an LSTM on a one-feature signal equals the full-sequence forward bit for bit", "[recurrent][streaming]") {
  using namespace audio;
  ctnn::model<net, 1> m(3);
  std::array<float, T> signal{};
  for (std::size_t t = 0; t < T; ++t) signal[t] = float(std::sin(0.3 * double(t)) + 0.1 * std::cos(1.7 * double(t)));
  const auto full = m.predict_one(ctnn::feed<"x">(signal));
  const std::vector<float> expected(full.begin(), full.end());

  ctnn::streaming<net> s(m);
  STATIC_REQUIRE(ctnn::streaming<net>::output_size == 1);
  std::vector<float> streamed;
  const long before = ctnn_test::allocations.load();
  for (std::size_t t = 0; t < T; ++t) streamed.push_back(s.step(ctnn::feed<"x">(&signal[t]))[0]);
  // push_back may allocate; count step() alone on a second pass.
  s.reset();
  const long mid = ctnn_test::allocations.load();
  float last = 0;
  for (std::size_t t = 0; t < T; ++t) last = s.step(ctnn::feed<"x">(&signal[t]))[0];
  CHECK(ctnn_test::allocations.load() == mid);
  (void)before;
  CHECK(same_bits(std::span<const float>(streamed), expected));
  CHECK(last == expected.back());
  // A different stream from a fresh state gives different values.
  s.reset();
  const float zero_in = 0;
  CHECK(s.step(ctnn::feed<"x">(&zero_in))[0] != streamed[0]);
}

TEST_CASE("streaming embedded ids through a GRU and an RNN with activations equals the full forward", "[recurrent][streaming]") {
  using namespace tokens;
  ctnn::model<net, 1> m(5);
  std::array<float, T> ids{};
  for (std::size_t t = 0; t < T; ++t) ids[t] = float((t * 7 + 3) % 11);
  const auto full = m.predict_one(ctnn::feed<"ids">(ids));
  const std::vector<float> expected(full.begin(), full.end());
  ctnn::streaming<net> s(m);
  STATIC_REQUIRE(ctnn::streaming<net>::output_size == 11);
  for (int pass = 0; pass < 2; ++pass) {
    s.reset();
    std::vector<float> streamed;
    for (std::size_t t = 0; t < T; ++t) {
      const auto y = s.step(ctnn::feed<"ids">(&ids[t]));
      streamed.insert(streamed.end(), y.begin(), y.end());
    }
    CHECK(same_bits(std::span<const float>(streamed), expected));
  }
  // An id outside the table is an error that names the layer.
  const float bad = 11;
  CHECK_THROWS_WITH(s.step(ctnn::feed<"ids">(&bad)), Catch::Contains("ctnn::embedding 'emb'"));
}

TEST_CASE("streaming a final-state LSTM gives the full forward after the last step", "[recurrent][streaming]") {
  using namespace summary;
  ctnn::model<net, 4> trained(9);
  std::array<float, T * 3> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(std::cos(0.11 * double(i * i % 17)));
  ctnn::model<net, 1> one;
  std::copy(trained.parameters().begin(), trained.parameters().end(), one.parameters().begin());
  const auto full = one.predict_one(ctnn::feed<"x">(x));
  const std::vector<float> expected(full.begin(), full.end());
  ctnn::streaming<net> s(trained);  // parameters from a model of another batch size
  std::span<const float> y;
  for (std::size_t t = 0; t < T; ++t) y = s.step(ctnn::feed<"x">(std::span<const float>(x.data() + 3 * t, 3)));
  CHECK(same_bits(y, expected));
}
