// A computed sub-graph used twice by value rather than through ref<>.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto h = ctnn::relu(ctnn::dense<"fc1", 8>(x));
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::add(h, ctnn::dense<"fc2", 8>(h));
#else
inline constexpr auto y = ctnn::add(ctnn::ref<h>, ctnn::dense<"fc2", 8>(ctnn::ref<h>));
#endif
using network = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<8>>)));
static_assert(network::node_count == 6);
}  // namespace net

int main() {}
