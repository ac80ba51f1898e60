// A convolution applied to a flat [784] input instead of [1, 28, 28].
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
#else
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;
#endif
inline constexpr auto y = ctnn::conv2d<"conv1", 20, 5>(image);
}  // namespace net

int main() {}
