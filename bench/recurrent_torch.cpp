/// @file recurrent_torch.cpp
/// The recurrent benchmarks in LibTorch. Streaming, one sample per step, on
/// 1 thread under c10::InferenceMode, two ways: functional calls
/// (torch::lstm_cell / gru_cell and addmm_out, weights and state tensors made
/// once; the cell still allocates its new state) and the modules a model is
/// usually written with (nn::LSTMCell / nn::GRUCell, nn::Linear). The
/// char-LM training step as the PyTorch model: nn::Embedding, nn::LSTM
/// (batch_first), nn::Linear, cross_entropy, Adam.

#include <torch/torch.h>

#include <string>

#include "common.hpp"
#include "sequences.hpp"

namespace {

namespace sq = ctnn_bench::sequences;

torch::Tensor tensor_of(const std::vector<float>& v, std::vector<std::int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

/// The input of step t: a [1, 1] view of the signal, made before the loop
/// so that the timed step makes no tensor for its input.
std::vector<torch::Tensor> samples_of(const torch::Tensor& signal) {
  std::vector<torch::Tensor> xs;
  for (std::int64_t t = 0; t < signal.size(0); ++t) xs.push_back(signal.narrow(0, t, 1).view({1, 1}));
  return xs;
}

template <bool Lstm>
using cell_module = std::conditional_t<Lstm, torch::nn::LSTMCell, torch::nn::GRUCell>;

template <bool Lstm>
void stream_functional(benchmark::State& state, std::int64_t H, double flops) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  cell_module<Lstm> cell(1, H);
  torch::nn::Linear out(H, 1);
  c10::InferenceMode guard;
  const auto w_ih = cell->weight_ih.detach(), w_hh = cell->weight_hh.detach();
  const auto b_ih = cell->bias_ih.detach(), b_hh = cell->bias_hh.detach();
  const auto w_out = out->weight.detach().t().contiguous(), b_out = out->bias.detach();
  const auto signal = tensor_of(ctnn_bench::uniform(sq::stream_samples, 6), {std::int64_t(sq::stream_samples)});
  const auto xs = samples_of(signal);
  auto h = torch::zeros({1, H}), c = torch::zeros({1, H}), y = torch::empty({1, 1});
  std::size_t t = 0;
  for (auto _ : state) {
    if constexpr (Lstm) std::tie(h, c) = torch::lstm_cell(xs[t], {h, c}, w_ih, w_hh, b_ih, b_hh);
    else h = torch::gru_cell(xs[t], h, w_ih, w_hh, b_ih, b_hh);
    at::addmm_out(y, b_out, h, w_out);
    benchmark::DoNotOptimize(y.data_ptr<float>());
    t = (t + 1) % sq::stream_samples;
  }
  ctnn_bench::count_flops(state, flops);
}

template <bool Lstm>
void stream_module(benchmark::State& state, std::int64_t H, double flops) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  cell_module<Lstm> cell(1, H);
  torch::nn::Linear out(H, 1);
  cell->eval();
  out->eval();
  c10::InferenceMode guard;
  const auto signal = tensor_of(ctnn_bench::uniform(sq::stream_samples, 6), {std::int64_t(sq::stream_samples)});
  const auto xs = samples_of(signal);
  auto h = torch::zeros({1, H}), c = torch::zeros({1, H});
  std::size_t t = 0;
  for (auto _ : state) {
    if constexpr (Lstm) std::tie(h, c) = cell->forward(xs[t], std::make_tuple(h, c));
    else h = cell->forward(xs[t], h);
    auto y = out->forward(h);
    benchmark::DoNotOptimize(y.data_ptr<float>());
    t = (t + 1) % sq::stream_samples;
  }
  ctnn_bench::count_flops(state, flops);
}

struct char_lm : torch::nn::Module {
  torch::nn::Embedding emb{register_module("emb", torch::nn::Embedding(sq::lm_vocabulary, sq::lm_embedding))};
  torch::nn::LSTM lstm{register_module(
      "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(sq::lm_embedding, sq::lm_hidden).batch_first(true)))};
  torch::nn::Linear out{register_module("out", torch::nn::Linear(sq::lm_hidden, sq::lm_vocabulary))};

  /// ids [B, T] → scores [B·T, vocabulary], from the state (h0, c0).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& h0, const torch::Tensor& c0) {
    auto [h, state] = lstm->forward(emb->forward(ids), std::make_tuple(h0, c0));
    return out->forward(h).reshape({-1, std::int64_t(sq::lm_vocabulary)});
  }
};

void char_lm_step(benchmark::State& state) {
  const int threads = int(state.range(0));
  ctnn_bench::set_threads(threads);
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  char_lm net;
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(sq::lm_lr));
  const std::int64_t B = sq::lm_batch, T = sq::lm_steps, chars = B * T;
  const auto ids_v = ctnn_bench::classes(chars, 4, int(sq::lm_vocabulary));
  const auto next_v = ctnn_bench::classes(chars, 5, int(sq::lm_vocabulary));
  const auto ids = torch::from_blob(const_cast<std::int64_t*>(ids_v.data()), {B, T}, torch::kInt64).clone();
  const auto next = torch::from_blob(const_cast<std::int64_t*>(next_v.data()), {chars}, torch::kInt64).clone();
  const auto h0 = torch::zeros({1, B, std::int64_t(sq::lm_hidden)}), c0 = torch::zeros_like(h0);
  for (auto _ : state) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net.forward(ids, h0, c0), next);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  ctnn_bench::count_flops(state, sq::lm_step_flops);
}

void register_stream(std::int64_t H) {
  const std::string h = "_stream_h" + std::to_string(H);
  const auto flops = [H](std::size_t gates) { return sq::stream_step_flops(gates, std::size_t(H)); };
  benchmark::RegisterBenchmark(("lstm" + h + "/libtorch_functional").c_str(), stream_functional<true>, H, flops(4));
  benchmark::RegisterBenchmark(("lstm" + h + "/libtorch").c_str(), stream_module<true>, H, flops(4));
  benchmark::RegisterBenchmark(("gru" + h + "/libtorch_functional").c_str(), stream_functional<false>, H, flops(3));
  benchmark::RegisterBenchmark(("gru" + h + "/libtorch").c_str(), stream_module<false>, H, flops(3));
}

const int registered = [] {
  for (std::int64_t H : {8, 16, 32, 64}) register_stream(H);
  benchmark::RegisterBenchmark("char_lm_step_b32/libtorch", char_lm_step)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
