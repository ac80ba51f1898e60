// A sample mean asked of softmax_cross_entropy, which is not a sum over a
// sample's elements.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto s = ctnn::input<"scores", ctnn::shape<10>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto loss = ctnn::softmax_cross_entropy(s, ctnn::label<"class", 10>, ctnn::reduce::sample_mean);
#else
inline constexpr auto loss = ctnn::softmax_cross_entropy(s, ctnn::label<"class", 10>, ctnn::reduce::batch_sum);
#endif
using network = decltype(ctnn::network(loss));
}  // namespace net

int main() {}
