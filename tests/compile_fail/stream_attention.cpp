// Streaming a transformer block: its self-attention reads every step of the
// sequence, so it cannot run one step at a time.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16, 8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto mixed = ctnn::multi_head_attention<"mha", 2, ctnn::causal>(ctnn::layer_norm<"ln">(x));
#else
inline constexpr auto mixed = ctnn::dense<"mix", 8>(ctnn::layer_norm<"ln">(x));
#endif
inline constexpr auto y = ctnn::dense<"out", 1>(ctnn::add(x, mixed));
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {
  ctnn::streaming<net::network> s;
  const float row[8] = {};
  return s.step(ctnn::feed<"x">(row)).size() == 1 ? 0 : 1;
}
