// A dense option that is not one: an activation written where an initializer goes.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::dense<"fc1", 8, ctnn::act::relu>(x);
#else
inline constexpr auto y = ctnn::dense<"fc1", 8, ctnn::init::xavier_uniform>(x);
#endif
using network = decltype(ctnn::network(ctnn::outputs(y)));
static_assert(network::param_count == 16 * 8 + 8);
}  // namespace net

int main() {}
