// Layer norm of an image [C, H, W].
#include <ctnn/ctnn.hpp>
#include <ctnn/ops/layer_norm.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto x = ctnn::input<"x", ctnn::shape<3, 8, 8>>;
#else
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8, 8>>;
#endif
inline constexpr auto y = ctnn::layer_norm<"ln">(x);
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {}
