// A bias initializer on a layer without bias.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::dense<"fc1", 8, ctnn::no_bias, ctnn::bias_init<ctnn::init::constant<0.1>>>(x);
#else
inline constexpr auto y = ctnn::dense<"fc1", 8, ctnn::bias_init<ctnn::init::constant<0.1>>>(x);
#endif
using network = decltype(ctnn::network(ctnn::outputs(y)));
static_assert(network::node_count == 2);
}  // namespace net

int main() {}
