// The runtime builder behaves as a runtime framework does: a bad shape or a
// cycle is a std::invalid_argument whose message names the layers and the
// shapes; a hand-built graph trains like the one built from the static type.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/runtime.hpp>

namespace rt = ctnn::runtime;
using Catch::Matchers::Contains;

TEST_CASE("shape errors name the layer and the shapes", "[runtime]") {
  rt::graph g;
  const auto image = g.input("image", {1, 28, 28});
  const auto flat = g.input("flat", {784});
  CHECK_THROWS_WITH(g.dense("fc1", 256, image),
                    Contains("'fc1'") && Contains("[1, 28, 28]") && Contains("flat input"));
  const auto a = g.dense("a", 10, flat);
  const auto b = g.dense("b", 12, flat);
  CHECK_THROWS_AS(g.add(a, b), std::invalid_argument);
  CHECK_THROWS_WITH(g.add(a, b), Contains("add") && Contains("'a' (dense)") && Contains("[10]") &&
                                     Contains("'b' (dense)") && Contains("[12]"));
  const auto cls = g.label("class", 12);
  CHECK_THROWS_WITH(g.softmax_cross_entropy(a, cls), Contains("'class'") && Contains("12") && Contains("[10]"));
  CHECK_THROWS_WITH(g.squared_error(a, b), Contains("squared_error") && Contains("[10]") && Contains("[12]"));
  // One parameter name, two shapes (tied weights must agree).
  CHECK_THROWS_WITH(g.dense("a", 10, a),
                    Contains("'a.weight'") && Contains("[784, 10]") && Contains("[10, 10]"));
  // One input name, two shapes.
  CHECK_THROWS_WITH(g.input("flat", {10}), Contains("'flat'") && Contains("[784]") && Contains("[10]"));
  CHECK(g.input("flat", {784}) == flat);  // the same declaration again is the same node
  CHECK_THROWS_WITH(g.loss(a), Contains("one value per sample") && Contains("[10]"));
  CHECK_THROWS_AS(g.relu(rt::node_id{99}), std::invalid_argument);
  // Nothing was added by the failed calls.
  CHECK(g.size() == 5);
}

TEST_CASE("a cycle is rejected when the model is built, naming its layers", "[runtime]") {
  rt::graph g;
  const auto x = g.input("x", {8});
  const auto h1 = g.dense("h1", 8, x);
  const auto r = g.relu(h1);
  const auto h2 = g.dense("h2", 8, r);
  g.output(h2);
  CHECK_NOTHROW(rt::model(g, 4));
  g.replace_input(h1, 0, h2);  // h1 now reads h2: h1 -> relu -> h2 -> h1
  CHECK_THROWS_AS(rt::model(g, 4), std::invalid_argument);
  CHECK_THROWS_WITH(rt::model(g, 4), Contains("cycle") && Contains("'h1' (dense) -> relu -> 'h2' (dense) -> 'h1'"));
  CHECK_THROWS_WITH(g.replace_input(h1, 0, g.input("y", {9})), Contains("'h1'") && Contains("[8]") && Contains("[9]"));
}

