// 2×2 max pooling (stride 2) of a 25×25 map: 25 − 2 = 23 is odd.
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto image = ctnn::input<"image", ctnn::shape<20, 25, 25>>;
#else
inline constexpr auto image = ctnn::input<"image", ctnn::shape<20, 24, 24>>;
#endif
inline constexpr auto y = ctnn::max_pool<2>(image);
}  // namespace net

int main() {}
