// The input name "image" declared twice with different shapes.
#include <ctnn/ctnn.hpp>

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

int main() {}
