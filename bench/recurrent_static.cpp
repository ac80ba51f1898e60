/// @file recurrent_static.cpp
/// Recurrent networks as ctnn types: streaming inference, one sample per
/// step (ctnn::streaming, the state carried from call to call), and the
/// char-LM training step through the trainer a user would write.

#include <ctnn/ctnn.hpp>
#include <ctnn/train/streaming.hpp>

#include <string>
#include <type_traits>
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

// Optimizer: Adam (the app's), or SGD with momentum (what the twin's
// trainer has, for the static-vs-twin ratio).
template <class Optimizer>
void char_lm_step(benchmark::State& state) {
  static_assert(lm::steps == sq::lm_steps && lm::hidden == sq::lm_hidden && lm::vocabulary == sq::lm_vocabulary &&
                lm::embedding_width == sq::lm_embedding);
  ctnn_bench::set_threads(int(state.range(0)));
  const Optimizer opt = [] {
    if constexpr (std::is_same_v<Optimizer, ctnn::optim::adam>) return Optimizer{.lr = sq::lm_lr};
    else return Optimizer{.lr = sq::lm_sgd_lr, .momentum = 0.9f};
  }();
  ctnn::trainer<lm::network, ctnn::batch<sq::lm_batch>, Optimizer> t(opt, 1);
  const sq::lm_batch_data d;
  for (auto _ : state)
    benchmark::DoNotOptimize(t.step(ctnn::feed<"ids">(d.ids), ctnn::feed<"next">(d.next), ctnn::feed<"h0">(d.h0),
                                    ctnn::feed<"c0">(d.c0)));
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
  benchmark::RegisterBenchmark("char_lm_step_b32/static", char_lm_step<ctnn::optim::adam>)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  benchmark::RegisterBenchmark("char_lm_sgd_step_b32/static", char_lm_step<ctnn::optim::sgd>)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
