// A [2, 2] constant given three values.
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto c = ctnn::constant<"eye", ctnn::shape<2, 2>, 1, 0, 1>;
#else
inline constexpr auto c = ctnn::constant<"eye", ctnn::shape<2, 2>, 1, 0, 0, 1>;
#endif
using network = decltype(ctnn::network(ctnn::outputs(c)));
static_assert(network::node_count == 1);
}  // namespace net

int main() {}
