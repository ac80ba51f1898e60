// An initial state of the wrong hidden size: h0 [32] for an LSTM of 64.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<20, 8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<32>>;
#else
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<64>>;
#endif
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<64>>;
inline constexpr auto h = ctnn::lstm<"enc", 64>(x, h0, c0);
using network = decltype(ctnn::network(ctnn::outputs(h)));
static_assert(network::param_count == 4 * 64 * (8 + 64) + 2 * 4 * 64);
}  // namespace net

int main() {}
