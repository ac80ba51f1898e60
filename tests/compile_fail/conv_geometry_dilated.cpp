// A 3×3 convolution dilated by 2 spans 5 pixels: on a 28-wide image with
// stride 2, 28 − 5 = 23 is odd. The diagnostic gives the dilated extent F = 5.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<3, 28, 28>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d<"conv2", 8, 3, ctnn::dilation<2>, ctnn::stride<2>>(image);
#else
inline constexpr auto y = ctnn::conv2d<"conv2", 8, 3, ctnn::dilation<2>, ctnn::stride<1>>(image);
#endif
}  // namespace net

int main() {}
