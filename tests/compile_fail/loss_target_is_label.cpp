// The multi-label logistic loss given a class label instead of its per-attribute targets.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto attributes = ctnn::dense<"fc", 10>(x);
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto target = ctnn::label<"class", 10>;
#else
inline constexpr auto target = ctnn::input<"attributes", ctnn::shape<10>>;
#endif
inline constexpr auto loss = ctnn::sigmoid_cross_entropy(attributes, target);
}  // namespace net

int main() {}
