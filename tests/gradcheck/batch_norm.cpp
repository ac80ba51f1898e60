// Central-difference gradient checks of the spatial batch norm in double:
// a [3, 4, 5] feature map at batch 3 (and at batch 1, where the statistics
// come from one image's positions alone), and a residual block
// conv → batch_norm → relu → add. Only parameters are perturbed, so the
// batch norm's input gradient is checked through the weight of the 1×1
// convolution "c0" in front of it (its gradient is Σ dx·x).
#include "support.hpp"

namespace bn_spatial {
// No bias before a batch norm: the norm removes any shift, so a bias's true
// gradient is zero and only rounding noise would be compared.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<3, 4, 5>>;
inline constexpr auto h = ctnn::batch_norm<"bn">(ctnn::conv2d<"c0", 3, 1, ctnn::no_bias>(x));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(ctnn::tanh(h)), ctnn::input<"t", ctnn::shape<60>>)));
}  // namespace bn_spatial

template <std::size_t Bn>
void check_spatial_batch_norm() {
  gc::rng r(80 + Bn);
  const auto x = r.uniform_array<Bn * 60>(-1, 1);
  const auto t = r.uniform_array<Bn * 60>(-1, 1);
  ctnn::model<bn_spatial::net, Bn, double> m;
  gc::randomize(m, 18);
  const std::vector<double> state(m.state().begin(), m.state().end());
  INFO("batch " << Bn);
  const auto rep = gc::check("batch_norm [3, 4, 5]", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 3);  // c0.weight (the input's gradient), bn.gamma, bn.beta
  REQUIRE(rep.find("bn.gamma") != nullptr);
  REQUIRE(rep.find("bn.beta") != nullptr);
  CHECK(rep.find("bn.running_var") == nullptr);
  GC_REQUIRE_BELOW(rep, 1e-6);
  CHECK(std::equal(state.begin(), state.end(), m.state().begin()));
}

TEST_CASE("gradcheck: spatial batch_norm over the batch and every position", "[gradcheck][batch_norm]") {
  check_spatial_batch_norm<3>();
  check_spatial_batch_norm<1>();
}

namespace bn_residual {
// relu(bn(conv3x3(h))) + h on h = c0(x): the skip adds its gradient to the
// branch's at h, and the branch's passes through the batch statistics.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 6, 5>>;
inline constexpr auto h = ctnn::conv2d<"c0", 4, 1>(x);
inline constexpr auto branch =
    ctnn::relu(ctnn::batch_norm<"bn">(ctnn::conv2d<"c1", 4, 3, ctnn::padding<1>, ctnn::no_bias>(ctnn::ref<h>)));
inline constexpr auto y = ctnn::add(branch, ctnn::ref<h>);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<4 * 30>>)));
}  // namespace bn_residual

TEST_CASE("gradcheck: a residual block conv -> batch_norm -> relu -> add", "[gradcheck][batch_norm]") {
  using net = bn_residual::net;
  std::array<double, gc::B * 60> x{};
  std::array<double, gc::B * 120> t{};
  ctnn::model<net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t s) {
        gc::rng d(500 + s);
        x = d.uniform_array<x.size()>(-1, 1);
        t = d.uniform_array<t.size()>(-1, 1);
      },
      [&](auto& mm) {
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
        return gc::min_abs(mm.value(gc::node_id<net>("batch_norm"))) > gc::kink_margin;
      });
  const auto rep = gc::check("conv -> batch_norm -> relu -> add", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 5);  // c0.weight, c0.bias, c1.weight, bn.gamma, bn.beta
  GC_REQUIRE_BELOW(rep, 1e-6);
}
