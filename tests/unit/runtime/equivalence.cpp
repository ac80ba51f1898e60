// The runtime-graph twin computes what the static network computes: for
// every model in dsl/models (and a network with fan-out, tied weights, two
// losses and the cheaper ops), the same parameters give the same outputs
// (predict and predict_one), losses, gradients and updated parameters over
// three SGD-momentum steps, within 1e-5 relative per tensor.
#include <catch2/catch.hpp>

#include "twin_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/runtime.hpp>
#include <models/char_lm.hpp>
#include <models/init_experiment.hpp>
#include <models/lenet.hpp>
#include <models/lenet_aux.hpp>
#include <models/mlp.hpp>
#include <models/row_lstm.hpp>
#include <models/tiny_mlp.hpp>
// not compared with the twin: <models/resnet.hpp> (batch_norm: the twin has no batch norm)
// not compared with the twin: <models/alexnet.hpp> (dropout, which the twin lacks)
// not compared with the twin: <models/vgg16.hpp> (dropout, which the twin lacks)
// not compared with the twin: <models/googlenet.hpp> (dropout, which the twin lacks)
// not compared with the twin: <models/char_transformer.hpp> (attention and layer_norm, which the twin lacks)
// not compared with the twin: <models/autoencoder.hpp> (dense_transposed, which the twin lacks)
// not compared with the twin: <models/vae.hpp> (gaussian_kl, which the twin lacks)
// not compared with the twin: <models/gan.hpp> (conv2d_transpose and batch_norm, which the twin lacks)
// not compared with the twin: <models/stn_lenet.hpp> (affine_grid and bilinear_sampler, which the twin lacks)

namespace {

using twin_compare::check_parameters, twin_compare::classes, twin_compare::relative_error,
    twin_compare::tolerance, twin_compare::uniform;

// Static trainer and twin from the same parameters; `feed(f)` calls f with
// one batch's feeds (every input and label, by name), `inputs(f)` with the
// inputs' feeds only, as pointers (predict reads the batch, predict_one the
// first sample).
template <class Net, std::size_t B, class Feed, class Inputs>
void check_twin(Feed feed, Inputs inputs) {
  const ctnn::optim::sgd opt{.lr = 0.05f, .momentum = 0.9f};
  ctnn::trainer<Net, ctnn::batch<B>> st(opt, /*seed=*/3);
  ctnn::runtime::trainer rt(ctnn::runtime::from<Net>(), B, opt, /*seed=*/11);
  ctnn::runtime::model& rm = rt.model();

  // Same nodes, parameters and leaf order as the static network.
  CHECK(rm.param_count() == Net::param_count);
  std::vector<std::string> leaves;
  for (std::size_t s = 0; s < Net::leaf_count; ++s) leaves.emplace_back(Net::infos[Net::leaf_ids.first[s]].name);
  CHECK(rm.leaf_names() == leaves);

  // Different seeds differ; copying by name makes them equal.
  double before = 0;
  for (const auto& p : rm.source().params())
    before = std::max(before, relative_error(st.model().param_span(p.name), rm.param(p.name)));
  CHECK(before > 0.1);
  rm.copy_parameters_from(st.model());
  check_parameters(st.model(), rm, false, "copied");

  inputs([&](const auto&... x) {
    CHECK(relative_error(st.predict(x...), rt.predict(x...)) <= tolerance);
    CHECK(relative_error(st.predict_one(x...), rt.predict_one(x...)) <= tolerance);
  });
  for (int step = 0; step < 3; ++step) {
    const std::string when = "step " + std::to_string(step + 1);
    feed([&](const auto&... d) {
      const float ls = st.step(d...), lr = rt.step(d...);
      INFO(when << ": loss " << ls << " vs " << lr);
      CHECK(relative_error(ls, lr) <= tolerance);
    });
    check_parameters(st.model(), rm, true, when.c_str());
    check_parameters(st.model(), rm, false, when.c_str());
  }
  inputs([&](const auto&... x) {
    CHECK(relative_error(st.predict(x...), rt.predict(x...)) <= tolerance);
    CHECK(relative_error(st.predict_one(x...), rt.predict_one(x...)) <= tolerance);
  });
}

}  // namespace

