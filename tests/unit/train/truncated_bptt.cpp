// Truncated backpropagation through time: a stream cut into chunks, the
// state each chunk ends with (model::final_state) fed as the next chunk's
// initial state. Forward over two chunks of 4 must equal forward over the
// whole 8 steps; the gradient stops at the boundary (the first chunk's
// parameters get nothing from the second chunk's loss, which only sees h0
// and c0 as inputs). Also the final state of a bidirectional GRU, and the
// errors for buffers of the wrong size.
#include <array>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>

namespace tbptt {
inline constexpr std::size_t H = 6, D = 3;
template <std::size_t T>
struct chunk {
  static constexpr auto x = ctnn::input<"x", ctnn::shape<T, D>>;
  static constexpr auto h0 = ctnn::input<"h0", ctnn::shape<H>, ctnn::requires_grad>;
  static constexpr auto c0 = ctnn::input<"c0", ctnn::shape<H>, ctnn::requires_grad>;
  static constexpr auto y = ctnn::dense<"out", 2>(ctnn::lstm<"lstm", H>(x, h0, c0));
  using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<T, 2>>), ctnn::outputs(y)));
};
inline constexpr auto gx = ctnn::input<"x", ctnn::shape<5, D>>;
inline constexpr auto g = ctnn::gru<"gru", 4, ctnn::bidirectional>(gx);
using gru_net = decltype(ctnn::network(ctnn::squared_error(g, ctnn::input<"t", ctnn::shape<5, 8>>)));
}  // namespace tbptt

TEST_CASE("two chunks with the state carried equal one pass over the whole stream", "[recurrent][tbptt]") {
  using namespace tbptt;
  constexpr std::size_t B = 5;
  ctnn::model<chunk<8>::net, B, double> whole(4);
  ctnn::model<chunk<4>::net, B, double> part(4);
  REQUIRE(std::equal(whole.parameters().begin(), whole.parameters().end(), part.parameters().begin()));
  std::vector<double> x(B * 8 * D), t(B * 8 * 2, 0.0), zeros(B * H, 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * double(i));
  whole.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t), ctnn::feed<"h0">(zeros), ctnn::feed<"c0">(zeros));
  const auto all = whole.predict(ctnn::feed<"x">(x), ctnn::feed<"h0">(zeros), ctnn::feed<"c0">(zeros));
  const std::vector<double> expected(all.begin(), all.end());

  // The chunks: samples' rows 0..3, then 4..7.
  std::vector<double> x1(B * 4 * D), x2(B * 4 * D), t4(B * 4 * 2, 0.0), h(B * H), c(B * H);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t k = 0; k < 4 * D; ++k) {
      x1[b * 4 * D + k] = x[b * 8 * D + k];
      x2[b * 4 * D + k] = x[b * 8 * D + 4 * D + k];
    }
  part.forward(ctnn::feed<"x">(x1), ctnn::feed<"t">(t4), ctnn::feed<"h0">(zeros), ctnn::feed<"c0">(zeros));
  part.final_state<"lstm">(h, c);
  const auto second = part.predict(ctnn::feed<"x">(x2), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c));
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t k = 0; k < 4 * 2; ++k)
      CHECK(second[b * 8 + k] == Catch::Detail::Approx(expected[b * 16 + 8 + k]).margin(1e-13));

  // The state is h after the last step: the whole pass's h at step 7 is
  // the second chunk's final state.
  std::vector<double> h_whole(B * H), c_whole(B * H), h2(B * H), c2(B * H);
  whole.final_state<"lstm">(h_whole, c_whole);
  part.forward(ctnn::feed<"x">(x2), ctnn::feed<"t">(t4), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c));
  part.final_state<"lstm">(h2, c2);
  for (std::size_t k = 0; k < B * H; ++k) {
    CHECK(h2[k] == Catch::Detail::Approx(h_whole[k]).margin(1e-13));
    CHECK(c2[k] == Catch::Detail::Approx(c_whole[k]).margin(1e-13));
  }

  // Backward of the second chunk reaches the carried state as an input
  // gradient and stops there.
  part.backward();
  const auto dh0 = part.input_grad<"h0">();
  double norm = 0;
  for (double v : dh0) norm += v * v;
  CHECK(norm > 0);

  CHECK_THROWS_WITH(part.final_state<"lstm">(std::span<double>(h.data(), 3), c),
                    Catch::Contains("final_state<\"lstm\">: give 30 values for h and for c"));
}

TEST_CASE("the final state of a bidirectional GRU: forward after its last step, reverse after its first", "[recurrent][tbptt]") {
  using namespace tbptt;
  ctnn::model<gru_net, 2, double> m(8);
  std::vector<double> x(2 * 5 * D), t(2 * 5 * 8, 0.0), h(2 * 8);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.21 * double(i));
  m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  m.final_state<"gru">(h);
  // The output's forward half at step 4 and reverse half at step 0.
  const auto y = m.value(1);  // the GRU's output [2, 5, 8]; node 1 after the input
  REQUIRE(y.size() == 2 * 5 * 8);
  for (std::size_t b = 0; b < 2; ++b)
    for (std::size_t j = 0; j < 4; ++j) {
      CHECK(h[b * 8 + j] == y[b * 40 + 4 * 8 + j]);
      CHECK(h[b * 8 + 4 + j] == y[b * 40 + 0 * 8 + 4 + j]);
    }
  CHECK_THROWS_WITH(m.final_state<"gru">(h, h), Catch::Contains("and no c (only an LSTM has one)"));
}
