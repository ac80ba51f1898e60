// The runtime twin's recurrent layers, embedding and sequence labels compute
// what the static network computes: with the same parameters (copied by
// name), the same predictions (batch and one sample), losses, parameter and
// initial-state gradients, and parameters after SGD-momentum steps, within
// 1e-5 relative per tensor; a label outside its classes and a token id
// outside the table throw as on the static side.
#include <catch2/catch.hpp>

#include "twin_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/runtime.hpp>

namespace {

using twin_compare::check_parameters, twin_compare::classes, twin_compare::relative_error,
    twin_compare::tolerance, twin_compare::uniform;

// Static trainer and twin from the same parameters; `feed(f)` calls f with
// one batch's feeds (every input and label, by name), `inputs(f)` with the
// inputs' feeds as pointers (predict reads the batch, predict_one the first
// sample). `input_grads(s, r)` compares the gradients of the inputs declared
// with requires_grad after a backward pass.
template <class Net, std::size_t B, class Feed, class Inputs, class InputGrads>
void check_twin(Feed feed, Inputs inputs, InputGrads input_grads) {
  const ctnn::optim::sgd opt{.lr = 0.05f, .momentum = 0.9f};
  ctnn::trainer<Net, ctnn::batch<B>> st(opt, /*seed=*/3);
  ctnn::runtime::trainer rt(ctnn::runtime::from<Net>(), B, opt, /*seed=*/11);
  ctnn::runtime::model& rm = rt.model();

  // One runtime node per static node (no fused activation here), the same
  // parameters and leaf order.
  CHECK(rm.source().size() == Net::node_count);
  CHECK(rm.param_count() == Net::param_count);
  std::vector<std::string> leaves;
  for (std::size_t s = 0; s < Net::leaf_count; ++s) leaves.emplace_back(Net::infos[Net::leaf_ids.first[s]].name);
  CHECK(rm.leaf_names() == leaves);

  // Different seeds differ; copying by name makes them equal.
  double before = 0;
  for (const auto& p : rm.source().params())
    before = std::max(before, relative_error(st.model().param_span(p.name), rm.param(p.name)));
  CHECK(before > 0.1);
  rm.copy_parameters_from(st.model());
  check_parameters(st.model(), rm, false, "copied");

  inputs([&](const auto&... x) {
    const double e = relative_error(st.predict(x...), rt.predict(x...));
    const double e1 = relative_error(st.predict_one(x...), rt.predict_one(x...));
    INFO("predict " << e << ", predict_one " << e1);
    CHECK(e <= tolerance);
    CHECK(e1 <= tolerance);
  });

  // One forward and backward without an update: loss, every parameter's
  // gradient and the initial states' gradients.
  feed([&](const auto&... d) {
    const float ls = st.model().forward_backward(d...), lr = rm.forward_backward(d...);
    INFO("loss " << ls << " vs " << lr);
    CHECK(relative_error(ls, lr) <= tolerance);
  });
  check_parameters(st.model(), rm, true, "forward_backward");
  input_grads(st.model(), rm);

  for (int step = 0; step < 2; ++step) {
    const std::string when = "step " + std::to_string(step + 1);
    feed([&](const auto&... d) {
      const float ls = st.step(d...), lr = rt.step(d...);
      INFO(when << ": loss " << ls << " vs " << lr);
      CHECK(relative_error(ls, lr) <= tolerance);
    });
    check_parameters(st.model(), rm, true, when);
    check_parameters(st.model(), rm, false, when);
  }
  inputs([&](const auto&... x) {
    CHECK(relative_error(st.predict(x...), rt.predict(x...)) <= tolerance);
    CHECK(relative_error(st.predict_one(x...), rt.predict_one(x...)) <= tolerance);
  });

  // The comparison can fail: the twin's output bias moved changes its prediction.
  rm.param("out.bias")[0] += 0.5f;
  inputs([&](const auto&... x) { CHECK(relative_error(st.predict(x...), rt.predict(x...)) > tolerance); });
}

// --- a character language model: dsl/models/char_lm.hpp's structure, small ---
namespace char_lm {
inline constexpr std::size_t vocabulary = 11, steps = 6, width = 4, hidden = 5;
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<steps>>;
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<hidden>, ctnn::requires_grad>;
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<hidden>, ctnn::requires_grad>;
inline constexpr auto embedded = ctnn::embedding<"emb", vocabulary, width>(ids);
inline constexpr auto scores =
    ctnn::dense<"out", vocabulary>(ctnn::lstm<"lstm", hidden>(ctnn::ref<embedded>, h0, c0));
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(scores, ctnn::label<"next", vocabulary, steps>, ctnn::pytorch::mean),
    ctnn::outputs(scores)));
}  // namespace char_lm

