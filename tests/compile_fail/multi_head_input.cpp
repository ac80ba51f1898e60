// Multi-head attention whose width, 10, is not a multiple of its 4 heads.
#include <ctnn/ctnn.hpp>
#include <ctnn/ops/attention.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16, 10>>;
#else
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16, 12>>;
#endif
inline constexpr auto y = ctnn::multi_head_attention<"mha", 4>(x);
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {}
