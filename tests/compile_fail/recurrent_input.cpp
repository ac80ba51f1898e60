// An LSTM given a flat vector: a recurrent layer needs a sequence [steps, features].
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto x = ctnn::input<"x", ctnn::shape<28>>;
#else
inline constexpr auto x = ctnn::input<"x", ctnn::shape<28, 1>>;
#endif
inline constexpr auto h = ctnn::lstm<"lstm", 16, ctnn::final_state>(x);
using network = decltype(ctnn::network(ctnn::outputs(h)));
}  // namespace net

int main() {}
