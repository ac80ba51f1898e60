// final_state<name> of a layer that is not recurrent.
#include <ctnn/ctnn.hpp>
#include <vector>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<10, 4>>;
inline constexpr auto y = ctnn::dense<"out", 2>(ctnn::lstm<"lstm", 8>(x));
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {
  ctnn::model<net::network, 2> m;
  std::vector<float> h(16), c(16);
#ifdef CTNN_SHOULD_FAIL
  m.final_state<"out">(h, c);
#else
  m.final_state<"lstm">(h, c);
#endif
}
