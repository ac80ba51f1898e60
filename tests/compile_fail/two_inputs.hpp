// The network of the feed diagnostics' tests: two inputs of one shape, two
// labels, two losses, two outputs.
#pragma once

#include <array>

#include <ctnn/ctnn.hpp>

namespace two {
inline constexpr auto xa = ctnn::input<"xa", ctnn::shape<4>>;
inline constexpr auto xb = ctnn::input<"xb", ctnn::shape<4>>;
inline constexpr auto ha = ctnn::dense<"fa", 3>(xa);
inline constexpr auto hb = ctnn::dense<"fb", 3>(xb);
inline constexpr auto la = ctnn::softmax_cross_entropy(ctnn::ref<ha>, ctnn::label<"ya", 3>);
inline constexpr auto lb = ctnn::softmax_cross_entropy(ctnn::ref<hb>, ctnn::label<"yb", 3>);
using net = decltype(ctnn::network(la, lb, ctnn::outputs(ctnn::ref<ha>, ctnn::ref<hb>)));

// One batch of 2.
struct batch {
  std::array<float, 8> a{}, b{};
  std::array<int, 2> ya{}, yb{};
};
}  // namespace two