TEST_CASE("twin of dsl/models/mlp.hpp", "[runtime]") {
  constexpr std::size_t B = 16;
  const auto x = uniform(B * 784, 0.0f, 1.0f, 1);
  const auto y = classes(B, 10, 2);
  check_twin<ctnn::models::mlp::network, B>([&](auto f) { f(ctnn::feed<"image">(x), ctnn::feed<"class">(y)); },
                                           [&](auto f) { f(ctnn::feed<"image">(x.data())); });
}

TEST_CASE("twin of dsl/models/row_lstm.hpp", "[runtime][recurrent]") {
  constexpr std::size_t B = 4;
  const auto x = uniform(B * 28 * 28, 0.0f, 1.0f, 5);
  const auto y = classes(B, 10, 6);
  check_twin<ctnn::models::row_lstm::network, B>([&](auto f) { f(ctnn::feed<"image">(x), ctnn::feed<"class">(y)); },
                                                [&](auto f) { f(ctnn::feed<"image">(x.data())); });
}

TEST_CASE("twin of dsl/models/char_lm.hpp", "[runtime][recurrent]") {
  namespace lm = ctnn::models::char_lm;
  constexpr std::size_t B = 4;
  std::vector<float> ids(B * lm::steps), next(B * lm::steps);
  const auto drawn = classes(B * (lm::steps + 1), int(lm::vocabulary), 7);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = float(drawn[i]), next[i] = float(drawn[i + 1]);
  const auto h0 = uniform(B * lm::hidden, -0.5f, 0.5f, 8), c0 = uniform(B * lm::hidden, -0.5f, 0.5f, 9);
  check_twin<lm::network, B>(
      [&](auto f) {
        f(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next), ctnn::feed<"h0">(h0), ctnn::feed<"c0">(c0));
      },
      [&](auto f) { f(ctnn::feed<"ids">(ids.data()), ctnn::feed<"h0">(h0.data()), ctnn::feed<"c0">(c0.data())); });
}

TEST_CASE("twin of dsl/models/tiny_mlp.hpp", "[runtime]") {
  constexpr std::size_t B = 32;
  const auto x = uniform(B * 16, -1.0f, 1.0f, 3);
  const auto t = uniform(B, -0.5f, 0.5f, 4);
  check_twin<ctnn::models::tiny_mlp::network, B>(
      [&](auto f) { f(ctnn::feed<"features">(x), ctnn::feed<"target">(t)); },
      [&](auto f) { f(ctnn::feed<"features">(x.data())); });
}

TEST_CASE("twin of dsl/models/lenet.hpp", "[runtime][conv]") {
  constexpr std::size_t B = 4;
  const auto x = uniform(B * 28 * 28, 0.0f, 1.0f, 8);
  const auto y = classes(B, 10, 9);
  const auto g = ctnn::runtime::from<ctnn::models::lenet::network>();
  // conv1, pool, conv2, pool, flatten, ip1, relu, ip2 and the leaves and loss.
  CHECK(g.size() == 11);
  check_twin<ctnn::models::lenet::network, B>(
      [&](auto f) { f(ctnn::feed<"image">(x), ctnn::feed<"class">(y)); },
      [&](auto f) { f(ctnn::feed<"image">(x.data())); });
}

TEST_CASE("twin of dsl/models/lenet.hpp at batch 16: conv2 through Winograd in both", "[runtime][conv][winograd]") {
  constexpr std::size_t B = 16;
  using conv2 = std::remove_cvref_t<decltype(ctnn::conv2d<"conv2", 50, 5>(
      ctnn::max_pool<2>(ctnn::conv2d<"conv1", 20, 5>(ctnn::models::lenet::image))))>;
  static_assert(conv2::spec::winograd<B> && !conv2::spec::winograd<4>);
  const auto x = uniform(B * 28 * 28, 0.0f, 1.0f, 10);
  const auto y = classes(B, 10, 11);
  check_twin<ctnn::models::lenet::network, B>(
      [&](auto f) { f(ctnn::feed<"image">(x), ctnn::feed<"class">(y)); },
      [&](auto f) { f(ctnn::feed<"image">(x.data())); });
}

