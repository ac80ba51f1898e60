// A character model's scores over 32 steps against labels for 64.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<32>>;
inline constexpr auto logits = ctnn::dense<"out", 96>(ctnn::lstm<"lstm", 64>(ctnn::embedding<"emb", 96, 16>(ids)));
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto next = ctnn::label<"next", 96, 64>;
#else
inline constexpr auto next = ctnn::label<"next", 96, 32>;
#endif
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, next)));
}  // namespace net

int main() {}
