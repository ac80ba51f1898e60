/// @file char_transformer.hpp
/// A small character-level transformer, the attention counterpart of
/// char_lm.hpp on the same characters: ids of 64 characters → a 128-wide
/// embedding plus a learned position code → two pre-norm encoder blocks
/// (causal self-attention with 4 heads, then a 512-wide GELU MLP, each added
/// back to its input) → a final layer norm → scores over the 98 characters at
/// every step. Each chunk of 64 characters is read on its own (no state
/// crosses chunks), so the first characters of a chunk are predicted from
/// little context.
#pragma once

#include <cstddef>

#include <ctnn/ctnn.hpp>
#include <models/char_lm.hpp>

namespace ctnn::models::char_transformer {
inline constexpr std::size_t vocabulary = char_lm::vocabulary, steps = char_lm::steps, width = 128, heads = 4,
                             mlp_width = 512;

/// x + mha(ln1(x)), then that + ff2(gelu(ff1(ln2(that)))), every parameter
/// named "<Block>.…" as in PyTorch's nn.TransformerEncoderLayer(norm_first=True).
/// Both sums reuse their input, so each is bound and referred to by ref<>.
template <fixed_string Block, const auto& X>
inline constexpr auto attended = ctnn::add(
    ctnn::ref<X>, ctnn::multi_head_attention<Block + ".self_attn", heads, ctnn::causal>(
                      ctnn::layer_norm<Block + ".norm1">(ctnn::ref<X>)));
template <fixed_string Block, const auto& X>
inline constexpr auto encoder_block =
    ctnn::add(ctnn::ref<attended<Block, X>>,
              ctnn::dense<Block + ".linear2", width>(ctnn::gelu(ctnn::dense<Block + ".linear1", mlp_width>(
                  ctnn::layer_norm<Block + ".norm2">(ctnn::ref<attended<Block, X>>)))));

inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<steps>>;
inline constexpr auto embedded =
    ctnn::add(ctnn::embedding<"tok", vocabulary, width, ctnn::init::gaussian<0.02>>(ids),
              ctnn::variable<"pos", ctnn::shape<steps, width>, ctnn::init::gaussian<0.02>>);
inline constexpr auto& block0 = encoder_block<"blocks.0", embedded>;
inline constexpr auto scores =
    ctnn::dense<"head", vocabulary>(ctnn::layer_norm<"norm">(ctnn::ref<encoder_block<"blocks.1", block0>>));
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(scores, ctnn::label<"next", vocabulary, steps>, ctnn::pytorch::mean),
    ctnn::outputs(scores)));

inline constexpr std::size_t block_params =
    2 * 2 * width + (3 * width * width + 3 * width) + (width * width + width) + (mlp_width * width + mlp_width) +
    (width * mlp_width + width);
static_assert(network::param_count ==
              vocabulary * width + steps * width + 2 * block_params + 2 * width + width * vocabulary + vocabulary);
}  // namespace ctnn::models::char_transformer
