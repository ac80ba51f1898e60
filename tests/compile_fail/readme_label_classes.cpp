// The network of README.md with the mistake its sample error shows: ten
// scores against a label with twelve classes. The REGEX holds the README's
// sample message, so the two stay the same.
#include <ctnn/ctnn.hpp>

namespace mlp {
inline constexpr auto image  = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto logits = ctnn::dense<"fc3", 10>(
    ctnn::relu(ctnn::dense<"fc2", 128>(ctnn::relu(ctnn::dense<"fc1", 256>(image)))));
#ifdef CTNN_SHOULD_FAIL
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 12>), ctnn::outputs(logits)));
#else
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>), ctnn::outputs(logits)));
static_assert(network::param_count == 235'146);
#endif
}  // namespace mlp

int main() {}
