// An embedding given one-hot vectors [T, V] instead of ids [T].
#include <ctnn/ctnn.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<16, 96>>;
#else
inline constexpr auto ids = ctnn::input<"ids", ctnn::shape<16>>;
#endif
inline constexpr auto e = ctnn::embedding<"emb", 96, 8>(ids);
using network = decltype(ctnn::network(ctnn::outputs(e)));
}  // namespace net

int main() {}
