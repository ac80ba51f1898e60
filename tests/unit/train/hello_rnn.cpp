// Seed 003's character RNN: vocabulary [h, l, e, o] in the seed's order,
// h_t = tanh(W_hh h_{t−1} + W_xh x_t), y_t = W_hy h_t, a softmax classifier at
// every step, trained on "hello": fed "hell" one-hot, the targets are "ello".
// After training, fed "h" alone the network must emit "ello", one character
// at a time, each fed back as the next input.
#include <array>
#include <string>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>

namespace hello {
inline constexpr std::size_t T = 4, V = 4;
inline constexpr auto chars = std::array<char, V>{'h', 'l', 'e', 'o'};
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, V>>;  // one-hot characters
inline constexpr auto y = ctnn::dense<"why", V, ctnn::no_bias>(ctnn::rnn<"rnn", 8>(x));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(y, ctnn::label<"next", V, T>), ctnn::outputs(y)));

constexpr int id(char c) {
  for (std::size_t i = 0; i < V; ++i)
    if (chars[i] == c) return int(i);
  return -1;
}
}  // namespace hello

TEST_CASE("the seed's hello character RNN: fed 'h' it emits 'ello'", "[recurrent][golden]") {
  using namespace hello;
  std::array<float, T * V> x{};
  std::array<float, T> next{};
  const std::string input = "hell", target = "ello";
  for (std::size_t t = 0; t < T; ++t) {
    x[t * V + std::size_t(id(input[t]))] = 1;
    next[t] = float(id(target[t]));
  }
  ctnn::trainer<net, ctnn::batch<1>, ctnn::optim::adam> tr({.lr = 0.05}, 7);
  float loss = 0;
  for (int s = 0; s < 300; ++s) loss = tr.step(ctnn::feed<"x">(x), ctnn::feed<"next">(next));
  INFO("loss after 300 steps " << loss);
  CHECK(loss < 0.05f);  // summed over the 4 steps

  // Generation: the network is causal, so step t's scores depend only on
  // the characters up to t; each emitted character becomes input t + 1.
  std::array<float, T * V> fed{};
  fed[std::size_t(id('h'))] = 1;
  std::string emitted;
  for (std::size_t t = 0; t < T; ++t) {
    const auto scores = tr.model().predict_one(ctnn::feed<"x">(fed));
    std::size_t best = 0;
    for (std::size_t c = 1; c < V; ++c)
      if (scores[t * V + c] > scores[t * V + best]) best = c;
    emitted += chars[best];
    if (t + 1 < T) fed[(t + 1) * V + best] = 1;
  }
  CHECK(emitted == "ello");

  // A target outside the vocabulary is refused, naming the step.
  next[2] = 4;
  CHECK_THROWS_WITH(tr.step(ctnn::feed<"x">(x), ctnn::feed<"next">(next)),
                    Catch::Contains("label 'next' of sample 0, step 2 is 4.000000, not a class in [0, 4)"));
}