TEST_CASE("twin of dsl/models/lenet_aux.hpp", "[runtime][conv]") {
  constexpr std::size_t B = 4;
  const auto x = uniform(B * 28 * 28, 0.0f, 1.0f, 10);
  const auto y = classes(B, 10, 11);
  using net = ctnn::models::lenet_aux::network;
  // LeNet's 11 nodes, then flatten, ip1_side, its loss and the scale by 0.3.
  CHECK(ctnn::runtime::from<net>().size() == 15);
  check_twin<net, B>(
      [&](auto f) { f(ctnn::feed<"image">(x), ctnn::feed<"class">(y)); },
      [&](auto f) { f(ctnn::feed<"image">(x.data())); });
}

// Every convolution configuration of the static gradient checks
// (tests/gradcheck/conv.cpp) in one network: stride 2, padding 1, dilation
// 2, groups 2, 1×1 convolutions direct and strided, no bias, fused
// activations (split in two by the twin), overlapping max pooling, average
// pooling with and without padding, floor and ceil rounding, global average pooling, channel and
// flat concat, a filter bank tied by name and fan-out (c0 feeds three
// branches).
namespace conv_configs {
using ctnn::dilation, ctnn::groups, ctnn::padding, ctnn::stride;
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2, 9, 7>>;
// [4, 9, 7]: a direct 1×1 convolution with relu fused; feeds three branches.
inline constexpr auto c0 = ctnn::relu(ctnn::conv2d<"c0", 4, 1>(x));
// [4, 4, 3]: 3×3, stride 2, padding 1, dilation 2, groups 2, tanh fused.
inline constexpr auto a =
    ctnn::tanh(ctnn::conv2d<"a", 4, 3, stride<2>, padding<1>, dilation<2>, groups<2>>(ctnn::ref<c0>));
// [4, 5, 4] → [4, 4, 3]: overlapping, padded max pooling, then average pooling.
inline constexpr auto a2 = ctnn::avg_pool<2, stride<1>>(ctnn::max_pool<2, stride<1>, padding<1>>(a));
// [2, 5, 4] → [2, 3, 2]: a strided 1×1 convolution without bias, average pooled.
inline constexpr auto b = ctnn::avg_pool<3, stride<1>>(ctnn::conv2d<"b", 2, 1, stride<2>, ctnn::no_bias>(ctnn::ref<c0>));
// [4, 9, 7]: one 3×3 filter bank "s" used twice (its gradient accumulates).
inline constexpr auto s = ctnn::conv2d<"s", 4, 3, padding<1>>(ctnn::conv2d<"s", 4, 3, padding<1>>(ctnn::ref<c0>));
// [8, 4, 3] → [8]: channel concat, global average pooling.
inline constexpr auto g = ctnn::global_avg_pool(ctnn::concat(a2, ctnn::max_pool<3, stride<2>>(ctnn::ref<s>)));
// [4, 5, 4]: average pooling 3×3/2 with padding.
inline constexpr auto p = ctnn::avg_pool<3, stride<2>, padding<1>>(ctnn::ref<s>);
// [2, 4, 3] → [4, 2, 2]: a 2×2/2 convolution that does not tile 9×7
// (floor_mode), then 2×2/2 pools that do not tile 4×3 (ceil_mode: the last
// column's windows overhang; average divides by the two inside).
inline constexpr auto rc = ctnn::conv2d<"r", 2, 2, stride<2>, ctnn::floor_mode>(ctnn::ref<c0>);
inline constexpr auto r =
    ctnn::concat(ctnn::max_pool<2, ctnn::ceil_mode>(ctnn::ref<rc>), ctnn::avg_pool<2, ctnn::ceil_mode>(ctnn::ref<rc>));
// [8 + 12 + 80 + 16]: flat concat of four.
inline constexpr auto logits =
    ctnn::dense<"out", 5>(ctnn::concat(g, ctnn::flatten(b), ctnn::flatten(p), ctnn::flatten(r)));
using network =
    decltype(ctnn::network(ctnn::softmax_cross_entropy(ctnn::ref<logits>, ctnn::label<"c", 5>), ctnn::outputs(ctnn::ref<logits>)));
static_assert(std::is_same_v<decltype(a)::out_shape, ctnn::shape<4, 4, 3>>);
static_assert(std::is_same_v<decltype(a2)::out_shape, ctnn::shape<4, 4, 3>>);
static_assert(std::is_same_v<decltype(b)::out_shape, ctnn::shape<2, 3, 2>>);
static_assert(std::is_same_v<decltype(g)::out_shape, ctnn::shape<8>>);
static_assert(std::is_same_v<decltype(p)::out_shape, ctnn::shape<4, 5, 4>>);
static_assert(std::is_same_v<decltype(rc)::out_shape, ctnn::shape<2, 4, 3>>);
static_assert(std::is_same_v<decltype(r)::out_shape, ctnn::shape<4, 2, 2>>);
}  // namespace conv_configs

