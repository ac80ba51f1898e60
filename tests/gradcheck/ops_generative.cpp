// Central-difference gradient checks, in double at batch size 3, of the ops
// that recurrent, attention and generative models are built from: exp, log,
// softplus and log_softmax. Each op sits between trainable layers, so the
// check sees its input gradient through the parameters before it. Bound
// 1e-6, as in ops.cpp.
#include "support.hpp"

using Catch::Detail::Approx;

// ---------------------------------------------------------------------------
// exp, log, softplus: on a bound dense (a node of their own) and, for exp and
// softplus, directly on a dense (fused into its GEMM epilogue). 19 units run
// both the vector loop and the scalar tail.

namespace pointwise {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<19>>;
inline constexpr auto h = ctnn::dense<"fc", 19>(x);
using exp_separate = decltype(ctnn::network(ctnn::squared_error(ctnn::exp(ctnn::ref<h>), t)));
using exp_fused = decltype(ctnn::network(ctnn::squared_error(ctnn::exp(ctnn::dense<"fc", 19>(x)), t)));
using softplus_separate = decltype(ctnn::network(ctnn::squared_error(ctnn::softplus(ctnn::ref<h>), t)));
using softplus_fused = decltype(ctnn::network(ctnn::squared_error(ctnn::softplus(ctnn::dense<"fc", 19>(x)), t)));
// log needs a positive input: the sigmoid of the layer, fused into it.
using log_of_sigmoid = decltype(ctnn::network(ctnn::squared_error(ctnn::log(ctnn::sigmoid(ctnn::dense<"fc", 19>(x))), t)));
}  // namespace pointwise

template <class Net>
ctnn::gradient_report check_pointwise(const char* what, std::string_view op_kind) {
  REQUIRE(gc::node_id<Net>(op_kind) != ctnn::none);
  gc::rng r(41);
  const auto x = r.uniform_array<gc::B * 4>(-1.5, 1.5);
  const auto t = r.uniform_array<gc::B * 19>(-1, 1);
  ctnn::model<Net, gc::B, double> m;
  gc::randomize(m, 3, 0.5);
  return gc::check(what, m, x.data(), t.data());
}

TEST_CASE("gradcheck: exp, log and softplus, separate and fused into dense", "[gradcheck][exp_log]") {
  GC_REQUIRE_BELOW(check_pointwise<pointwise::exp_separate>("exp", "exp"), 1e-6);
  GC_REQUIRE_BELOW(check_pointwise<pointwise::exp_fused>("exp fused", "dense+exp"), 1e-6);
  GC_REQUIRE_BELOW(check_pointwise<pointwise::softplus_separate>("softplus", "softplus"), 1e-6);
  GC_REQUIRE_BELOW(check_pointwise<pointwise::softplus_fused>("softplus fused", "dense+softplus"), 1e-6);
  GC_REQUIRE_BELOW(check_pointwise<pointwise::log_of_sigmoid>("log(sigmoid)", "log"), 1e-6);
}

// ---------------------------------------------------------------------------
// log_softmax: over a flat vector into negative_log_likelihood, and over the
// rows of a [T, D] sequence (a variable, so that the rows are trainable).

namespace log_softmax_flat {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>>;
inline constexpr auto logits = ctnn::dense<"fc", 11>(x);
using net = decltype(ctnn::network(ctnn::negative_log_likelihood(ctnn::log_softmax(logits), ctnn::label<"y", 11>)));
}  // namespace log_softmax_flat

namespace log_softmax_rows {
inline constexpr auto scores = ctnn::variable<"scores", ctnn::shape<3, 5>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<3, 5>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::log_softmax(scores), t)));
}  // namespace log_softmax_rows

TEST_CASE("gradcheck: log_softmax over a vector and over rows", "[gradcheck][log_softmax]") {
  gc::rng r(43);
  {
    const auto x = r.uniform_array<gc::B * 6>(-1, 1);
    const auto y = r.labels<gc::B>(11);
    ctnn::model<log_softmax_flat::net, gc::B, double> m;
    gc::randomize(m, 4);
    GC_REQUIRE_BELOW(gc::check("nll(log_softmax(dense))", m, x.data(), y.data()), 1e-6);
  }
  {
    const auto t = r.uniform_array<gc::B * 15>(-3, 0);
    ctnn::model<log_softmax_rows::net, gc::B, double> m;
    gc::randomize(m, 5, 2.0);
    GC_REQUIRE_BELOW(gc::check("log_softmax of [3, 5] rows", m, t.data()), 1e-6);
  }
}