template <std::size_t B>
void check_char_lm() {
  using namespace char_lm;
  const auto x = classes<float>(B * steps, vocabulary, 1);
  const auto y = classes<int>(B * steps, vocabulary, 2);
  const auto h = uniform(B * hidden, -0.5f, 0.5f, 3);
  const auto c = uniform(B * hidden, -0.5f, 0.5f, 4);
  check_twin<network, B>(
      [&](auto f) { f(ctnn::feed<"ids">(x), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c), ctnn::feed<"next">(y)); },
      [&](auto f) { f(ctnn::feed<"ids">(x.data()), ctnn::feed<"h0">(h.data()), ctnn::feed<"c0">(c.data())); },
      [](auto& s, ctnn::runtime::model& r) {
        CHECK(relative_error(s.template input_grad<"h0">(), r.input_grad("h0")) <= tolerance);
        CHECK(relative_error(s.template input_grad<"c0">(), r.input_grad("c0")) <= tolerance);
        // The states do get a gradient: the comparison is not of zeros.
        const auto g = r.input_grad("c0");
        CHECK(std::any_of(g.begin(), g.end(), [](float v) { return v != 0.0f; }));
      });
}

// --- a streaming benchmark's shape: a signal [T, 1] through one layer ---
namespace stream {
inline constexpr std::size_t T = 7, H = 6;
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, 1>>;
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<H>, ctnn::requires_grad>;
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<H>>;
inline constexpr auto h0_bi = ctnn::input<"h0", ctnn::shape<2, H>>;
inline constexpr auto t1 = ctnn::input<"t", ctnn::shape<1>>;
inline constexpr auto tT = ctnn::input<"t", ctnn::shape<T, 1>>;
// The final state to one prediction, from a given state.
using lstm_final = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H, ctnn::final_state>(x, h0, c0)), t1),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H, ctnn::final_state>(x, h0, c0)))));
using gru_final = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::gru<"gru", H, ctnn::final_state>(x, h0)), t1),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::gru<"gru", H, ctnn::final_state>(x, h0)))));
// One prediction per step (dense over the sequence), from zeros.
using lstm_steps = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H>(x)), tT),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H>(x)))));
using gru_steps = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::gru<"gru", H>(x)), tT),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::gru<"gru", H>(x)))));
using rnn_steps = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::rnn<"rnn", H>(x)), tT),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::rnn<"rnn", H>(x)))));
using rnn_final_h0 = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::rnn<"rnn", H, ctnn::final_state>(x, h0)), t1),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::rnn<"rnn", H, ctnn::final_state>(x, h0)))));
// Two directions: every step's [T, 2H], and both final states [2H] from [2, H].
using lstm_bi_steps = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H, ctnn::bidirectional>(x)), tT),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H, ctnn::bidirectional>(x)))));
using gru_bi_final = decltype(ctnn::network(
    ctnn::squared_error(
        ctnn::dense<"out", 1>(ctnn::gru<"gru", H, ctnn::bidirectional, ctnn::final_state>(x, h0_bi)), t1),
    ctnn::outputs(ctnn::dense<"out", 1>(ctnn::gru<"gru", H, ctnn::bidirectional, ctnn::final_state>(x, h0_bi)))));
}  // namespace stream

// Feeds for a stream network: x, the target t (of `target` values per
// sample) and the initial states it names (h0 of `h` values, c0).
template <class Net, std::size_t B, std::size_t Target, std::size_t States, bool H0Grad = false,
          std::size_t StateSize = stream::H>
