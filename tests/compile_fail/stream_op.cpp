// Streaming a bidirectional LSTM: its reverse direction needs the future.
#include <ctnn/ctnn.hpp>
#include <ctnn/train/streaming.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<50, 1>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto h = ctnn::lstm<"lstm", 16, ctnn::bidirectional>(x);
#else
inline constexpr auto h = ctnn::lstm<"lstm", 16>(x);
#endif
inline constexpr auto y = ctnn::dense<"out", 1>(h);
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {
  ctnn::streaming<net::network> s;
  const float sample = 0.5f;
  return s.step(ctnn::feed<"x">(&sample)).size() == 1 ? 0 : 1;
}
