// channel_dropout on a flat [256] activation: it drops whole channels of a
// [channels, height, width] input; dropout<p> is for other shapes.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<784>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::channel_dropout<0.2>(ctnn::dense<"fc1", 256>(x));
#else
inline constexpr auto y = ctnn::dropout<0.2>(ctnn::dense<"fc1", 256>(x));
#endif
using out = decltype(y)::out_shape;
}  // namespace net

int main() {}
