// squared_error of a [10] prediction against a [12] target.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto y = ctnn::dense<"fc", 10>(x);
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto target = ctnn::input<"target", ctnn::shape<12>>;
#else
inline constexpr auto target = ctnn::input<"target", ctnn::shape<10>>;
#endif
inline constexpr auto loss = ctnn::squared_error(y, target);
}  // namespace net

int main() {}
