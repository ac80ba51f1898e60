/// @file recurrent_static.cpp
/// Recurrent networks as ctnn types: streaming inference, one sample per
/// step (ctnn::streaming, the state carried from call to call), and the
/// char-LM training step through the trainer a user would write.

#include <ctnn/ctnn.hpp>
#include <ctnn/train/streaming.hpp>

#include <string>
#include <vector>

#include "common.hpp"
#include "models/char_lm.hpp"
#include "sequences.hpp"

namespace {

namespace sq = ctnn_bench::sequences;
namespace lm = ctnn::models::char_lm;

/// The audio-effect shape: a one-feature signal [T, 1] → an LSTM (or a GRU)
/// of H units → one output per step. T only sizes the training sequences;
/// a stream is as long as it runs.
namespace stream_rnn {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<64, 1>>;
template <std::size_t H>
using lstm_network = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"out", 1>(ctnn::lstm<"lstm", H>(x)))));
template <std::size_t H>
using gru_network = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"out", 1>(ctnn::gru<"gru", H>(x)))));
// PyTorch's nn.LSTM(1, 32) + nn.Linear(32, 1), nn.GRU(1, 32) + nn.Linear(32, 1).
static_assert(lstm_network<32>::param_count == 4 * 32 * (1 + 32) + 2 * 4 * 32 + 32 + 1);
static_assert(gru_network<32>::param_count == 3 * 32 * (1 + 32) + 2 * 3 * 32 + 32 + 1);
}  // namespace stream_rnn

/// One iteration = one step of one sample.
template <class Net>
void stream(benchmark::State& state, double flops) {
  ctnn_bench::set_threads(1);
  ctnn::streaming<Net> s(1);
  const auto signal = ctnn_bench::uniform(sq::stream_samples, 6);
  std::size_t t = 0;
  for (auto _ : state) {
    auto y = s.step(ctnn::feed<"x">(&signal[t]));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    t = (t + 1) % sq::stream_samples;
  }
  ctnn_bench::count_flops(state, flops);
}

void char_lm_step(benchmark::State& state) {
  static_assert(lm::steps == sq::lm_steps && lm::hidden == sq::lm_hidden && lm::vocabulary == sq::lm_vocabulary &&
                lm::embedding_width == sq::lm_embedding);
  ctnn_bench::set_threads(int(state.range(0)));
  ctnn::trainer<lm::network, ctnn::batch<sq::lm_batch>, ctnn::optim::adam> t({.lr = sq::lm_lr}, 1);
  constexpr std::size_t chars = sq::lm_batch * sq::lm_steps;
  const auto as_floats = [](const std::vector<std::int64_t>& v) { return std::vector<float>(v.begin(), v.end()); };
  const auto ids = as_floats(ctnn_bench::classes(chars, 4, int(sq::lm_vocabulary)));
  const auto next = as_floats(ctnn_bench::classes(chars, 5, int(sq::lm_vocabulary)));
  const std::vector<float> h0(sq::lm_batch * sq::lm_hidden, 0.0f), c0(h0);
  for (auto _ : state)
    benchmark::DoNotOptimize(t.step(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next), ctnn::feed<"h0">(h0),
                                    ctnn::feed<"c0">(c0)));
  ctnn_bench::count_flops(state, sq::lm_step_flops);
}

template <std::size_t H>
void register_stream() {
  using namespace stream_rnn;
  const std::string h = "_stream_h" + std::to_string(H);
  benchmark::RegisterBenchmark(("lstm" + h + "/static").c_str(), stream<lstm_network<H>>, sq::stream_step_flops(4, H));
  benchmark::RegisterBenchmark(("gru" + h + "/static").c_str(), stream<gru_network<H>>, sq::stream_step_flops(3, H));
}

const int registered = [] {
  // The widths scripts/bench_report.py tabulates.
  register_stream<8>();
  register_stream<16>();
  register_stream<32>();
  register_stream<64>();
  benchmark::RegisterBenchmark("char_lm_step_b32/static", char_lm_step)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
