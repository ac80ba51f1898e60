// Networks for the model_choice diagnostics' tests: an input of 8 values and
// 4 scores, and variants that differ in one respect each.
#pragma once

#include <ctnn/ctnn.hpp>

namespace picks {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
using small = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"small", 4>(x))));
inline constexpr auto pixels = ctnn::input<"pixels", ctnn::shape<8>>;
using renamed = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"renamed", 4>(pixels))));

inline constexpr auto wide_x = ctnn::input<"x", ctnn::shape<9>>;
using wide_input = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"wide", 4>(wide_x))));
using five_scores = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"five", 5>(x))));
inline constexpr auto extra = ctnn::input<"extra", ctnn::shape<8>>;
using two_inputs = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"pair", 4>(ctnn::add(x, extra)))));
}  // namespace picks