TEST_CASE("twin of a network with every convolution and pooling configuration", "[runtime][conv]") {
  constexpr std::size_t B = 3;
  const auto x = uniform(B * 2 * 9 * 7, -1.0f, 1.0f, 10);
  const auto c = classes(B, 5, 11);
  const auto gr = ctnn::runtime::from<conv_configs::network>();
  // c0, a, b, s (one, tied), r, out: weights and biases but b's.
  CHECK(gr.params().size() == 11);
  check_twin<conv_configs::network, B>([&](auto f) { f(ctnn::feed<"x">(x), ctnn::feed<"c">(c)); },
                                       [&](auto f) { f(ctnn::feed<"x">(x.data())); });
}

// The initialization experiment's networks have outputs and no loss: the
// twin is compared on inference, every layer's output.
TEST_CASE("twin of dsl/models/init_experiment.hpp", "[runtime]") {
  using Net = ctnn::models::init_experiment::tanh_xavier;
  constexpr std::size_t B = 4;
  ctnn::trainer<Net, ctnn::batch<B>> st({}, 5);
  ctnn::runtime::model rm(ctnn::runtime::from<Net>(), B, 6);
  rm.copy_parameters_from(st.model());
  const auto x = uniform(B * ctnn::models::init_experiment::width, -1.0f, 1.0f, 7);
  st.predict(ctnn::feed<"x">(x));
  rm.predict(ctnn::feed<"x">(x));
  CHECK(Net::output_ids.size() == ctnn::models::init_experiment::depth);
  const auto check_output = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
    INFO("output " << K);
    CHECK(relative_error(st.template predict<K>(ctnn::feed<"x">(x)), rm.prediction(K)) <= tolerance);
  };
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    (check_output(std::integral_constant<std::size_t, K>{}), ...);
  }(std::make_index_sequence<ctnn::models::init_experiment::depth>{});
  // predict_one reads the first sample of the batch.
  CHECK(relative_error(st.predict_one(ctnn::feed<"x">(x.data())), rm.predict_one(ctnn::feed<"x">(x.data()))) <=
        tolerance);
}

// Fan-out (h feeds two ops, the logits two losses), tied weights (two dense
// layers named "g"), two loss roots, one of them scaled, and the cheaper ops.
namespace fan_out {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"h", 16>(x));
inline constexpr auto a = ctnn::dense<"g", 16>(ctnn::ref<h>);
inline constexpr auto b = ctnn::leaky_relu<0.1>(ctnn::dense<"g", 16>(ctnn::ref<a>));
inline constexpr auto y = ctnn::multiply(ctnn::add(ctnn::ref<h>, ctnn::ref<b>), ctnn::sigmoid(ctnn::ref<a>));
inline constexpr auto logits = ctnn::dense<"out", 4, ctnn::no_bias>(ctnn::relu(ctnn::ref<y>));
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(ctnn::ref<logits>, ctnn::label<"c", 4>),
    ctnn::scale<0.3>(ctnn::squared_error(ctnn::softmax(ctnn::ref<logits>), ctnn::input<"t", ctnn::shape<4>>)),
    ctnn::outputs(ctnn::ref<logits>)));
}  // namespace fan_out

TEST_CASE("twin of a network with fan-out, tied weights and two losses", "[runtime]") {
  constexpr std::size_t B = 8;
  const auto x = uniform(B * 8, -1.0f, 1.0f, 5);
  const auto c = classes(B, 4, 6);
  const auto t = uniform(B * 4, 0.0f, 0.5f, 7);
  const auto g = ctnn::runtime::from<fan_out::network>();
  CHECK(g.params().size() == 5);  // h.weight, h.bias, g.weight, g.bias (one "g"), out.weight (no bias)
  check_twin<fan_out::network, B>(
      [&](auto f) { f(ctnn::feed<"x">(x), ctnn::feed<"c">(c), ctnn::feed<"t">(t)); },
      [&](auto f) { f(ctnn::feed<"x">(x.data())); });
}

