// A 5×5 convolution with stride 2 on a 28-wide image: 28 − 5 + 0 = 23 is not
// divisible by 2, so (W − F + 2P)/S + 1 is not whole. The diagnostic names the
// layer and gives W, F, P and S.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d<"conv1", 20, 5, ctnn::stride<2>>(image);
#else
inline constexpr auto y = ctnn::conv2d<"conv1", 20, 5, ctnn::stride<1>>(image);
#endif
}  // namespace net

int main() {}
