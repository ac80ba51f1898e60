// floor_mode given to a transposed convolution: its output size is always
// whole, so it takes no rounding mode. The diagnostic names the layer and
// the option.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8, 7, 7>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d_transpose<"up3", 4, 3, ctnn::stride<2>, ctnn::floor_mode>(x);
#else
inline constexpr auto y = ctnn::conv2d_transpose<"up3", 4, 3, ctnn::stride<2>, ctnn::no_bias>(x);
#endif
using out = decltype(y)::out_shape;
}  // namespace net

int main() {}
