// Central-difference gradient checks, in double, of the recurrent layers
// through time (T = 6 steps): rnn, lstm and gru, one direction and
// bidirectional, stacked, with every step's output and with the final state
// only, from trainable initial states (variables, so their gradients are
// checked too) and from zero. Batch 3 runs the row-by-row path of batch-1
// inference; batches 4 and 5 the batched products, with gate rows that are
// contiguous over the batch (T·G·H a multiple of 16) and that are not. The
// embedding, sequence labels and a dense layer on every step are checked in
// a character-model network. Bound 1e-6, as in ops.cpp.
#include "support.hpp"

namespace {

constexpr std::size_t T = 6, D = 3;

// Targets: the size of one sample's target "t".
template <class Net, std::size_t Bn, std::size_t Targets>
ctnn::gradient_report check_sequence(const char* what, std::uint64_t seed) {
  gc::rng r(seed);
  const auto x = r.uniform_array<Bn * T * D>(-1.5, 1.5);
  const auto t = r.uniform_array<Bn * Targets>(-1, 1);
  ctnn::model<Net, Bn, double> m;
  gc::randomize(m, seed, 0.6);
  return gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
}

}  // namespace

namespace seq {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, D>>;
template <std::size_t... N>
inline constexpr auto t = ctnn::input<"t", ctnn::shape<N...>>;
template <std::size_t Dirs, std::size_t H>
inline constexpr auto h0 = ctnn::variable<"h0", std::conditional_t<Dirs == 1, ctnn::shape<H>, ctnn::shape<2, H>>>;
template <std::size_t Dirs, std::size_t H>
inline constexpr auto c0 = ctnn::variable<"c0", std::conditional_t<Dirs == 1, ctnn::shape<H>, ctnn::shape<2, H>>>;

// Every step's output from a trainable initial state.
using rnn_seq = decltype(ctnn::network(ctnn::squared_error(ctnn::rnn<"r", 4>(x, h0<1, 4>), t<T, 4>)));
using lstm_seq = decltype(ctnn::network(ctnn::squared_error(ctnn::lstm<"l", 4>(x, h0<1, 4>, c0<1, 4>), t<T, 4>)));
using gru_seq = decltype(ctnn::network(ctnn::squared_error(ctnn::gru<"g", 4>(x, h0<1, 4>), t<T, 4>)));
// 9 units: whole vectors and a tail in double (8 lanes with AVX-512, 4 with AVX2).
using rnn_wide = decltype(ctnn::network(ctnn::squared_error(ctnn::rnn<"r", 9>(x, h0<1, 9>), t<T, 9>)));
using lstm_wide = decltype(ctnn::network(ctnn::squared_error(ctnn::lstm<"l", 9>(x, h0<1, 9>, c0<1, 9>), t<T, 9>)));
using gru_wide = decltype(ctnn::network(ctnn::squared_error(ctnn::gru<"g", 9, ctnn::bidirectional>(x), t<T, 18>)));
// Bidirectional, from trainable states [2, H].
using rnn_bi = decltype(ctnn::network(
    ctnn::squared_error(ctnn::rnn<"r", 5, ctnn::bidirectional>(x, h0<2, 5>), t<T, 10>)));
using lstm_bi = decltype(ctnn::network(
    ctnn::squared_error(ctnn::lstm<"l", 5, ctnn::bidirectional>(x, h0<2, 5>, c0<2, 5>), t<T, 10>)));
using gru_bi = decltype(ctnn::network(
    ctnn::squared_error(ctnn::gru<"g", 5, ctnn::bidirectional>(x, h0<2, 5>), t<T, 10>)));
// Two layers, the second bidirectional with only its final state: the first
// layer's gradient reaches it through the second's input gradient.
using rnn_stack = decltype(ctnn::network(ctnn::squared_error(
    ctnn::rnn<"r2", 3, ctnn::bidirectional, ctnn::final_state>(ctnn::rnn<"r1", 4>(x)), t<6>)));
using lstm_stack = decltype(ctnn::network(ctnn::squared_error(
    ctnn::lstm<"l2", 3, ctnn::bidirectional, ctnn::final_state>(ctnn::lstm<"l1", 4>(x)), t<6>)));
using gru_stack = decltype(ctnn::network(ctnn::squared_error(
    ctnn::gru<"g2", 3, ctnn::bidirectional, ctnn::final_state>(ctnn::gru<"g1", 4>(x)), t<6>)));
// One layer applied twice by name (tied, so the second backward adds to
// the parameters' gradients) and the sequence fanning out to an add (so the
// input gradient is added too).
inline constexpr auto in = ctnn::dense<"in", 4>(x);
inline constexpr auto once = ctnn::lstm<"shared", 4>(ctnn::ref<in>);
using lstm_tied = decltype(ctnn::network(
    ctnn::squared_error(ctnn::add(ctnn::ref<once>, ctnn::lstm<"shared", 4>(ctnn::ref<once>)), t<T, 4>)));
inline constexpr auto gin = ctnn::dense<"in", 4>(x);
inline constexpr auto gonce = ctnn::gru<"shared", 4>(ctnn::ref<gin>);
using gru_tied = decltype(ctnn::network(
    ctnn::squared_error(ctnn::add(ctnn::ref<gonce>, ctnn::gru<"shared", 4>(ctnn::ref<gonce>)), t<T, 4>)));
}  // namespace seq