TEST_CASE("feeds are checked by name when bound", "[runtime]") {
  rt::graph g;
  const auto x = g.input("x", {4});
  const auto c = g.label("c", 3);
  const auto s = g.dense("fc", 3, x);
  g.loss(g.softmax_cross_entropy(s, c));
  g.output(s);
  rt::model m(g, 2);
  const std::vector<float> xs(8, 0.5f);
  const std::vector<int> cs{0, 2};
  const std::vector<double> wrong(8, 0.5);
  const std::vector<float> short_xs(6, 0.5f);
  CHECK(std::isfinite(m.forward(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs))));
  CHECK(m.forward(ctnn::feed<"c">(cs), ctnn::feed<"x">(xs)) == m.forward(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs)));
  // A missing name, an unknown one, one fed twice, a wrong length.
  CHECK_THROWS_WITH(m.forward(ctnn::feed<"x">(xs)),
                    Contains("ctnn::runtime::model::forward") && Contains("\"c\" is not fed"));
  CHECK_THROWS_WITH(m.forward(ctnn::feed<"x">(xs), ctnn::feed<"class">(cs)),
                    Contains("the feed \"class\" names no input or label") && Contains("\"x\", \"c\""));
  CHECK_THROWS_WITH(m.forward(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs), ctnn::feed<"x">(xs)),
                    Contains("\"x\" is fed twice"));
  CHECK_THROWS_WITH(m.forward(ctnn::feed<"x">(short_xs), ctnn::feed<"c">(cs)),
                    Contains("the feed \"x\" holds 6 values; a batch of 2 needs 8"));
  CHECK_THROWS_AS(m.forward(ctnn::feed<"x">(xs), ctnn::feed<"c">(std::vector<int>{0})), std::invalid_argument);
  // An input is read in place: float only.
  CHECK_THROWS_WITH(m.forward(ctnn::feed<"x">(wrong), ctnn::feed<"c">(cs)), Contains("'x'") && Contains("float"));
  // Predict takes what the outputs read: the label is not one of them.
  CHECK(m.predict(ctnn::feed<"x">(xs)).size() == 6);
  CHECK(m.predict_one(ctnn::feed<"x">(xs.data())).size() == 3);
  CHECK_THROWS_WITH(m.predict(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs)),
                    Contains("ctnn::runtime::model::predict") && Contains("do not depend on \"c\""));
  CHECK_THROWS_WITH(m.predict(), Contains("\"x\" is not fed"));
  CHECK_THROWS_WITH(m.predict_one(ctnn::feed<"x">(xs)), Contains("holds 8 values; a batch of 1 needs 4"));
  // After a rejected call the model still runs.
  CHECK(std::isfinite(m.forward(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs))));
  CHECK_THROWS_AS(m.param("fc.gamma"), std::out_of_range);
}

TEST_CASE("the gradient plan: overwrite first, then add; gradients only where needed", "[runtime]") {
  rt::graph g;
  const auto x = g.input("x", {4});
  const auto h = g.dense("h", 4, x);
  const auto r = g.relu(h);
  const auto th = g.tanh(h);  // h has two consumers
  const auto t = g.input("t", {4});
  g.loss(g.squared_error(g.add(r, th), t));
  rt::model m(g, 2);
  const auto& s = m.plan();
  namespace gm = ctnn::grad_mode;
  CHECK(!s.needs_grad[x.index]);
  CHECK(s.needs_grad[h.index]);
  // Backward runs tanh before relu (the reverse of the order they were
  // added in): tanh writes h's gradient, relu adds to it.
  CHECK(s.mode[th.index] == gm::input(0));
  CHECK(s.mode[r.index] == (gm::input(0) | gm::input_accumulate(0)));
  CHECK(!s.needs_grad[t.index]);
  CHECK(s.mode[h.index] == (gm::param(0) | gm::param(1)));  // no gradient for the input x
}

TEST_CASE("a gradient an op cannot give is an error when the model is built, naming both layers", "[runtime]") {
  rt::graph g;
  const auto x = g.input("x", {4});
  const auto p = g.sigmoid(g.dense("p", 4, x));
  // A target computed from parameters: binary cross-entropy has no
  // gradient for its target, which here would need one.
  const auto q = g.dense("q", 4, x);
  g.loss(g.target_loss<ctnn::loss_rule::binary_cross_entropy>(p, q));
  CHECK_THROWS_AS(rt::model(g, 2), std::invalid_argument);
  CHECK_THROWS_WITH(rt::model(g, 2), Contains("cannot give its input 1") && Contains("'q' (dense)"));
  // The same network with the target fed is fine.
  rt::graph f;
  const auto fx = f.input("x", {4});
  f.loss(f.target_loss<ctnn::loss_rule::binary_cross_entropy>(f.sigmoid(f.dense("p", 4, fx)), f.input("t", {4})));
  CHECK_NOTHROW(rt::model(f, 2));
}

