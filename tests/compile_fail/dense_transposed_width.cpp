// A decoder tied to "enc.weight" [16, 4] whose width (15) is not the encoder's input width.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16>>;
inline constexpr auto code = ctnn::relu(ctnn::dense<"enc", 4>(x));
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::dense_transposed<"dec", "enc.weight", 15>(code);
#else
inline constexpr auto y = ctnn::dense_transposed<"dec", "enc.weight", 16>(code);
#endif
using network = decltype(ctnn::network(ctnn::outputs(y)));
static_assert(network::param_count > 0);
}  // namespace net

int main() {}
