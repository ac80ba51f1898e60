/// @file recurrent_runtime.cpp
/// Streaming recurrent inference through the runtime-graph twin, the way a
/// runtime framework streams: the network over a sequence of one step from
/// a given state (h0, c0), run once per sample through the trainer's
/// predict_one, its final state fed back as the next call's initial state.
///
/// The GRU's state is h, an output of the network, so its stream is carried
/// in full. The LSTM's cell state c is not an output, and the twin has no
/// final_state<"lstm">(h, c) as ctnn::model has: its rows carry h and feed
/// c0 = 0 at every step. The work per step is the same (the same products
/// and gates whatever the values), so the time is the twin's; the outputs are
/// not a stream's. Carry c here once the twin can give it back.

#include <ctnn/runtime.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "common.hpp"
#include "models/char_lm.hpp"
#include "sequences.hpp"

namespace {

namespace sq = ctnn_bench::sequences;

// One step of one feature from a given state; outputs the prediction and the
// final h.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<1, 1>>;
template <std::size_t H>
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<H>>;
template <std::size_t H>
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<H>>;
template <std::size_t H>
inline constexpr auto lstm_h = ctnn::lstm<"lstm", H, ctnn::final_state>(x, h0<H>, c0<H>);
template <std::size_t H>
inline constexpr auto gru_h = ctnn::gru<"gru", H, ctnn::final_state>(x, h0<H>);
template <std::size_t H>
using lstm_step = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"out", 1>(ctnn::ref<lstm_h<H>>), ctnn::ref<lstm_h<H>>)));
template <std::size_t H>
using gru_step = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"out", 1>(ctnn::ref<gru_h<H>>), ctnn::ref<gru_h<H>>)));

template <std::size_t H, bool Lstm>
void stream(benchmark::State& state, double flops) {
  ctnn_bench::set_threads(1);
  using Net = std::conditional_t<Lstm, lstm_step<H>, gru_step<H>>;
  ctnn::runtime::trainer t(ctnn::runtime::from<Net>(), 1, {}, 1);
  const auto signal = ctnn_bench::uniform(sq::stream_samples, 6);
  std::vector<float> h(H, 0.0f), c(H, 0.0f);
  std::size_t i = 0;
  for (auto _ : state) {
    std::span<const float> y;
    if constexpr (Lstm)
      y = t.predict_one(ctnn::feed<"x">(&signal[i]), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c));
    else
      y = t.predict_one(ctnn::feed<"x">(&signal[i]), ctnn::feed<"h0">(h));
    const std::span<const float> h1 = t.model().prediction_one(1);
    std::copy(h1.begin(), h1.end(), h.begin());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    i = (i + 1) % sq::stream_samples;
  }
  ctnn_bench::count_flops(state, flops);
}

// The char-LM step with SGD and momentum (the twin's trainer has no Adam),
// against char_lm_sgd_step_b32/static.
void char_lm_sgd_step(benchmark::State& state) {
  namespace lm = ctnn::models::char_lm;
  ctnn_bench::set_threads(int(state.range(0)));
  ctnn::runtime::trainer t(ctnn::runtime::from<lm::network>(), sq::lm_batch, {.lr = sq::lm_sgd_lr, .momentum = 0.9f}, 1);
  const sq::lm_batch_data d;
  for (auto _ : state)
    benchmark::DoNotOptimize(t.step(ctnn::feed<"ids">(d.ids), ctnn::feed<"next">(d.next), ctnn::feed<"h0">(d.h0),
                                    ctnn::feed<"c0">(d.c0)));
  ctnn_bench::count_flops(state, sq::lm_step_flops);
}

template <std::size_t H>
void register_stream() {
  const std::string h = "_stream_h" + std::to_string(H);
  benchmark::RegisterBenchmark(("lstm" + h + "/runtime").c_str(), stream<H, true>, sq::stream_step_flops(4, H));
  benchmark::RegisterBenchmark(("gru" + h + "/runtime").c_str(), stream<H, false>, sq::stream_step_flops(3, H));
}

const int registered = [] {
  // The widths of recurrent_static.cpp.
  register_stream<8>();
  register_stream<16>();
  register_stream<32>();
  register_stream<64>();
  benchmark::RegisterBenchmark("char_lm_sgd_step_b32/runtime", char_lm_sgd_step)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