TEST_CASE("gradcheck: rnn, lstm and gru through 6 steps from trainable initial states", "[gradcheck][recurrent]") {
  GC_REQUIRE_BELOW((check_sequence<seq::rnn_seq, gc::B, T * 4>("rnn", 1)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_seq, gc::B, T * 4>("lstm", 2)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_seq, gc::B, T * 4>("gru", 3)), 1e-6);
  // T·G·H = 6·16 = 96: the LSTM's gate rows are contiguous over the batch.
  GC_REQUIRE_BELOW((check_sequence<seq::rnn_seq, 4, T * 4>("rnn, batch 4", 4)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_seq, 4, T * 4>("lstm, batch 4", 5)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_seq, 5, T * 4>("gru, batch 5", 6)), 1e-6);
}

TEST_CASE("gradcheck: recurrent layers of 9 units (vectors and a tail)", "[gradcheck][recurrent]") {
  GC_REQUIRE_BELOW((check_sequence<seq::rnn_wide, gc::B, T * 9>("rnn 9", 20)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_wide, gc::B, T * 9>("lstm 9", 21)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_wide, gc::B, T * 18>("gru 9 bidirectional", 22)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_wide, 4, T * 9>("lstm 9, batch 4", 23)), 1e-6);
}

TEST_CASE("gradcheck: bidirectional recurrent layers", "[gradcheck][recurrent]") {
  GC_REQUIRE_BELOW((check_sequence<seq::rnn_bi, gc::B, T * 10>("rnn bidirectional", 7)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_bi, gc::B, T * 10>("lstm bidirectional", 8)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_bi, gc::B, T * 10>("gru bidirectional", 9)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_bi, 5, T * 10>("lstm bidirectional, batch 5", 10)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_bi, 4, T * 10>("gru bidirectional, batch 4", 11)), 1e-6);
}

TEST_CASE("gradcheck: stacked recurrent layers, the top one bidirectional with its final state", "[gradcheck][recurrent]") {
  GC_REQUIRE_BELOW((check_sequence<seq::rnn_stack, gc::B, 6>("rnn stack", 12)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_stack, gc::B, 6>("lstm stack", 13)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_stack, gc::B, 6>("gru stack", 14)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_stack, 4, 6>("lstm stack, batch 4", 15)), 1e-6);
}

TEST_CASE("gradcheck: a recurrent layer tied to itself and a sequence used twice", "[gradcheck][recurrent]") {
  GC_REQUIRE_BELOW((check_sequence<seq::lstm_tied, gc::B, T * 4>("lstm tied", 16)), 1e-6);
  GC_REQUIRE_BELOW((check_sequence<seq::gru_tied, 4, T * 4>("gru tied, batch 4", 17)), 1e-6);
}

// A character model: ids → embedding → lstm → dense on every step →
// softmax cross-entropy against the next ids (a sequence label), summed over
// the steps and, with pytorch::mean, averaged over them.
namespace charlm {
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<T>>;
inline constexpr auto logits = ctnn::dense<"out", 7>(ctnn::lstm<"lstm", 5>(ctnn::embedding<"emb", 7, 4>(ids)));
using sum_net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"next", 7, T>)));
using mean_net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"next", 7, T>, ctnn::pytorch::mean)));
}  // namespace charlm

TEST_CASE("gradcheck: embedding, lstm and a dense layer per step under a sequence label", "[gradcheck][recurrent][embedding]") {
  gc::rng r(18);
  // Ids 0..5 only: row 6 of the table is never read, so its gradient must be 0.
  std::array<double, gc::B * T> ids{}, next{};
  for (auto& v : ids) v = double(r.index(6));
  for (auto& v : next) v = double(r.index(7));
  {
    ctnn::model<charlm::sum_net, gc::B, double> m;
    gc::randomize(m, 18, 0.6);
    const auto report = gc::check("char model", m, ctnn::feed<"ids">(ids), ctnn::feed<"next">(next));
    GC_REQUIRE_BELOW(report, 1e-6);
    m.forward(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next));
    m.backward();
    const auto g = m.grad<"emb.weight">();
    for (std::size_t j = 0; j < 4; ++j) CHECK(g(6, j) == 0.0);
  }
  {
    ctnn::model<charlm::mean_net, gc::B, double> m;
    gc::randomize(m, 19, 0.6);
    GC_REQUIRE_BELOW(gc::check("char model, mean over steps", m, ctnn::feed<"ids">(ids), ctnn::feed<"next">(next)), 1e-6);
    // The mean is the sum over the steps divided by their number.
    ctnn::model<charlm::sum_net, gc::B, double> s;
    std::copy(m.param_span("emb.weight").begin(), m.param_span("emb.weight").end(), s.param_span("emb.weight").begin());
    for (const char* name : {"lstm.weight_ih", "lstm.weight_hh", "lstm.bias_ih", "lstm.bias_hh", "out.weight", "out.bias"})
      std::copy(m.param_span(name).begin(), m.param_span(name).end(), s.param_span(name).begin());
    const double mean = m.forward(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next));
    const double sum = s.forward(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next));
    CHECK(mean == Catch::Detail::Approx(sum / T).epsilon(1e-14));
  }
}
