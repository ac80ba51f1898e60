// groups<3> on 4 input channels: the groups must divide both channel counts.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<4, 8, 8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d<"grouped", 6, 3, ctnn::groups<3>>(image);
#else
inline constexpr auto y = ctnn::conv2d<"grouped", 6, 3, ctnn::groups<2>>(image);
#endif
}  // namespace net

int main() {}
