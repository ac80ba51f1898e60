// A batch norm on a [4, 5] matrix: neither flat features nor an image.
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4, 5>>;
#else
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4, 5, 1>>;
#endif
inline constexpr auto y = ctnn::batch_norm<"bn1">(x);
}  // namespace net

int main() {}