void check_stream() {
  const auto x = uniform(B * stream::T, -1.0f, 1.0f, 5);
  const auto t = uniform(B * Target, -0.5f, 0.5f, 6);
  const auto h = uniform(B * StateSize, -0.5f, 0.5f, 7);
  const auto c = uniform(B * StateSize, -0.5f, 0.5f, 8);
  const auto grads = [](auto& s, ctnn::runtime::model& r) {
    if constexpr (H0Grad) {
      const auto g = r.input_grad("h0");
      CHECK(relative_error(s.template input_grad<"h0">(), g) <= tolerance);
      CHECK(std::any_of(g.begin(), g.end(), [](float v) { return v != 0.0f; }));
    }
  };
  if constexpr (States == 0)
    check_twin<Net, B>([&](auto f) { f(ctnn::feed<"x">(x), ctnn::feed<"t">(t)); },
                       [&](auto f) { f(ctnn::feed<"x">(x.data())); }, grads);
  else if constexpr (States == 1)
    check_twin<Net, B>([&](auto f) { f(ctnn::feed<"x">(x), ctnn::feed<"h0">(h), ctnn::feed<"t">(t)); },
                       [&](auto f) { f(ctnn::feed<"x">(x.data()), ctnn::feed<"h0">(h.data())); }, grads);
  else
    check_twin<Net, B>(
        [&](auto f) { f(ctnn::feed<"x">(x), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c), ctnn::feed<"t">(t)); },
        [&](auto f) { f(ctnn::feed<"x">(x.data()), ctnn::feed<"h0">(h.data()), ctnn::feed<"c0">(c.data())); },
        grads);
}

}  // namespace

TEST_CASE("runtime twin of a character LM: embedding, lstm from h0 and c0, dense over steps, sequence label",
          "[runtime][recurrent]") {
  SECTION("batch 4: the whole-batch products") { check_char_lm<4>(); }
  SECTION("batch 2: the row-by-row path of small batches") { check_char_lm<2>(); }
}

TEST_CASE("runtime twin of streaming shapes: lstm, gru, rnn with and without initial states",
          "[runtime][recurrent]") {
  SECTION("lstm, h0 and c0, final_state") { check_stream<stream::lstm_final, 5, 1, 2, true>(); }
  SECTION("gru, h0, final_state") { check_stream<stream::gru_final, 5, 1, 1, true>(); }
  SECTION("rnn, h0, final_state") { check_stream<stream::rnn_final_h0, 4, 1, 1, true>(); }
  SECTION("lstm from zeros, every step") { check_stream<stream::lstm_steps, 5, stream::T, 0>(); }
  SECTION("gru from zeros, every step") { check_stream<stream::gru_steps, 4, stream::T, 0>(); }
  SECTION("rnn from zeros, every step") { check_stream<stream::rnn_steps, 3, stream::T, 0>(); }
  SECTION("lstm at batch 1") { check_stream<stream::lstm_final, 1, 1, 2, true>(); }
}

TEST_CASE("runtime twin of bidirectional layers", "[runtime][recurrent]") {
  SECTION("lstm, every step of both directions") { check_stream<stream::lstm_bi_steps, 4, stream::T, 0>(); }
  SECTION("gru from h0 [2, H], both final states") { check_stream<stream::gru_bi_final, 4, 1, 1, false, 2 * stream::H>(); }
}

