// ceil_mode is pooling's (Caffe's pooling rounding); a convolution takes
// floor_mode only.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<3, 9, 9>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d<"conv1", 8, 3, ctnn::stride<2>, ctnn::ceil_mode>(ctnn::conv2d<"conv0", 3, 2>(image));
#else
inline constexpr auto y = ctnn::conv2d<"conv1", 8, 3, ctnn::stride<2>, ctnn::floor_mode>(ctnn::conv2d<"conv0", 3, 2>(image));
#endif
}  // namespace net

int main() {}
