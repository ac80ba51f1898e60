// Ten scores against a label with twelve classes.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto logits = ctnn::dense<"fc", 10>(image);
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto target = ctnn::label<"class", 12>;
#else
inline constexpr auto target = ctnn::label<"class", 10>;
#endif
inline constexpr auto loss = ctnn::softmax_cross_entropy(logits, target);
}  // namespace net

int main() {}
