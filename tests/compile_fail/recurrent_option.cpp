// A recurrent option that is not one: no_bias (PyTorch's bias=False) is not offered.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<20, 8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto h = ctnn::gru<"gru", 32, ctnn::no_bias>(x);
#else
inline constexpr auto h = ctnn::gru<"gru", 32, ctnn::bidirectional>(x);
#endif
using network = decltype(ctnn::network(ctnn::outputs(h)));
}  // namespace net

int main() {}