TEST_CASE("convolution and pooling shape errors name the layer and give W, F, P, S", "[runtime][conv]") {
  rt::graph g;
  const auto image = g.input("image", {3, 28, 28});
  const auto flat = g.input("flat", {784});
  // (28 − 5 + 2·0) = 23 is not divisible by 2.
  CHECK_THROWS_WITH(g.conv2d("conv1", 8, 5, image, {.stride = 2}),
                    Contains("'conv1'") && Contains("height") && Contains("W = 28, F = 5, P = 0, S = 2") &&
                        Contains("not divisible"));
  // Dilation 3: the extent is 3·4 + 1 = 13; (28 − 13 + 2) = 17, stride 2.
  CHECK_THROWS_WITH(g.conv2d("conv1", 8, 5, image, {2, 1, 3, 1}), Contains("W = 28, F = 13, P = 1, S = 2"));
  CHECK_THROWS_WITH(g.conv2d("conv1", 8, 5, flat), Contains("'conv1'") && Contains("[784]") && Contains("image"));
  CHECK_THROWS_WITH(g.conv2d("conv1", 8, 3, image, {.groups = 2}),
                    Contains("'conv1'") && Contains("groups (2)") && Contains("input channels (3"));
  CHECK_THROWS_WITH(g.conv2d("big", 8, 31, image), Contains("'big'") && Contains("W = 28, F = 31, P = 0, S = 1"));
  const auto c = g.conv2d("conv1", 8, 5, image, {.stride = 1, .padding = 2});
  CHECK(g.at(c).shape() == rt::dims{8, 28, 28});
  CHECK(g.params().size() == 2);
  CHECK(g.params()[0].shape == rt::dims{8, 3, 5, 5});
  // Pooling names its input, and the stride defaults to the window.
  CHECK_THROWS_WITH(g.max_pool(c, 3), Contains("max_pool") && Contains("'conv1' (conv2d)") &&
                                          Contains("W = 28, F = 3, P = 0, S = 3"));
  CHECK_THROWS_WITH(g.avg_pool(c, 2, {.stride = 2, .padding = 2}), Contains("padding (2)"));
  const auto p = g.max_pool(c, 2);
  CHECK(g.at(p).shape() == rt::dims{8, 14, 14});
  CHECK(g.at(g.avg_pool(p, 3, {.stride = 1, .padding = 1})).shape() == rt::dims{8, 14, 14});
  CHECK(g.at(g.global_avg_pool(p)).shape() == rt::dims{8});
  CHECK(g.at(g.flatten(p)).shape() == rt::dims{8 * 14 * 14});
  const auto q = g.conv2d("conv2", 4, 1, p);
  CHECK(g.at(g.concat({p, q, p})).shape() == rt::dims{20, 14, 14});
  CHECK_THROWS_WITH(g.concat({p, c}), Contains("concat") && Contains("[8, 14, 14]") && Contains("[8, 28, 28]"));
  CHECK_THROWS_WITH(g.concat({p}), Contains("two to four"));
}

TEST_CASE("a hand-built convolutional network learns a fixed batch", "[runtime][conv]") {
  rt::graph g;
  const auto x = g.input("x", {1, 8, 8});
  const auto c = g.label("c", 3);
  const auto h = g.max_pool(g.relu(g.conv2d("conv", 4, 3, x, {.padding = 1})), 2);
  const auto s = g.dense("fc", 3, g.flatten(h));
  g.loss(g.softmax_cross_entropy(s, c));
  g.output(s);
  CHECK(g.size() == 8);  // conv and relu are two nodes: the twin does not fuse
  rt::trainer t(g, 4, {.lr = 0.05f, .momentum = 0.9f}, 1);
  std::vector<float> xs(4 * 64);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = float((i * 7) % 13) / 13.0f - 0.5f;
  const std::vector<int> cs{0, 1, 2, 1};
  const float first = t.step(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs));
  float last = first;
  for (int i = 0; i < 30; ++i) last = t.step(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs));
  CHECK(std::isfinite(first));
  CHECK(last < 0.5f * first);
}

TEST_CASE("a NaN input that ReLU hides from the loss is rejected by its gradient", "[runtime][non_finite]") {
  rt::graph g;
  const auto x = g.input("x", {1, 8, 8});
  const auto c = g.label("c", 3);
  const auto s = g.dense("fc", 3, g.flatten(g.max_pool(g.relu(g.conv2d("conv", 4, 3, x, {.padding = 1})), 2)));
  g.loss(g.softmax_cross_entropy(s, c));
  g.output(s);
  rt::trainer t(g, 4, {.lr = 0.05f, .momentum = 0.9f}, 1);
  std::vector<float> xs(4 * 64, 0.25f);
  const std::vector<int> cs{0, 1, 2, 1};
  t.step(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs));
  const auto w = t.model().param("conv.weight");
  const std::vector<float> before(w.begin(), w.end());
  xs[2 * 64 + 9] = NAN;
  CHECK_THROWS_WITH(t.step(ctnn::feed<"x">(xs), ctnn::feed<"c">(cs)),
                    Contains("the gradient of 'conv.weight' is not finite") && Contains("parameters left unchanged"));
  const auto after = t.model().param("conv.weight");
  CHECK(std::equal(before.begin(), before.end(), after.begin()));
}