TEST_CASE("the twin initializes parameters as the static model does", "[runtime]") {
  using net = ctnn::models::tiny_mlp::network;
  ctnn::model<net, 4> s(42);
  ctnn::runtime::model r(ctnn::runtime::from<net>(), 4, 42);
  for (const auto& p : r.source().params()) CHECK(relative_error(s.param_span(p.name), r.param(p.name)) == 0.0);
}

// Gradients for users in the twin: an input declared with requires_grad and
// backward passes from either output with an upstream gradient, against the
// static model's input_grad and backward_from. "side" is on no loss path,
// so backward() leaves it alone; backward_from("side") does not reach fc2,
// whose gradient both then zero.
namespace vjp_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<6>, ctnn::requires_grad>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"fc1", 5>(x));
inline constexpr auto y = ctnn::dense<"fc2", 3>(ctnn::ref<h>);
inline constexpr auto z = ctnn::dense<"side", 2>(ctnn::ref<h>);
inline constexpr auto loss = ctnn::squared_error(ctnn::ref<y>, ctnn::input<"t", ctnn::shape<3>>);
using net = decltype(ctnn::network(loss, ctnn::outputs(ctnn::ref<y>, ctnn::ref<z>)));
}  // namespace vjp_net

TEST_CASE("twin: input gradients and backward passes from an output, as the static model's", "[runtime][vjp]") {
  constexpr std::size_t B = 4;
  using net = vjp_net::net;
  ctnn::model<net, B> sm(3);
  ctnn::runtime::model rm(ctnn::runtime::from<net>(), B, 11);
  rm.copy_parameters_from(sm);
  const auto x = uniform(B * 6, -1.0f, 1.0f, 21);
  const auto t = uniform(B * 3, -1.0f, 1.0f, 22);
  const auto zero = [](std::span<const float> v) {
    return std::all_of(v.begin(), v.end(), [](float e) { return e == 0.0f; });
  };
  CHECK(rm.input_grad("x").size() == B * 6);
  CHECK(zero(rm.input_grad("x")));  // no backward pass yet

  const float ls = sm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  const float lr = rm.forward(ctnn::feed<"x">(x), ctnn::feed<"t">(t));
  CHECK(relative_error(ls, lr) <= tolerance);
  sm.backward();
  rm.backward();
  CHECK(!zero(rm.input_grad("x")));
  CHECK(relative_error(sm.input_grad<"x">(), rm.input_grad("x")) <= tolerance);
  check_parameters(sm, rm, true, "backward");

  const auto up_side = uniform(B * 2, -1.0f, 1.0f, 23);
  sm.backward_from<1>(up_side);
  rm.backward_from(1, up_side);
  CHECK(relative_error(sm.input_grad<"x">(), rm.input_grad("x")) <= tolerance);
  check_parameters(sm, rm, true, "backward_from side");
  CHECK(zero(rm.grad("fc2.weight")));
  CHECK(!zero(rm.grad("side.weight")));
  const std::vector<float> from_index(rm.input_grad("x").begin(), rm.input_grad("x").end());
  rm.backward_from("side", up_side);
  CHECK(relative_error(from_index, rm.input_grad("x")) == 0.0);

  const auto up_y = uniform(B * 3, -1.0f, 1.0f, 24);
  sm.backward_from<"fc2">(up_y);
  rm.backward_from("fc2", up_y);
  CHECK(relative_error(sm.input_grad<"x">(), rm.input_grad("x")) <= tolerance);
  check_parameters(sm, rm, true, "backward_from fc2");
  CHECK(zero(rm.grad("side.weight")));

  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(rm.backward_from(0, up_side), Contains("holds 8 values; a batch needs 12"));
  CHECK_THROWS_WITH(rm.backward_from("fc3", up_y), Contains("no output is named \"fc3\""));
  CHECK_THROWS_WITH(rm.input_grad("t"), Contains("'t' is not an input declared with requires_grad"));
  ctnn::runtime::graph g = ctnn::runtime::from<net>();
  CHECK_THROWS_WITH(g.input("x", {6}), Contains("with and without requires_grad"));
}
