// Sinusoidal positions added to a flat vector instead of a sequence.
#include <ctnn/ctnn.hpp>
#include <ctnn/ops/positional.hpp>

namespace net {
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto x = ctnn::input<"x", ctnn::shape<64>>;
#else
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16, 4>>;
#endif
inline constexpr auto y = ctnn::sinusoidal_positions(x);
using network = decltype(ctnn::network(ctnn::outputs(y)));
}  // namespace net

int main() {}
