// slice<6, 12> of a 10-wide vector: the range runs past its end.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto h = ctnn::input<"h", ctnn::shape<10>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::slice<6, 12>(h);
#else
inline constexpr auto y = ctnn::slice<6, 10>(h);
#endif
}  // namespace net

int main() {}
