// The runtime builder behaves as a runtime framework does: a bad shape or a
// cycle is a std::invalid_argument whose message names the layers and the
// shapes; a hand-built graph trains like the one built from the static type.
#include <catch2/catch.hpp>

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

TEST_CASE("leaves are checked when bound", "[runtime]") {
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
  CHECK(std::isfinite(m.forward(xs.data(), cs.data())));
  CHECK_THROWS_WITH(m.forward(xs.data()), Contains("1 leaves given, 2 expected"));
  CHECK_THROWS_WITH(m.forward(wrong.data(), cs.data()), Contains("'x'") && Contains("float"));
  CHECK(m.predict(xs.data()).size() == 6);
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
