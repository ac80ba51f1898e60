// A dense layer applied to an image that was not flattened.
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;
#else
inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
#endif
inline constexpr auto hidden = ctnn::dense<"fc1", 256>(image);
}  // namespace net

int main() {}
