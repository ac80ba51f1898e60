// output_padding<2> on a stride-2 transposed convolution without dilation:
// A must be below the stride (or the dilation). The diagnostic names the
// layer and gives A, S and D.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8, 7, 7>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d_transpose<"up1", 4, 3, ctnn::stride<2>, ctnn::output_padding<2>>(x);
#else
inline constexpr auto y = ctnn::conv2d_transpose<"up1", 4, 3, ctnn::stride<2>, ctnn::output_padding<1>>(x);
#endif
using out = decltype(y)::out_shape;
}  // namespace net

int main() {}
