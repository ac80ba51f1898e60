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
  return gc::check(what, m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
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
    GC_REQUIRE_BELOW(gc::check("nll(log_softmax(dense))", m, ctnn::feed<"x">(x), ctnn::feed<"y">(y)), 1e-6);
  }
  {
    const auto t = r.uniform_array<gc::B * 15>(-3, 0);
    ctnn::model<log_softmax_rows::net, gc::B, double> m;
    gc::randomize(m, 5, 2.0);
    GC_REQUIRE_BELOW(gc::check("log_softmax of [3, 5] rows", m, ctnn::feed<"t">(t)), 1e-6);
  }
}

// ---------------------------------------------------------------------------
// dense_transposed: a tied autoencoder x → relu(enc(x)) → enc's weight
// transposed → squared error against x. 19 inputs and 6 hidden units run the
// GEMMs' vector and tail paths.

namespace tied_autoencoder {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<19>>;
inline constexpr auto pre = ctnn::dense<"enc", 6>(x);
inline constexpr auto code = ctnn::relu(ctnn::ref<pre>);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense_transposed<"dec", "enc.weight", 19>(code), x)));
// The same network with the decoder's weight a tensor of its own.
using untied = decltype(ctnn::network(ctnn::squared_error(ctnn::dense_transposed<"dec", "dec.weight", 19>(code), x)));
static_assert(net::param_count == 19 * 6 + 6 + 19);  // one weight, two biases
static_assert(untied::param_count == 2 * 19 * 6 + 6 + 19);
}  // namespace tied_autoencoder

namespace tied_autoencoder_no_bias {
using tied_autoencoder::code, tied_autoencoder::x;
using net = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense_transposed<"dec", "enc.weight", 19, ctnn::no_bias>(code), x)));
static_assert(net::param_count == 19 * 6 + 6);
}  // namespace tied_autoencoder_no_bias

TEST_CASE("gradcheck: tied autoencoder through dense_transposed", "[gradcheck][dense_transposed]") {
  using net = tied_autoencoder::net;
  std::array<double, gc::B * 19> x{};
  ctnn::model<net, gc::B, double> m;
  const std::uint64_t seed = gc::draw_until(
      m, [&](std::uint64_t s) { x = gc::rng(300 + s).uniform_array<gc::B * 19>(-1, 1); },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x));
        return gc::min_abs(mm.value(gc::node_id<net>("dense"))) > gc::kink_margin;
      });
  const auto rep = gc::check("tied autoencoder", m, ctnn::feed<"x">(x));
  REQUIRE(rep.find("enc.weight") != nullptr);
  CHECK(rep.find("dec.weight") == nullptr);
  GC_REQUIRE_BELOW(rep, 1e-6);

  // The shared weight's gradient is the sum of its two uses': the untied
  // network, with the decoder's own weight set to the same values, splits it.
  using untied = tied_autoencoder::untied;
  ctnn::model<untied, gc::B, double> u;
  gc::randomize(u, seed);
  const auto w = m.param_span("enc.weight");
  std::copy(w.begin(), w.end(), u.param_span("dec.weight").begin());
  const double loss_tied = m.forward_backward(ctnn::feed<"x">(x));
  const double loss_untied = u.forward_backward(ctnn::feed<"x">(x));
  CHECK(loss_untied == Approx(loss_tied).epsilon(1e-14));
  const auto g = m.grad_span("enc.weight");
  const auto g_enc = u.grad_span("enc.weight");
  const auto g_dec = u.grad_span("dec.weight");
  REQUIRE(g.size() == 19 * 6);
  double enc_norm = 0, dec_norm = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    CHECK(g[i] == Approx(g_enc[i] + g_dec[i]).epsilon(1e-12).margin(1e-15));
    enc_norm += g_enc[i] * g_enc[i];
    dec_norm += g_dec[i] * g_dec[i];
  }
  CHECK(enc_norm > 1e-6);  // both uses contribute
  CHECK(dec_norm > 1e-6);
  for (std::string_view p : {"enc.bias", "dec.bias"}) {
    const auto gt = m.grad_span(p), gu = u.grad_span(p);
    for (std::size_t i = 0; i < gt.size(); ++i) CHECK(gt[i] == Approx(gu[i]).epsilon(1e-12).margin(1e-15));
  }
  GC_REQUIRE_BELOW(gc::check("untied autoencoder", u, ctnn::feed<"x">(x)), 1e-6);

  ctnn::model<tied_autoencoder_no_bias::net, gc::B, double> nb;
  gc::randomize(nb, seed);
  GC_REQUIRE_BELOW(gc::check("tied autoencoder, decoder without bias", nb, ctnn::feed<"x">(x)), 1e-6);
}

// ---------------------------------------------------------------------------
// slice and chunk. Two slices of one value: the first backward writes its
// rows and zeros the others, the second adds into its rows. A chunk of a
// [4, 2, 3] image's channels, from a variable (its gradient sums the batch).

namespace slices {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto h = ctnn::dense<"fc", 21>(x);
inline constexpr auto t = ctnn::input<"t", ctnn::shape<7>>;
// Rows 14..20 are read by neither slice: their gradient must be zero.
using two = decltype(ctnn::network(ctnn::squared_error(
    ctnn::multiply(ctnn::slice<0, 7>(ctnn::ref<h>), ctnn::tanh(ctnn::slice<7, 14>(ctnn::ref<h>))), t)));
using one = decltype(ctnn::network(ctnn::squared_error(ctnn::slice<3, 10>(ctnn::ref<h>), t)));
}  // namespace slices

