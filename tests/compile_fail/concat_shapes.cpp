// concat of a [4, 8, 8] and a [2, 8, 6] image: the widths 8 and 6 differ.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<4, 8, 8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto b = ctnn::input<"b", ctnn::shape<2, 8, 6>>;
#else
inline constexpr auto b = ctnn::input<"b", ctnn::shape<2, 8, 8>>;
#endif
inline constexpr auto y = ctnn::concat(a, b);
}  // namespace net

int main() {}
