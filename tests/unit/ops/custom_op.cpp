// The op of custom_op.hpp, written outside the library: it meets the op
// contract, computes what it says, trains inside a network, and its
// gradients agree with central differences in double.
#include "custom_op.hpp"

#include <cmath>

#include "../../gradcheck/support.hpp"

using Catch::Detail::Approx;

static_assert(ctnn::op<custom::scaled_square_op<"sq">, ctnn::shape<4>>);
static_assert(ctnn::op_contract::first_missing<custom::scaled_square_op<"sq">, ctnn::shape<4>>().empty());
// The built-in ops meet the same contract.
static_assert(ctnn::op<ctnn::dense_op<"fc", 3>, ctnn::shape<4>>);
static_assert(ctnn::op<ctnn::activation_op<ctnn::act::relu>, ctnn::shape<2, 3>>);
// Fusion is the op's opt-in: relu(op(x)) is the op with the activation in it,
// and an op with one fused takes no second.
namespace fused {
inline constexpr auto v = ctnn::input<"v", ctnn::shape<16>>;
inline constexpr auto im = ctnn::input<"im", ctnn::shape<2, 8, 8>>;
using V = std::remove_cvref_t<decltype(v)>;
using Im = std::remove_cvref_t<decltype(im)>;
static_assert(std::is_same_v<decltype(ctnn::relu(ctnn::dense<"fc", 8, ctnn::no_bias>(v))),
                             ctnn::node<ctnn::dense_op<"fc", 8, false, ctnn::act::relu>, V>>);
static_assert(std::is_same_v<decltype(ctnn::tanh(ctnn::conv2d<"c", 4, 3, ctnn::padding<1>>(im))),
                             ctnn::node<ctnn::conv2d_op<"c", 4, 3, 1, 1, 1, 1, true, ctnn::act::tanh>, Im>>);
static_assert(std::is_same_v<decltype(ctnn::sigmoid(ctnn::conv2d_transpose<"t", 4, 2, ctnn::stride<2>>(im))),
                             ctnn::node<ctnn::conv2d_transpose_op<"t", 4, 2, 2, 0, 1, 1, 0, true, ctnn::act::sigmoid>, Im>>);
static_assert(ctnn::absorbs_activation<ctnn::dense_op<"fc", 8>, ctnn::act::relu>);
static_assert(!ctnn::absorbs_activation<ctnn::dense_op<"fc", 8, true, ctnn::act::relu>, ctnn::act::relu>);
static_assert(!ctnn::absorbs_activation<custom::scaled_square_op<"sq">, ctnn::act::relu>);
using twice = decltype(ctnn::relu(ctnn::relu(ctnn::dense<"fc", 8>(v))));
static_assert(std::is_same_v<twice::op, ctnn::activation_op<ctnn::act::relu>>);
}  // namespace fused

// Not an op: no spec, or a spec without backward.
struct no_spec {
  static constexpr auto name = ctnn::no_name;
};
struct no_backward {
  static constexpr auto name = ctnn::no_name;
  template <class In>
  struct spec : ctnn::spec_defaults {
    static constexpr std::string_view kind = "no_backward";
    using out_shape = In;
    template <std::size_t B, class T>
    static void forward(const ctnn::forward_args<T>&) {}
  };
};
static_assert(!ctnn::op<no_spec, ctnn::shape<4>>);
static_assert(!ctnn::op<no_backward, ctnn::shape<4>>);
static_assert(ctnn::op_contract::first_missing<no_spec, ctnn::shape<4>>() == "spec<input shapes...>");
static_assert(ctnn::op_contract::first_missing<no_backward, ctnn::shape<4>>() == "backward<B, Mode, T>");

namespace custom_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<5>>;
inline constexpr auto t = ctnn::input<"t", ctnn::shape<4>>;
inline constexpr auto y = custom::scaled_square<"sq">(ctnn::dense<"fc", 4>(x));
using net = decltype(ctnn::network(ctnn::squared_error(y, t), ctnn::outputs(y)));
static_assert(net::param_count == 5 * 4 + 4 + 1);
}  // namespace custom_net

TEST_CASE("custom op: forward and backward by hand", "[custom_op][known]") {
  using spec = decltype(custom::scaled_square<"sq">(ctnn::input<"v", ctnn::shape<3>>))::spec;
  static_assert(std::is_same_v<spec::out_shape, ctnn::shape<3>>);
  const std::array<double, 6> x{1, -2, 3, 0.5, 0, -1};  // two samples
  const double s = 1.5;
  std::array<double, 6> y{};
  ctnn::forward_args<double> f;
  f.in[0] = x.data();
  f.out = y.data();
  f.param[0] = const_cast<double*>(&s);
  spec::forward<2>(f);
  for (std::size_t i = 0; i < 6; ++i) CHECK(y[i] == Approx(s * x[i] * x[i]));

  const std::array<double, 6> dy{1, 2, 3, 4, 5, 6};
  std::array<double, 6> dx{};
  dx.fill(NAN);  // written, not added: whatever was there must not survive
  double ds = NAN;
  double* dsp = &ds;
  ctnn::backward_args<double> b;
  b.in[0] = x.data();
  b.out = y.data();
  b.dout = dy.data();
  b.din[0] = dx.data();
  b.param[0] = &s;
  b.dparam[0] = dsp;
  namespace gm = ctnn::grad_mode;
  spec::backward<2, gm::input(0) | gm::param(0)>(b);
  double expected_ds = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(dx[i] == Approx(dy[i] * 2 * s * x[i]));
    expected_ds += dy[i] * x[i] * x[i];
  }
  CHECK(ds == Approx(expected_ds));
  spec::backward<2, gm::input(0) | gm::input_accumulate(0) | gm::param(0) | gm::param_accumulate(0)>(b);
  CHECK(ds == Approx(2 * expected_ds));
  CHECK(dx[1] == Approx(2 * dy[1] * 2 * s * x[1]));
}

TEST_CASE("custom op: gradients against central differences", "[custom_op][gradcheck]") {
  gc::rng r(31);
  const auto x = r.uniform_array<gc::B * 5>(-1, 1);
  const auto t = r.uniform_array<gc::B * 4>(-1, 1);
  ctnn::model<custom_net::net, gc::B, double> m;
  gc::randomize(m, 4);
  const auto rep = gc::check("scaled_square(dense)", m, ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(rep.tensors.size() == 3);  // fc.weight, fc.bias, sq.scale
  GC_REQUIRE_BELOW(rep, 1e-6);
}

TEST_CASE("custom op: one training step moves its parameter and lowers the loss", "[custom_op][train]") {
  gc::rng r(32);
  const auto x = r.uniform_array<gc::B * 5>(-1, 1);
  const auto t = r.uniform_array<gc::B * 4>(0, 1);
  ctnn::trainer<custom_net::net, ctnn::batch<gc::B>, ctnn::optim::sgd, double> tr(
      ctnn::optim::sgd{.lr = 0.05, .momentum = 0.0});
  auto& m = tr.model();
  CHECK(m.param_span("sq.scale")[0] == 1.0);  // init::ones
  const double loss0 = m.forward_backward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const double g = m.grad_span("sq.scale")[0];
  REQUIRE(g != 0.0);
  const double step_loss = tr.step(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(step_loss == Approx(loss0));
  CHECK(m.param_span("sq.scale")[0] == Approx(1.0 - 0.05 * g));  // plain SGD, no momentum
  CHECK(m.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t)) < loss0);
}
