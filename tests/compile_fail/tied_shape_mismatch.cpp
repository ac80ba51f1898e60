// One parameter name, "shared", used by layers with different input widths.
#include <ctnn/ctnn.hpp>

#include <type_traits>
#include <vector>

namespace net {
inline constexpr auto a = ctnn::input<"a", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto b = ctnn::input<"b", ctnn::shape<4>>;
#else
inline constexpr auto b = ctnn::input<"b", ctnn::shape<16>>;
#endif
inline constexpr auto sum = ctnn::add(ctnn::dense<"shared", 8>(a), ctnn::dense<"shared", 8>(b));
using network = decltype(ctnn::network(ctnn::squared_error(sum, ctnn::input<"t", ctnn::shape<8>>)));
static_assert(network::param_count == 16 * 8 + 8);
}  // namespace net

// A trainer and a step as well: the network's error must be the only one.
int main() {
  ctnn::trainer<net::network, ctnn::batch<2>> t;
  const std::vector<float> a(2 * 16), b(2 * std::remove_cvref_t<decltype(net::b)>::out_shape::size), target(2 * 8);
  t.step(ctnn::feed<"a">(a), ctnn::feed<"b">(b), ctnn::feed<"t">(target));
}
