// runtime::from<Net>() of a network with an op the runtime twin lacks (maxout).
#include <ctnn/ctnn.hpp>
#include <ctnn/runtime.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto h = ctnn::maxout<2>(ctnn::dense<"fc1", 16>(x));
#else
inline constexpr auto h = ctnn::relu(ctnn::dense<"fc1", 8>(x));
#endif
inline constexpr auto y = ctnn::dense<"fc2", 4>(h);
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(y, ctnn::label<"c", 4>), ctnn::outputs(y)));
}  // namespace net

int main() {
  ctnn::runtime::graph g = ctnn::runtime::from<net::network>();
  return g.size() == 0;
}
