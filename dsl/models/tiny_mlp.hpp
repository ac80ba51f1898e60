/// @file tiny_mlp.hpp
/// The embedded-net benchmark model: 16 → 64 → 64 → 1 with tanh hidden
/// layers, regressing a 1-wide target with squared error. Small enough that
/// per-op overheads (dispatch, loop set-up, passes over memory) dominate.
#pragma once

#include <ctnn/ctnn.hpp>

namespace ctnn::models::tiny_mlp {

inline constexpr auto features = ctnn::input<"features", ctnn::shape<16>>;
inline constexpr auto target = ctnn::input<"target", ctnn::shape<1>>;
inline constexpr auto prediction =
    ctnn::dense<"fc3", 1>(ctnn::tanh(ctnn::dense<"fc2", 64>(ctnn::tanh(ctnn::dense<"fc1", 64>(features)))));
using network = decltype(ctnn::network(ctnn::squared_error(prediction, target), ctnn::outputs(prediction)));

static_assert(network::param_count == 16 * 64 + 64 + 64 * 64 + 64 + 64 + 1);
static_assert(network::param_count == 5'313);

}  // namespace ctnn::models::tiny_mlp
