// Sparse initialization with more nonzero weights per unit than inputs.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<10>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::dense<"fc1", 8, ctnn::init::sparse<15>>(x);
#else
inline constexpr auto y = ctnn::dense<"fc1", 8, ctnn::init::sparse<10>>(x);
#endif
using network = decltype(ctnn::network(ctnn::outputs(y)));
static_assert(network::param_count == 10 * 8 + 8);
}  // namespace net

int main() {}
