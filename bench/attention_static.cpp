/// @file attention_static.cpp
/// A pre-norm transformer encoder block as a ctnn type, forward at batch 1:
/// x1 = x + mha(ln1(x)), y = x1 + ff2(gelu(ff1(ln2(x1)))), not causal (every
/// position attends to all 32; a causal mask would skip about half the
/// attention products, and PyTorch's encoder layer is not causal either).

#include <ctnn/ctnn.hpp>

#include "common.hpp"
#include "sequences.hpp"

namespace {

namespace sq = ctnn_bench::sequences;

namespace block {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<sq::block_steps, sq::block_width>>;
inline constexpr auto x1 =
    ctnn::add(x, ctnn::multi_head_attention<"attn", sq::block_heads>(ctnn::layer_norm<"ln1">(x)));
inline constexpr auto y = ctnn::add(
    ctnn::ref<x1>, ctnn::dense<"ff2", sq::block_width>(
                       ctnn::gelu(ctnn::dense<"ff1", sq::block_ff>(ctnn::layer_norm<"ln2">(ctnn::ref<x1>)))));
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace block

void transformer_block(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  ctnn::model<block::network, 1> m(1);
  const auto x = ctnn_bench::uniform(sq::block_steps * sq::block_width, 3);
  for (auto _ : state) {
    auto y = m.predict_one(ctnn::feed<"x">(x));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, sq::block_flops);
}

const int registered = [] {
  benchmark::RegisterBenchmark("transformer_block_t32_d64/static", transformer_block);
  return 0;
}();

}  // namespace
