// One parameter name, "shared", given two initializers.
#include <ctnn/ctnn.hpp>

#include <vector>

namespace net {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<16>>;
inline constexpr auto b = ctnn::input<"b", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto sb = ctnn::dense<"shared", 8>(b);
#else
inline constexpr auto sb = ctnn::dense<"shared", 8, ctnn::init::xavier_uniform>(b);
#endif
inline constexpr auto sum = ctnn::add(ctnn::dense<"shared", 8, ctnn::init::xavier_uniform>(a), sb);
using network = decltype(ctnn::network(ctnn::squared_error(sum, ctnn::input<"t", ctnn::shape<8>>)));
static_assert(network::param_count == 16 * 8 + 8);
}  // namespace net

// A trainer and a step as well: the network's error must be the only one.
int main() {
  ctnn::trainer<net::network, ctnn::batch<2>> t;
  const std::vector<float> x(2 * 16), target(2 * 8);
  t.step(ctnn::feed<"a">(x), ctnn::feed<"b">(x), ctnn::feed<"t">(target));
}
