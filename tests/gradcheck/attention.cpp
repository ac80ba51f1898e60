// Central-difference gradient checks, in double at batch size 3, of the
// attention ops: layer_norm (a vector and the rows of a sequence), gelu,
// scaled dot-product attention (queries and keys of different lengths, and
// causal), multi-head self-attention (plain and causal), sinusoidal
// positions, and a pre-norm transformer encoder block built from them.
// Bound 1e-6, as in ops.cpp.
#include "support.hpp"

#include <ctnn/ops/attention.hpp>
#include <ctnn/ops/gelu.hpp>
#include <ctnn/ops/layer_norm.hpp>
#include <ctnn/ops/positional.hpp>

namespace {
constexpr std::size_t T = 5, D = 8;

template <class Net, std::size_t In, std::size_t Out, class... Extra>
ctnn::gradient_report check_net(const char* what, std::uint64_t seed, double scale = 0.5) {
  gc::rng r(seed);
  const auto x = r.uniform_array<gc::B * In>(-1.5, 1.5);
  const auto t = r.uniform_array<gc::B * Out>(-1, 1);
  ctnn::model<Net, gc::B, double> m;
  gc::randomize(m, seed, scale);
  return gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
}
}  // namespace

namespace att {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<T, D>>;
inline constexpr auto v8 = ctnn::input<"x", ctnn::shape<12>>;
template <std::size_t... N>
inline constexpr auto t = ctnn::input<"t", ctnn::shape<N...>>;

using ln_vector = decltype(ctnn::network(ctnn::squared_error(ctnn::layer_norm<"ln">(ctnn::dense<"fc", 12>(v8)), t<12>)));
using ln_rows = decltype(ctnn::network(ctnn::squared_error(ctnn::layer_norm<"ln">(ctnn::dense<"fc", 7>(x)), t<T, 7>)));
using gelu_net = decltype(ctnn::network(ctnn::squared_error(ctnn::gelu(ctnn::dense<"fc", 19>(v8)), t<19>)));

// Queries from the first 3 steps' projection, keys and values over all 5.
inline constexpr auto kv = ctnn::dense<"kv", 6>(x);
inline constexpr auto q3 = ctnn::dense<"q", 6>(ctnn::slice<0, 3>(x));
using cross = decltype(ctnn::network(ctnn::squared_error(
    ctnn::attention(q3, ctnn::ref<kv>, ctnn::dense<"v", 4>(ctnn::ref<kv>)), t<3, 4>)));
// Self-attention with q = k = v: the three gradients land in one buffer.
inline constexpr auto h = ctnn::dense<"h", 6>(x);
using self = decltype(ctnn::network(ctnn::squared_error(ctnn::attention(ctnn::ref<h>, ctnn::ref<h>, ctnn::ref<h>), t<T, 6>)));
using self_causal = decltype(ctnn::network(
    ctnn::squared_error(ctnn::attention(ctnn::ref<h>, ctnn::ref<h>, ctnn::ref<h>, ctnn::causal{}), t<T, 6>)));

using mha = decltype(ctnn::network(ctnn::squared_error(ctnn::multi_head_attention<"mha", 2>(x), t<T, D>)));
using mha_causal =
    decltype(ctnn::network(ctnn::squared_error(ctnn::multi_head_attention<"mha", 4, ctnn::causal>(x), t<T, D>)));
using positions = decltype(ctnn::network(
    ctnn::squared_error(ctnn::tanh(ctnn::sinusoidal_positions(ctnn::dense<"fc", 6>(x))), t<T, 6>)));

// A pre-norm encoder block: y = x1 + W2·gelu(W1·ln2(x1)), x1 = x + mha(ln1(x)).
inline constexpr auto x1 = ctnn::add(x, ctnn::multi_head_attention<"attn", 2, ctnn::causal>(ctnn::layer_norm<"ln1">(x)));
inline constexpr auto y =
    ctnn::add(ctnn::ref<x1>, ctnn::dense<"ff2", D>(ctnn::gelu(ctnn::dense<"ff1", 16>(ctnn::layer_norm<"ln2">(ctnn::ref<x1>)))));
using block = decltype(ctnn::network(ctnn::squared_error(y, t<T, D>)));
}  // namespace att

TEST_CASE("gradcheck: layer_norm and gelu", "[gradcheck][attention]") {
  GC_REQUIRE_BELOW((check_net<att::ln_vector, 12, 12>("layer_norm [12]", 1)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::ln_rows, T * D, T * 7>("layer_norm rows [5, 7]", 2)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::gelu_net, 12, 19>("gelu", 3)), 1e-6);
}

TEST_CASE("gradcheck: scaled dot-product attention", "[gradcheck][attention]") {
  GC_REQUIRE_BELOW((check_net<att::cross, T * D, 3 * 4>("attention, 3 queries over 5 keys", 4)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::self, T * D, T * 6>("self-attention q = k = v", 5)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::self_causal, T * D, T * 6>("causal self-attention", 6)), 1e-6);
}

TEST_CASE("gradcheck: multi-head attention, positions and a transformer block", "[gradcheck][attention]") {
  GC_REQUIRE_BELOW((check_net<att::mha, T * D, T * D>("multi-head attention, 2 heads", 7)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::mha_causal, T * D, T * D>("causal multi-head attention, 4 heads", 8)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::positions, T * D, T * 6>("sinusoidal positions", 9)), 1e-6);
  GC_REQUIRE_BELOW((check_net<att::block, T * D, T * D>("pre-norm transformer block", 10)), 1e-6);
}
