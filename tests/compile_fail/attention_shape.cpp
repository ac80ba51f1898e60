// Attention with keys of width 8 against queries of width 6.
#include <ctnn/ctnn.hpp>
#include <ctnn/ops/attention.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<5, 8>>;
inline constexpr auto q = ctnn::dense<"q", 6>(x);
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto k = ctnn::dense<"k", 8>(x);
#else
inline constexpr auto k = ctnn::dense<"k", 6>(x);
#endif
inline constexpr auto y = ctnn::attention(q, k, x);
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {}
