// A 3×3 transposed convolution with padding 3 on a 2×2 input: (2 − 1)·1 −
// 2·3 + 3 + 0 = −2, no output left. The diagnostic names the layer and gives
// the axis, H, F, S, P and A.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8, 2, 2>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::conv2d_transpose<"up2", 4, 3, ctnn::padding<3>>(x);
#else
inline constexpr auto y = ctnn::conv2d_transpose<"up2", 4, 3, ctnn::padding<1>>(x);
#endif
using out = decltype(y)::out_shape;
static_assert(out::size > 0);
}  // namespace net

int main() {}
