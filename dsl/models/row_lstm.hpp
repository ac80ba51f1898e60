/// @file row_lstm.hpp
/// Sequence classification of a Fashion-MNIST image read row by row: 28
/// steps of 28 pixels into an LSTM of 128 units, whose final state a dense
/// layer maps to the 10 classes. The input is the image's 784 floats seen as
/// [28, 28] (rows are contiguous), so it is fed exactly as LeNet's.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::row_lstm {
inline constexpr std::size_t rows = 28, hidden = 128;
inline constexpr auto image = ctnn::input<"image", ctnn::shape<rows, 28>>;
inline constexpr auto logits = ctnn::dense<"fc", 10>(ctnn::lstm<"lstm", hidden, ctnn::final_state>(image));
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>),
                                       ctnn::outputs(logits)));
// PyTorch's nn.LSTM(28, 128) + nn.Linear(128, 10).
static_assert(network::param_count == 4 * 128 * (28 + 128) + 2 * 4 * 128 + 128 * 10 + 10);
}  // namespace ctnn::models::row_lstm
