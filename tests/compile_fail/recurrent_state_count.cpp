// An LSTM given h0 without c0.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<20, 8>>;
inline constexpr auto h0 = ctnn::input<"h0", ctnn::shape<64>>;
inline constexpr auto c0 = ctnn::input<"c0", ctnn::shape<64>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto h = ctnn::lstm<"enc", 64>(x, h0);
#else
inline constexpr auto h = ctnn::lstm<"enc", 64>(x, h0, c0);
#endif
using network = decltype(ctnn::network(ctnn::outputs(h)));
}  // namespace net

int main() {}
