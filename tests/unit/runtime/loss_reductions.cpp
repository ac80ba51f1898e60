// The runtime twin carries the static losses' options: from<Net> gives the
// same per-sample values and gradients, every loss root reports its batch
// reduction (batch_sum(), through scale and add as on the static side), and
// what the static side rejects at compile time the builder rejects with an
// exception naming the loss.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include <ctnn/ctnn.hpp>
#include <ctnn/runtime.hpp>

namespace rt = ctnn::runtime;
using Catch::Detail::Approx;
using Catch::Matchers::Contains;

namespace twin_nets {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<5>>;
inline constexpr auto h = ctnn::dense<"fc", 5>(x);
inline constexpr auto c = ctnn::label<"c", 5>;
// Batch means only: the per-sample options, which the runtime op applies itself.
using per_sample = decltype(ctnn::network(
    ctnn::squared_error(ctnn::ref<h>, t, ctnn::pytorch::mean),
    ctnn::scale<0.5>(ctnn::l1_loss(ctnn::ref<h>, t, ctnn::reduce::sample_mean)),
    ctnn::multiclass_hinge(ctnn::ref<h>, c, ctnn::reduce::sample_mean)));
using summed = decltype(ctnn::network(
    ctnn::scale<0.5>(ctnn::add(ctnn::squared_error(ctnn::ref<h>, t, ctnn::reduce::batch_sum),
                               ctnn::l1_loss(ctnn::ref<h>, t, ctnn::pytorch::sum))),
    ctnn::softmax_cross_entropy(ctnn::ref<h>, c)));

// One batch of three for both twins.
constexpr std::size_t B = 3;
struct batch_data {
  std::array<float, B * 4> x;
  std::array<float, B * 5> t;
  std::array<int, B> c;
};
inline const batch_data batch{{0.5f, -0.25f, 1.0f, 0.75f, -1.0f, 0.1f, 0.3f, -0.6f, 0.2f, 0.9f, -0.4f, 0.05f},
                              {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f, -0.9f, 1.0f, 0.0f, -0.1f, 0.2f,
                               0.3f, -0.4f},
                              {0, 3, 4}};
}  // namespace twin_nets

TEST_CASE("runtime twin: per-sample loss options as on the static side", "[runtime][loss][reduction]") {
  ctnn::model<twin_nets::per_sample, twin_nets::B> m(7);
  rt::model twin(rt::from<twin_nets::per_sample>(), twin_nets::B, 7);
  twin.copy_parameters_from(m);
  const auto& [x, t, c] = twin_nets::batch;
  const float ls = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t), ctnn::feed<"c">(c));
  const float lr = twin.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t), ctnn::feed<"c">(c));
  CHECK(lr == Approx(ls).epsilon(1e-6));
  const auto gs = m.grad<"fc.weight">();
  const auto gr = twin.grad("fc.weight");
  REQUIRE(gr.size() == gs.size());
  std::size_t i = 0;
  for (float v : gs) CHECK(gr[i++] == Approx(v).epsilon(1e-5).margin(1e-7));
}

TEST_CASE("runtime twin: a batch-summed root is summed and seeded with 1, as on the static side",
          "[runtime][loss][reduction]") {
  ctnn::model<twin_nets::summed, twin_nets::B> m(5);
  rt::model twin(rt::from<twin_nets::summed>(), twin_nets::B, 5);
  twin.copy_parameters_from(m);
  const auto& [x, t, c] = twin_nets::batch;
  const float ls = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t), ctnn::feed<"c">(c));
  const float lr = twin.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t), ctnn::feed<"c">(c));
  CHECK(lr == Approx(ls).epsilon(1e-6));
  // By hand: the summed root Σ_b ½·(½‖h−t‖² + Σ|h−t|) plus the mean cross-entropy.
  const auto w = m.param<"fc.weight">();
  const auto bias = m.param<"fc.bias">();
  double summed = 0, cross_entropy = 0;
  for (std::size_t b = 0; b < twin_nets::B; ++b) {
    std::array<double, 5> h{};
    double squares = 0, absolutes = 0, norm = 0;
    for (std::size_t j = 0; j < 5; ++j) {
      h[j] = bias(j);
      for (std::size_t k = 0; k < 4; ++k) h[j] += double(x[b * 4 + k]) * double(w(k, j));
      const double d = h[j] - double(t[b * 5 + j]);
      squares += d * d;
      absolutes += std::abs(d);
      norm += std::exp(h[j]);
    }
    summed += 0.5 * (0.5 * squares + absolutes);
    cross_entropy += std::log(norm) - h[std::size_t(c[b])];
  }
  CHECK(ls == Approx(summed + cross_entropy / twin_nets::B).epsilon(1e-5));
  const auto gs = m.grad<"fc.weight">();
  const auto gr = twin.grad("fc.weight");
  std::size_t i = 0;
  for (float v : gs) CHECK(gr[i++] == Approx(v).epsilon(1e-5).margin(1e-7));
}

TEST_CASE("runtime twin: loss roots report their batch reduction", "[runtime][loss][reduction]") {
  const rt::graph g = rt::from<twin_nets::summed>();
  REQUIRE(g.losses().size() == 2);
  CHECK(g.at(g.losses()[0]).batch_sum());   // scale(add(batch_sum, pytorch::sum))
  CHECK(!g.at(g.losses()[1]).batch_sum());  // the default
  const rt::graph p = rt::from<twin_nets::per_sample>();
  for (rt::node_id r : p.losses()) CHECK(!p.at(r).batch_sum());

  rt::graph h;
  const auto y = h.input("y", {3});
  const auto t = h.input("t", {3});
  const auto s = h.input("s", {4});
  const auto c = h.label("c", 4);
  const auto summed = h.squared_error(y, t, {.batch = ctnn::batch_reduction::sum});
  const auto averaged = h.target_loss<ctnn::loss_rule::l1>(y, t);
  CHECK(h.at(summed).batch_sum());
  CHECK(h.at(h.scale(summed, 0.5f)).batch_sum());
  CHECK(h.at(h.multiply(summed, h.input("w", {}))).batch_sum());  // a per-sample weight takes the loss's
  CHECK(!h.at(averaged).batch_sum());
  CHECK(h.at(h.add(y, t)).reduction() == ctnn::batch_reduction::unset);
  CHECK_THROWS_WITH(h.add(summed, averaged), Contains("add") && Contains("summed over the batch") &&
                                                 Contains("averaged") && Contains("l1_loss"));
  CHECK_THROWS_WITH(h.softmax_cross_entropy(s, c, {.sample = ctnn::sample_reduction::mean}),
                    Contains("softmax_cross_entropy") && Contains("no sample mean"));
  CHECK_THROWS_WITH(h.target_loss<ctnn::loss_rule::l1>(y, t, {.halved = false}),
                    Contains("squared_error") && Contains("l1_loss"));
}
