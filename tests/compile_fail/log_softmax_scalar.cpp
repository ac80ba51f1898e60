// log_softmax of one value per sample: there is no axis to normalize along.
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto score = ctnn::input<"score", ctnn::shape<>>;
#else
inline constexpr auto score = ctnn::input<"score", ctnn::shape<4>>;
#endif
inline constexpr auto y = ctnn::log_softmax(score);
}  // namespace net

int main() {}
