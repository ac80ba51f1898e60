// kl_divergence of [10] log-probabilities against a [12] distribution.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto log_q = ctnn::log_softmax(ctnn::dense<"fc", 10>(x));
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto p = ctnn::input<"p", ctnn::shape<12>>;
#else
inline constexpr auto p = ctnn::input<"p", ctnn::shape<10>>;
#endif
inline constexpr auto loss = ctnn::kl_divergence(log_q, p);
}  // namespace net

int main() {}
