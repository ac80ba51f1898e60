// One parameter name, "shared", used by layers with different input widths.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto b = ctnn::input<"b", ctnn::shape<4>>;
#else
inline constexpr auto b = ctnn::input<"b", ctnn::shape<16>>;
#endif
inline constexpr auto sum = ctnn::add(ctnn::dense<"shared", 8>(a), ctnn::dense<"shared", 8>(b));
using network = decltype(ctnn::network(ctnn::squared_error(sum, ctnn::input<"t", ctnn::shape<8>>)));
static_assert(network::param_count == 16 * 8 + 8);
}  // namespace net

int main() {}
