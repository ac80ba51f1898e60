// 2×2 max pooling with padding 3: the padding must be smaller than the window.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<3, 8, 8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::max_pool<2, ctnn::padding<3>>(image);
#else
inline constexpr auto y = ctnn::max_pool<2, ctnn::padding<1>>(image);
#endif
}  // namespace net

int main() {}
