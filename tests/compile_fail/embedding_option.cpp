// An embedding option that is not an initializer.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto e = ctnn::embedding<"emb", 96, 8, ctnn::no_bias>(ids);
#else
inline constexpr auto e = ctnn::embedding<"emb", 96, 8, ctnn::init::gaussian<0.1>>(ids);
#endif
using network = decltype(ctnn::network(ctnn::outputs(e)));
}  // namespace net

int main() {}
