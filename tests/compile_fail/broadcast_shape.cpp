// A per-channel gain of 4 values on an image of 3 channels.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<3, 4, 4>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto gain = ctnn::input<"gain", ctnn::shape<4>>;
#else
inline constexpr auto gain = ctnn::input<"gain", ctnn::shape<3>>;
#endif
inline constexpr auto y = ctnn::broadcast_multiply(image, gain);
}  // namespace net

int main() {}
