/// @file char_lm.hpp
/// A character-level language model: ids of 64 characters → a 32-wide
/// embedding → an LSTM of 256 → scores over the 98 characters at every step,
/// trained on the next character (cross-entropy averaged over the steps, so
/// the loss is in nats per character). The training network takes each
/// chunk's initial state as inputs h0 and c0 (truncated backpropagation
/// through time over long streams); the sampling network is the same layers
/// without them, run one character at a time by ctnn::streaming.
#pragma once

#include <array>
#include <cstddef>

#include <ctnn/ctnn.hpp>

namespace ctnn::models::char_lm {
inline constexpr std::size_t vocabulary = 98, steps = 64, embedding_width = 32, hidden = 256;

/// The characters: 0 newline, 1 tab, 2..96 the printable ASCII characters
/// (space to '~'), 97 anything else.
constexpr std::size_t id_of(unsigned char c) {
  if (c == '\n') return 0;
  if (c == '\t') return 1;
  if (c >= 32 && c <= 126) return 2 + std::size_t(c - 32);
  return 97;
}
constexpr char char_of(std::size_t id) {
  if (id == 0) return '\n';
  if (id == 1) return '\t';
  if (id >= 2 && id <= 96) return char(32 + (id - 2));
  return '?';
}

inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<steps>>;
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<hidden>>;
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<hidden>>;
inline constexpr auto embedded = ctnn::embedding<"emb", vocabulary, embedding_width>(ids);
inline constexpr auto scores =
    ctnn::dense<"out", vocabulary>(ctnn::lstm<"lstm", hidden>(ctnn::ref<embedded>, h0, c0));
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(scores, ctnn::label<"next", vocabulary, steps>, ctnn::pytorch::mean),
    ctnn::outputs(scores)));

/// The same layers from a zero state, for ctnn::streaming.
inline constexpr auto sampler_scores =
    ctnn::dense<"out", vocabulary>(ctnn::lstm<"lstm", hidden>(ctnn::ref<embedded>));
using sampler = decltype(ctnn::network(ctnn::outputs(sampler_scores)));

// PyTorch's nn.Embedding(98, 32), nn.LSTM(32, 256), nn.Linear(256, 98).
static_assert(network::param_count == 98 * 32 + 4 * 256 * (32 + 256) + 2 * 4 * 256 + 256 * 98 + 98);
}  // namespace ctnn::models::char_lm
