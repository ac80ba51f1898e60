// The input name "image" declared twice with different shapes.
#include <ctnn/ctnn.hpp>

#include <vector>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto again = ctnn::input<"image", ctnn::shape<10>>;
#else
inline constexpr auto again = ctnn::input<"hint", ctnn::shape<10>>;
#endif
inline constexpr auto logits = ctnn::add(ctnn::dense<"fc", 10>(image), again);
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>)));
static_assert(network::node_count == 6);
}  // namespace net

// A trainer and a step as well: the network's error must be the only one
// (the second "image" leaf must not also be reported as not fed).
int main() {
  ctnn::trainer<net::network, ctnn::batch<2>> t;
  const std::vector<float> x(2 * 784), hint(2 * 10);
  const std::vector<int> y(2);
#ifdef CTNN_SHOULD_FAIL
  t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
#else
  t.step(ctnn::feed<"image">(x), ctnn::feed<"hint">(hint), ctnn::feed<"class">(y));
#endif
}
