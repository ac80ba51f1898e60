// matmul of a [4, 6] and a [5, 3] value: the inner dimensions 6 and 5 differ.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<4, 6>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto b = ctnn::input<"b", ctnn::shape<5, 3>>;
#else
inline constexpr auto b = ctnn::input<"b", ctnn::shape<6, 3>>;
#endif
inline constexpr auto c = ctnn::matmul(a, b);
}  // namespace net

int main() {}
