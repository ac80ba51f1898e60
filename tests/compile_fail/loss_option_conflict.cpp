// PyTorch's convention together with an explicit reduction.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto y = ctnn::input<"y", ctnn::shape<8>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto loss = ctnn::l1_loss(y, t, ctnn::pytorch::mean, ctnn::reduce::batch_sum);
#else
inline constexpr auto loss = ctnn::l1_loss(y, t, ctnn::reduce::sample_mean, ctnn::reduce::batch_sum);
#endif
using network = decltype(ctnn::network(loss));
}  // namespace net

int main() {}
