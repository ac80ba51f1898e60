// An input option other than requires_grad.
#include <ctnn/ctnn.hpp>

struct trainable {};

#ifdef CTNN_SHOULD_FAIL
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>, trainable>;
#else
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>, ctnn::requires_grad>;
#endif
using net = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"fc", 2>(x))));
static_assert(net::node_count == 2);

int main() {}
