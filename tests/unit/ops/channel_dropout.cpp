// channel_dropout<p>: in training every channel plane of every sample is all
// zero or all scaled by 1/(1 − p); the dropped fraction over many channels
// lies within a binomial bound of p; backward routes through the same mask;
// predict is the identity; and a gradient check with the mask held fixed.
#include <cmath>
#include <vector>

#include "../../gradcheck/support.hpp"

using Catch::Detail::Approx;

namespace {
constexpr std::size_t C = 500, H = 3, W = 2, HW = H * W, B = 4;
using node = decltype(ctnn::channel_dropout<0.3>(ctnn::input<"x", ctnn::shape<C, H, W>>));
using spec = node::spec;
static_assert(std::is_same_v<node::out_shape, ctnn::shape<C, H, W>>);
static_assert(spec::scratch_size == C);  // one scale per channel, not per value

struct run {
  std::vector<double> x = std::vector<double>(B * C * HW), y = x, mask = std::vector<double>(B * C);
  explicit run(std::uint64_t seed, bool training = true) {
    gc::rng r(seed);
    for (double& v : x) v = r.uniform(0.5, 1.5);  // never zero: a zero output means dropped
    ctnn::forward_args<double> a;
    a.in[0] = x.data();
    a.out = y.data();
    a.scratch = mask.data();
    a.training = training;
    a.seed = seed;
    spec::forward<B>(a);
  }
  // Whether channel c of sample b was dropped; fails unless the plane is all
  // zero or all x/(1 − p).
  bool dropped(std::size_t b, std::size_t c) const {
    const std::size_t o = (b * C + c) * HW;
    const bool zero = y[o] == 0.0;
    for (std::size_t i = o; i < o + HW; ++i) {
      if (zero) CHECK(y[i] == 0.0);
      else CHECK(y[i] == Approx(x[i] / 0.7).epsilon(1e-15));
    }
    return zero;
  }
};
}  // namespace

TEST_CASE("channel_dropout: whole planes dropped, the fraction near p", "[channel_dropout]") {
  const run r(11);
  std::size_t dropped = 0, differ = 0;
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t c = 0; c < C; ++c) {
      dropped += r.dropped(b, c);
      differ += b > 0 && r.dropped(b, c) != r.dropped(0, c);  // a mask per sample, not one for the batch
    }
  // B·C = 2000 Bernoulli(0.3) draws: mean 600, standard deviation √(2000·0.3·0.7) ≈ 20.5; allow 5σ.
  INFO("dropped " << dropped << " of " << B * C);
  CHECK(std::abs(double(dropped) - 600.0) < 5 * std::sqrt(2000 * 0.3 * 0.7));
  CHECK(differ > 0);
  // The mask is reproducible from the seed, and another seed gives another.
  CHECK(run(11).y == r.y);
  CHECK(run(12).y != r.y);
}

TEST_CASE("channel_dropout: backward uses the forward's mask", "[channel_dropout]") {
  const run r(21);
  std::vector<double> dy(B * C * HW), dx(B * C * HW, 7.0);
  gc::rng g(22);
  for (double& v : dy) v = g.uniform(-1, 1);
  ctnn::backward_args<double> a;
  a.in[0] = r.x.data();
  a.out = r.y.data();
  a.dout = dy.data();
  a.din[0] = dx.data();
  a.scratch = r.mask.data();
  spec::backward<B, ctnn::grad_mode::input(0)>(a);
  for (std::size_t i = 0; i < dx.size(); ++i) {
    // y = x·m per plane, so dx = dy·m = dy·y/x.
    CHECK(dx[i] == Approx(dy[i] * r.y[i] / r.x[i]).epsilon(1e-14).margin(1e-300));
  }
  // Accumulating: dx += dy·m.
  std::vector<double> acc(dx.size(), 1.0);
  a.din[0] = acc.data();
  spec::backward<B, ctnn::grad_mode::input(0) | ctnn::grad_mode::input_accumulate(0)>(a);
  for (std::size_t i = 0; i < acc.size(); ++i) CHECK(acc[i] == Approx(1.0 + dx[i]).margin(1e-14));
}

TEST_CASE("channel_dropout: the identity at inference", "[channel_dropout]") {
  const run r(31, /*training=*/false);
  CHECK(r.y == r.x);
}

namespace drop2d {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 4, 3>>;
inline constexpr auto h = ctnn::channel_dropout<0.5>(ctnn::tanh(ctnn::conv2d<"c", 6, 3, ctnn::padding<1>>(x)));
inline constexpr auto y = ctnn::dense<"out", 5>(ctnn::flatten(h));
using net = decltype(ctnn::network(ctnn::squared_error(y, ctnn::input<"t", ctnn::shape<5>>), ctnn::outputs(y)));
}  // namespace drop2d

TEST_CASE("channel_dropout: gradient check with the mask held fixed, predict without it", "[channel_dropout][gradcheck]") {
  using net = drop2d::net;
  gc::rng r(40);
  const auto x = r.uniform_array<gc::B * 24>(-1, 1);
  const auto t = r.uniform_array<gc::B * 5>(-1, 1);
  ctnn::model<net, gc::B, double> m;
  gc::randomize(m, 41);
  const auto rep = gc::check("channel_dropout<0.5>", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 4);
  GC_REQUIRE_BELOW(rep, 1e-6);
  // The check's forwards dropped some of the 18 planes and kept others.
  const auto kept = m.value(gc::node_id<net>("channel_dropout"));
  const auto pre = m.value(gc::node_id<net>("conv2d 3x3/1 p1+tanh"));
  std::size_t dropped = 0;
  for (std::size_t p = 0; p < gc::B * 6; ++p) {
    const bool zero = kept[p * 12] == 0.0;
    dropped += zero;
    for (std::size_t i = p * 12; i < p * 12 + 12; ++i) CHECK(kept[i] == (zero ? 0.0 : 2 * pre[i]));
  }
  CHECK(dropped > 0);
  CHECK(dropped < gc::B * 6);
  // predict runs the inference path: the same as a network without the dropout.
  const auto predicted = m.predict(ctnn::feed<"x">(x));
  const std::vector<double> out(predicted.begin(), predicted.end());
  std::vector<double> expect(gc::B * 5);
  const auto w = m.param_span("out.weight");
  const auto bias = m.param_span("out.bias");
  // Refreshes pre (training values of the conv are the same as inference).
  m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const auto conv = m.value(gc::node_id<net>("conv2d 3x3/1 p1+tanh"));
  for (std::size_t b = 0; b < gc::B; ++b)
    for (std::size_t j = 0; j < 5; ++j) {
      double s = bias[j];
      for (std::size_t i = 0; i < 72; ++i) s += conv[b * 72 + i] * w[i * 5 + j];
      expect[b * 5 + j] = s;
    }
  for (std::size_t i = 0; i < expect.size(); ++i) CHECK(out[i] == Approx(expect[i]).epsilon(1e-12));
  // New masks: the check passes again.
  m.advance_noise();
  GC_REQUIRE_BELOW(gc::check("channel_dropout<0.5>, next masks", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t)), 1e-6);
}