TEST_CASE("runtime twin: a sequence label is checked per step, a token id against the table",
          "[runtime][recurrent]") {
  using namespace char_lm;
  constexpr std::size_t B = 3;
  ctnn::model<network, B> sm(1);
  ctnn::runtime::model rm(ctnn::runtime::from<network>(), B, 1);
  auto x = classes<float>(B * steps, vocabulary, 1);
  auto y = classes<int>(B * steps, vocabulary, 2);
  const auto h = uniform(B * hidden, -0.5f, 0.5f, 3);
  const auto c = uniform(B * hidden, -0.5f, 0.5f, 4);
  auto run = [&](auto& m) {
    return m.forward(ctnn::feed<"ids">(x), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c), ctnn::feed<"next">(y));
  };
  CHECK_NOTHROW(run(rm));

  // Sample 1, step 4: the label's T values per sample are each checked.
  y[1 * steps + 4] = int(vocabulary);
  CHECK_THROWS_AS(run(sm), std::out_of_range);
  CHECK_THROWS_WITH(run(rm), Catch::Matchers::Contains("label 'next' of sample 1, step 4 is 11.000000") &&
                                 Catch::Matchers::Contains("not a class in [0, 11)"));
  CHECK_THROWS_AS(run(rm), std::out_of_range);
  y[1 * steps + 4] = -1;
  CHECK_THROWS_AS(run(rm), std::out_of_range);
  y[1 * steps + 4] = 0;
  // The last value of the last sample is read too (T values per sample, not one).
  y.back() = int(vocabulary) + 3;
  CHECK_THROWS_WITH(run(rm), Catch::Matchers::Contains("of sample 2, step 5"));
  y.back() = 0;
  CHECK_NOTHROW(run(rm));

  // Token ids: outside the table, or not whole.
  x[2 * steps + 1] = float(vocabulary);
  CHECK_THROWS_AS(run(sm), ctnn::token_error);
  CHECK_THROWS_AS(run(rm), ctnn::token_error);
  CHECK_THROWS_WITH(run(rm), Catch::Matchers::Contains("embedding 'emb'") &&
                                 Catch::Matchers::Contains("(sample 2, step 1) is not a row of its 11-row table"));
  CHECK_THROWS_AS(rm.predict_one(ctnn::feed<"ids">(x.data() + 2 * steps), ctnn::feed<"h0">(h.data()),
                                 ctnn::feed<"c0">(c.data())),
                  ctnn::token_error);
  x[2 * steps + 1] = 2.5f;
  CHECK_THROWS_AS(run(rm), ctnn::token_error);
  x[2 * steps + 1] = -1.0f;
  CHECK_THROWS_AS(run(rm), ctnn::token_error);
}

TEST_CASE("runtime twin: recurrent layers built by hand check their shapes", "[runtime][recurrent]") {
  namespace rt = ctnn::runtime;
  using Catch::Matchers::Contains;
  rt::graph g;
  const auto x = g.input("x", {7, 3});
  const auto flat = g.input("flat", {7});
  const auto h0 = g.input("h0", {4});
  const auto c0 = g.input("c0", {5});
  CHECK_THROWS_WITH(g.lstm("enc", 4, flat), Contains("lstm layer 'enc' takes a sequence [steps, features]") &&
                                                Contains("gives [7]"));
  CHECK_THROWS_WITH(g.lstm("enc", 4, x, h0, c0), Contains("initial state c0 must be [4]") && Contains("gives [5]"));
  CHECK_THROWS_WITH(g.gru("enc", 4, x, h0, {.bidirectional = true}), Contains("[2, 4]"));
  CHECK_THROWS_WITH(g.recurrent<ctnn::kernels::recurrent::gru_cell>("enc", 4, {x, h0, h0}),
                    Contains("gru layer 'enc' takes its sequence alone"));
  CHECK_THROWS_WITH(g.embedding("emb", 10, 4, x), Contains("embedding 'emb' takes token ids of shape [steps]"));
  const auto y = g.lstm("enc", 4, x, {.final_state = true});
  CHECK(g.at(y).shape() == rt::dims{4});
  CHECK(g.at(g.gru("enc2", 4, x, {.bidirectional = true})).shape() == rt::dims{7, 8});
  // A sequence label wants scores [steps, classes].
  const auto next = g.label("next", 4, 7);
  CHECK_THROWS_WITH(g.softmax_cross_entropy(y, next), Contains("needs scores [steps, classes] = [7, 4]"));
  CHECK_NOTHROW(g.softmax_cross_entropy(g.lstm("enc3", 4, x), next, {.steps_mean = true}));
  CHECK_THROWS_WITH(g.softmax_cross_entropy(y, g.label("one", 4), {.steps_mean = true}),
                    Contains("mean over steps only against a sequence label"));
}
