// Central-difference gradient checks of conv2d_transpose in every
// combination of stride {1, 2}, padding {0, 1}, dilation {1, 2} and groups
// {1, 2}, then output padding 1 where the rule allows it (A < S or A < D),
// the 1×1 direct path without bias, and relu fused. 3×3 filters on a 4×3
// image (height and width differ, so a swap would show). As in conv.cpp,
// only parameters are perturbed: the op sits behind a 1×1 convolution "c0"
// whose weight gradient goes through the op's data gradient.
#include <vector>

#include "support.hpp"

using ctnn::dilation;
using ctnn::groups;
using ctnn::output_padding;
using ctnn::padding;
using ctnn::stride;

namespace {

template <std::size_t S, std::size_t P, std::size_t D, std::size_t G, std::size_t A>
struct transpose_case {
  static constexpr auto x = ctnn::input<"x", ctnn::shape<2, 4, 3>>;
  static constexpr auto y = ctnn::tanh(ctnn::conv2d_transpose<"t1", 4, 3, stride<S>, padding<P>, dilation<D>,
                                                              groups<G>, output_padding<A>>(ctnn::conv2d<"c0", 4, 1>(x)));
  using out = typename decltype(y)::out_shape;
  using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<out::size>>)));
};

template <std::size_t S, std::size_t P, std::size_t D, std::size_t G, std::size_t A>
void check_transpose() {
  using C = transpose_case<S, P, D, G, A>;
  using out = typename C::out;
  // The output size rule, spelled out: (H − 1)·S − 2P + D·(F − 1) + 1 + A.
  static_assert(out::dims[1] == (4 - 1) * S - 2 * P + D * 2 + 1 + A);
  static_assert(out::dims[2] == (3 - 1) * S - 2 * P + D * 2 + 1 + A);
  gc::rng r(2000 + 100 * S + 10 * P + D + 7 * G + 3 * A);
  const auto x = r.uniform_array<gc::B * 2 * 4 * 3>(-1, 1);
  const auto t = r.uniform_array<gc::B * out::size>(-0.5, 0.5);
  ctnn::model<typename C::net, gc::B, double> m;
  gc::randomize(m, 5, 0.5);
  INFO("stride " << S << ", padding " << P << ", dilation " << D << ", groups " << G << ", output padding " << A);
  const auto rep = gc::check("conv2d_transpose", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 4);
  GC_REQUIRE_BELOW(rep, 1e-6);
}

}  // namespace

TEST_CASE("gradcheck: conv2d_transpose, every stride, padding, dilation and groups", "[gradcheck][conv_transpose]") {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check_transpose<1 + (I & 1), (I >> 1) & 1, 1 + ((I >> 2) & 1), 1 + ((I >> 3) & 1), 0>(), ...);
  }(std::make_index_sequence<16>{});
}

TEST_CASE("gradcheck: conv2d_transpose with output padding 1", "[gradcheck][conv_transpose]") {
  check_transpose<2, 0, 1, 1, 1>();  // below the stride
  check_transpose<2, 1, 1, 2, 1>();
  check_transpose<1, 1, 2, 1, 1>();  // below the dilation
  check_transpose<2, 1, 2, 2, 1>();
}

namespace transpose_1x1 {
// 1×1 with stride 1 (the output is the GEMM's result itself), grouped,
// without bias; then a 1×1 with stride 2 (through col2im).
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4, 3, 2>>;
inline constexpr auto h = ctnn::conv2d_transpose<"a", 6, 1, groups<2>, ctnn::no_bias>(ctnn::conv2d<"c0", 4, 1>(x));
inline constexpr auto y = ctnn::conv2d_transpose<"b", 3, 1, stride<2>>(h);
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<3 * 5 * 3>>)));
static_assert(std::is_same_v<decltype(y)::out_shape, ctnn::shape<3, 5, 3>>);
}  // namespace transpose_1x1

TEST_CASE("gradcheck: 1x1 transposed convolutions, direct and strided, without bias", "[gradcheck][conv_transpose]") {
  static_assert(decltype(transpose_1x1::h)::op::template spec<ctnn::shape<4, 3, 2>>::direct);
  gc::rng r(31);
  const auto x = r.uniform_array<gc::B * 4 * 3 * 2>(-1, 1);
  const auto t = r.uniform_array<gc::B * 45>(-1, 1);
  ctnn::model<transpose_1x1::net, gc::B, double> m;
  gc::randomize(m, 6, 0.6);
  const auto rep = gc::check("1x1 transposed convolutions", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 5);  // c0.weight, c0.bias, a.weight, b.weight, b.bias
  CHECK(rep.find("a.bias") == nullptr);
  GC_REQUIRE_BELOW(rep, 1e-6);
}

namespace transpose_relu {
// relu fused into the transposed convolution (one node): the check needs
// every pre-activation clear of the kink, which draw_until looks for.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 3, 3>>;
inline constexpr auto y =
    ctnn::relu(ctnn::conv2d_transpose<"t1", 3, 3, stride<2>, padding<1>>(ctnn::conv2d<"c0", 2, 1>(x)));
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::flatten(y), ctnn::input<"t", ctnn::shape<3 * 25>>)));
}  // namespace transpose_relu

TEST_CASE("gradcheck: relu(conv2d_transpose) fused", "[gradcheck][conv_transpose]") {
  using net = transpose_relu::net;
  constexpr std::size_t id = gc::node_id<net>("conv2d_transpose 3x3/2 p1+relu");
  static_assert(id != ctnn::none);
  static_assert(gc::node_id<net>("relu") == ctnn::none);  // no separate activation node
  std::array<double, gc::B * 2 * 9> x{};
  std::array<double, gc::B * 3 * 25> t{};
  ctnn::model<net, gc::B, double> m;
  gc::draw_until(
      m,
      [&](std::uint64_t s) {
        gc::rng d(400 + s);
        x = d.uniform_array<x.size()>(-1, 1);
        t = d.uniform_array<t.size()>(-1, 1);
      },
      [&](auto& mm) {
        // The fused output hides the pre-activations: run the same layer
        // without its relu on c0's output and the same parameters.
        mm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
        const auto c0 = mm.value(gc::node_id<net>("conv2d 1x1/1"));
        using plain = typename decltype(ctnn::conv2d_transpose<"t1", 3, 3, stride<2>, padding<1>>(
            ctnn::conv2d<"c0", 2, 1>(transpose_relu::x)))::spec;
        std::vector<double> z(gc::B * 3 * 25), scratch(gc::B * plain::scratch_size);
        ctnn::forward_args<double> a;
        a.in[0] = c0.data();
        a.out = z.data();
        a.param = {mm.param_span("t1.weight").data(), mm.param_span("t1.bias").data()};
        a.scratch = scratch.data();
        plain::template forward<gc::B>(a);
        return gc::min_abs(z) > gc::kink_margin;
      });
  const auto rep = gc::check("relu(conv_transpose)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 4);
  GC_REQUIRE_BELOW(rep, 1e-6);
}
