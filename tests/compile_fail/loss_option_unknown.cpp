// A loss option that is not one: a dense layer's no_bias given to a loss.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto y = ctnn::input<"y", ctnn::shape<8>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto loss = ctnn::squared_error(y, t, ctnn::no_bias{});
#else
inline constexpr auto loss = ctnn::squared_error(y, t, ctnn::no_half);
#endif
using network = decltype(ctnn::network(loss));
}  // namespace net

int main() {}
