/// @file tiny_mlp.hpp
/// The typical embedded network: 16 → 64 → 64 → 1 with tanh hidden layers,
/// a regression trained with squared error against a one-value target.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::tiny_mlp {

inline constexpr auto x = ctnn::input<"x", ctnn::shape<16>>;
inline constexpr auto target = ctnn::input<"target", ctnn::shape<1>>;
inline constexpr auto y =
    ctnn::dense<"out", 1>(ctnn::tanh(ctnn::dense<"h2", 64>(ctnn::tanh(ctnn::dense<"h1", 64>(x)))));
using network = decltype(ctnn::network(ctnn::squared_error(y, target), ctnn::outputs(y)));

static_assert(network::param_count == 16 * 64 + 64 + 64 * 64 + 64 + 64 + 1);

}  // namespace ctnn::models::tiny_mlp
