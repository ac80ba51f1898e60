/// @file sequences.hpp
/// The sizes and FLOPs of the sequence benchmarks (recurrent streaming, the
/// char-LM training step, the transformer block), shared by every peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common.hpp"

namespace ctnn_bench::sequences {

/// One streaming step of an LSTM (4 gates) or a GRU (3) of H units on one
/// feature, with a dense head of 1: the gates' products with [x, h] and the
/// output's (bias adds and the gates' nonlinearities not counted).
constexpr double stream_step_flops(std::size_t gates, std::size_t H) {
  return 2.0 * (double(gates) * double(H) * double(1 + H) + double(H));
}
/// Samples fed in turn, so no two consecutive steps see the same input.
inline constexpr std::size_t stream_samples = 4096;

/// The char-LM step (dsl/models/char_lm.hpp) at batch 32 × 64 steps, Adam.
inline constexpr std::size_t lm_batch = 32, lm_steps = 64, lm_vocabulary = 98, lm_embedding = 32, lm_hidden = 256;
inline constexpr float lm_lr = 2e-3f;
/// SGD with momentum 0.9 for the static-vs-twin step (the twin's trainer has no Adam).
inline constexpr float lm_sgd_lr = 0.05f;
/// Forward multiply-adds per character: the LSTM's gates over [x, h] and the
/// output layer (the embedding is a lookup). A step is ≈ 3× the forward.
inline constexpr double lm_forward_flops_per_char =
    2.0 * (4.0 * lm_hidden * (lm_embedding + lm_hidden) + double(lm_hidden) * lm_vocabulary);
inline constexpr double lm_step_flops = 3.0 * lm_forward_flops_per_char * lm_batch * lm_steps;

/// One batch of the char-LM step: random ids and next ids (as floats, as the
/// network reads them) and zero initial states, the same in every peer.
struct lm_batch_data {
  std::vector<float> ids, next, h0, c0;
  lm_batch_data()
      : ids(as_floats(ctnn_bench::classes(lm_batch * lm_steps, 4, int(lm_vocabulary)))),
        next(as_floats(ctnn_bench::classes(lm_batch * lm_steps, 5, int(lm_vocabulary)))),
        h0(lm_batch * lm_hidden, 0.0f),
        c0(h0) {}

 private:
  static std::vector<float> as_floats(const std::vector<std::int64_t>& v) { return {v.begin(), v.end()}; }
};

/// A pre-norm transformer encoder block on [T, D] at batch 1, not causal.
inline constexpr std::size_t block_steps = 32, block_width = 64, block_heads = 4, block_ff = 256;
inline constexpr double block_flops = [] {
  constexpr double T = block_steps, D = block_width, F = block_ff;
  return 2.0 * T * D * 3 * D   // q, k, v projections
         + 2.0 * T * T * 2 * D  // q·kᵀ and p·v over all heads
         + 2.0 * T * D * D      // output projection
         + 2.0 * 2 * T * D * F;  // the two feed-forward layers
}();

}  // namespace ctnn_bench::sequences
