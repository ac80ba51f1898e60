// add() of a [10] and a [12] value.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::add(ctnn::dense<"a", 10>(x), ctnn::dense<"b", 12>(x));
#else
inline constexpr auto y = ctnn::add(ctnn::dense<"a", 10>(x), ctnn::dense<"b", 10>(x));
#endif
}  // namespace net

int main() {}
