// The sum of a loss summed over the batch and one averaged over it.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto y = ctnn::input<"y", ctnn::shape<8>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<8>>;
inline constexpr auto summed = ctnn::squared_error(y, t, ctnn::reduce::batch_sum);
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto loss = ctnn::add(summed, ctnn::l1_loss(y, t));
#else
inline constexpr auto loss = ctnn::add(summed, ctnn::l1_loss(y, t, ctnn::reduce::batch_sum));
#endif
using network = decltype(ctnn::network(loss));
}  // namespace net

int main() {}
