// chunk<0, 4> of a 10-wide vector: four parts do not divide ten rows.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto h = ctnn::input<"h", ctnn::shape<10>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::chunk<0, 4>(h);
#else
inline constexpr auto y = ctnn::chunk<0, 5>(h);
#endif
}  // namespace net

int main() {}