namespace chunks {
inline constexpr auto image = ctnn::variable<"image", ctnn::shape<4, 2, 3>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<2, 2, 3>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::chunk<1, 2>(image), t)));
static_assert(std::is_same_v<decltype(ctnn::chunk<1, 2>(image))::out_shape, ctnn::shape<2, 2, 3>>);
}  // namespace chunks

TEST_CASE("gradcheck: slice and chunk", "[gradcheck][slice]") {
  gc::rng r(47);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  const auto t = r.uniform_array<gc::B * 7>(-1, 1);
  {
    ctnn::model<slices::two, gc::B, double> m;
    gc::randomize(m, 8);
    GC_REQUIRE_BELOW(gc::check("slice<0, 7> * tanh(slice<7, 14>)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
    // The weight columns of the rows nobody reads get exactly zero.
    m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    const auto g = m.grad_span("fc.weight");  // [4, 21]
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t j = 0; j < 21; ++j) {
        INFO("row " << i << ", unit " << j);
        if (j >= 14) CHECK(g[i * 21 + j] == 0.0);
        else CHECK(g[i * 21 + j] != 0.0);
      }
  }
  {
    ctnn::model<slices::one, gc::B, double> m;
    gc::randomize(m, 9);
    GC_REQUIRE_BELOW(gc::check("slice<3, 10>", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
  {
    ctnn::model<chunks::net, gc::B, double> m;
    gc::randomize(m, 10);
    const auto t12 = r.uniform_array<gc::B * 12>(-1, 1);
    GC_REQUIRE_BELOW(gc::check("chunk<1, 2> of [4, 2, 3]", m, ctnn::feed<"t">(t12)), 1e-6);
    m.forward_backward(ctnn::feed<"t">(t12));
    const auto g = m.grad_span("image");
    for (std::size_t i = 0; i < 12; ++i) CHECK(g[i] == 0.0);  // channels 0 and 1
    for (std::size_t i = 12; i < 24; ++i) CHECK(g[i] != 0.0);
  }
}

// ---------------------------------------------------------------------------
// constant: a fixed gain on a dense layer; it has no gradient of its own.

namespace constant_gain {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto gain = ctnn::constant<"gain", ctnn::shape<5>, 1, -2, 0.5, 3, 0>;
using net = decltype(ctnn::network(
    ctnn::squared_error(ctnn::multiply(ctnn::dense<"fc", 5>(x), gain), ctnn::input<"t", ctnn::shape<5>>)));
static_assert(net::leaf_count == 2);  // x and t: the constant is not fed
static_assert(net::param_count == 4 * 5 + 5);
}  // namespace constant_gain

TEST_CASE("gradcheck: a dense layer times a constant", "[gradcheck][constant]") {
  gc::rng r(53);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  const auto t = r.uniform_array<gc::B * 5>(-1, 1);
  ctnn::model<constant_gain::net, gc::B, double> m;
  gc::randomize(m, 11);
  const auto rep = gc::check("dense * constant", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 2);  // fc.weight and fc.bias only
  GC_REQUIRE_BELOW(rep, 1e-6);
  // The unit the constant zeroes gets no gradient.
  m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const auto g = m.grad_span("fc.bias");
  CHECK(g[4] == 0.0);
  CHECK(g[1] != 0.0);
}

// ---------------------------------------------------------------------------
// broadcast_add and broadcast_multiply: per channel on a [3, 2, 5] image (10
// positions: vector and tail), and per feature on a [4, 9] sequence, with a
// per-sample vector (a dense output) and a shared one (a variable). In the
// sequence case one vector feeds two broadcasts, so its gradient is written
// by one and added to by the other.

namespace broadcast_image {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto image = ctnn::variable<"image", ctnn::shape<3, 2, 5>, ctnn::init::gaussian<1.0>>;
inline constexpr auto gain = ctnn::dense<"gain", 3>(x);
inline constexpr auto y =
    ctnn::broadcast_add(ctnn::broadcast_multiply(image, gain), ctnn::variable<"shift", ctnn::shape<3>>);
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<3, 2, 5>>)));
}  // namespace broadcast_image

namespace broadcast_sequence {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto steps = ctnn::variable<"steps", ctnn::shape<4, 9>>;
inline constexpr auto v = ctnn::dense<"v", 9>(x);
inline constexpr auto y =
    ctnn::add(ctnn::broadcast_multiply(steps, ctnn::ref<v>), ctnn::broadcast_add(ctnn::tanh(steps), ctnn::ref<v>));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<4, 9>>)));
}  // namespace broadcast_sequence

TEST_CASE("gradcheck: broadcast add and multiply, per channel and per feature", "[gradcheck][broadcast]") {
  gc::rng r(59);
  const auto x = r.uniform_array<gc::B * 4>(-1, 1);
  {
    const auto t = r.uniform_array<gc::B * 30>(-1, 1);
    ctnn::model<broadcast_image::net, gc::B, double> m;
    gc::randomize(m, 12);
    const auto rep = gc::check("broadcast on [3, 2, 5]", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
    CHECK(rep.tensors.size() == 4);  // image, gain.weight, gain.bias, shift
    GC_REQUIRE_BELOW(rep, 1e-6);
  }
  {
    const auto t = r.uniform_array<gc::B * 36>(-1, 1);
    ctnn::model<broadcast_sequence::net, gc::B, double> m;
    gc::randomize(m, 13);
    GC_REQUIRE_BELOW(gc::check("broadcast on [4, 9]", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
  }
}
