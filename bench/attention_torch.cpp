/// @file attention_torch.cpp
/// The pre-norm transformer block of attention_static.cpp in LibTorch, batch
/// 1, 1 thread, under c10::InferenceMode. LibTorch 1.13's C++
/// nn::TransformerEncoderLayer has no norm_first, so the block is built from
/// its modules (nn::LayerNorm, nn::MultiheadAttention, nn::Linear, GELU), and
/// a second time as functional calls into preallocated outputs (addmm_out,
/// bmm_out, softmax_out), which skip the modules' checks and reshapes.

#include <torch/torch.h>

#include <cmath>

#include "common.hpp"
#include "sequences.hpp"

namespace {

namespace sq = ctnn_bench::sequences;
constexpr std::int64_t T = sq::block_steps, D = sq::block_width, H = sq::block_heads, F = sq::block_ff;

struct block : torch::nn::Module {
  torch::nn::LayerNorm ln1{register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D})))};
  torch::nn::MultiheadAttention attn{
      register_module("attn", torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(D, H)))};
  torch::nn::LayerNorm ln2{register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D})))};
  torch::nn::Linear ff1{register_module("ff1", torch::nn::Linear(D, F))};
  torch::nn::Linear ff2{register_module("ff2", torch::nn::Linear(F, D))};

  /// x [T, 1, D] (the C++ module's sequence-first layout).
  torch::Tensor forward(const torch::Tensor& x) {
    const auto h = ln1->forward(x);
    const auto x1 = x + std::get<0>(attn->forward(h, h, h, {}, /*need_weights=*/false));
    return x1 + ff2->forward(torch::gelu(ff1->forward(ln2->forward(x1))));
  }
};

torch::Tensor input() {
  auto v = ctnn_bench::uniform(std::size_t(T * D), 3);
  return torch::from_blob(v.data(), {T, D}, torch::kFloat32).clone();
}

void module_block(benchmark::State& state) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  block net;
  net.eval();
  c10::InferenceMode guard;
  const auto x = input().view({T, 1, D});
  for (auto _ : state) {
    auto y = net.forward(x);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  }
  ctnn_bench::count_flops(state, sq::block_flops);
}

void functional_block(benchmark::State& state) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  block net;
  c10::InferenceMode guard;
  const std::int64_t d = D / H;
  // Weights transposed once to [in, out]; every intermediate allocated once.
  const auto in_w = net.attn->in_proj_weight.detach().t().contiguous(), in_b = net.attn->in_proj_bias.detach();
  const auto out_w = net.attn->out_proj->weight.detach().t().contiguous(), out_b = net.attn->out_proj->bias.detach();
  const auto w1 = net.ff1->weight.detach().t().contiguous(), b1 = net.ff1->bias.detach();
  const auto w2 = net.ff2->weight.detach().t().contiguous(), b2 = net.ff2->bias.detach();
  const auto x = input();
  auto qkv = torch::empty({T, 3 * D}), scores = torch::empty({H, T, T}), p = torch::empty({H, T, T});
  auto heads = torch::empty({H, T, d}), merged = torch::empty({T, D}), x1 = torch::empty({T, D});
  auto f = torch::empty({T, F}), g = torch::empty({T, F}), y = torch::empty({T, D});
  // [T, 3D] → q, k, v as [H, T, d] views; the scale folded into q's product.
  const auto q = qkv.narrow(1, 0, D).view({T, H, d}).transpose(0, 1);
  const auto k = qkv.narrow(1, D, D).view({T, H, d}).transpose(0, 1);
  const auto v = qkv.narrow(1, 2 * D, D).view({T, H, d}).transpose(0, 1);
  const auto kt = k.transpose(1, 2);
  const double scale = 1.0 / std::sqrt(double(d));
  auto merged_heads = merged.view({T, H, d}).transpose(0, 1);
  const auto run = [&] {
    const auto h = at::layer_norm(x, {D}, net.ln1->weight, net.ln1->bias);
    at::addmm_out(qkv, in_b, h, in_w);
    at::baddbmm_out(scores, scores, q, kt, /*beta=*/0, /*alpha=*/scale);
    at::_softmax_out(p, scores, -1, false);
    at::bmm_out(heads, p, v);
    merged_heads.copy_(heads);
    at::addmm_out(x1, out_b, merged, out_w);
    x1.add_(x);
    const auto h2 = at::layer_norm(x1, {D}, net.ln2->weight, net.ln2->bias);
    at::addmm_out(f, b1, h2, w1);
    at::gelu_out(g, f);
    at::addmm_out(y, b2, g, w2);
    y.add_(x1);
  };
  // The same block as the modules compute it, or the row means nothing.
  run();
  if (!torch::allclose(y, net.forward(x.view({T, 1, D})).view({T, D}), 1e-4, 1e-5)) {
    state.SkipWithError("the functional block differs from the modules' forward");
    return;
  }
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(y.data_ptr<float>());
  }
  ctnn_bench::count_flops(state, sq::block_flops);
}

const int registered = [] {
  benchmark::RegisterBenchmark("transformer_block_t32_d64/libtorch", module_block);
  benchmark::RegisterBenchmark("transformer_block_t32_d64/libtorch_functional", functional_block);
  return 0;
}();

}  // namespace
