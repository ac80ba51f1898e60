// maxout<3> of ten features: 10 is not a multiple of 3.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::maxout<3>(ctnn::dense<"fc", 10>(x));
#else
inline constexpr auto y = ctnn::maxout<3>(ctnn::dense<"fc", 12>(x));
#endif
}  // namespace net

int main() {}
