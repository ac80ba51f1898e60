// model_choice: the network picked by name predicts what that network's own
// model predicts (same seed, same bits), for a batch and for one sample; an
// unknown name is an error listing the choices; predict makes no heap
// allocation (this executable replaces operator new to count calls).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "../../support/count_allocations.hpp"
#include "../../support/thrown.hpp"

using Catch::Matchers::Contains;
using ctnn_test::allocations;

namespace choices {
// Three networks of an 8-value input and 4 scores; their input names differ.
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
inline constexpr auto mlp_scores = ctnn::dense<"mlp_out", 4>(ctnn::relu(ctnn::dense<"mlp_hidden", 16>(x)));
using mlp = decltype(ctnn::network(ctnn::softmax_cross_entropy(mlp_scores, ctnn::label<"y", 4>),
                                   ctnn::outputs(mlp_scores)));

inline constexpr auto pixels = ctnn::input<"pixels", ctnn::shape<8>>;
using linear = decltype(ctnn::network(ctnn::outputs(ctnn::dense<"linear", 4>(pixels))));

inline constexpr auto deep_scores = ctnn::dense<"deep_out", 4>(
    ctnn::tanh(ctnn::dense<"deep_2", 6>(ctnn::tanh(ctnn::dense<"deep_1", 12>(x)))));
using deep = decltype(ctnn::network(ctnn::outputs(deep_scores, ctnn::dense<"deep_side", 2>(x))));

constexpr std::size_t B = 3;
using handle = ctnn::model_choice<ctnn::batch<B>, float, ctnn::choice<"mlp", mlp>, ctnn::choice<"linear", linear>,
                                  ctnn::choice<"deep", deep>>;

std::vector<float> inputs(std::size_t samples) {
  std::vector<float> v(samples * 8);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * float(int(i % 11) - 5);
  return v;
}
}  // namespace choices

static_assert(choices::handle::input_size == 8 && choices::handle::output_size == 4 && choices::handle::batch_size == 3);
static_assert(choices::handle::names.size() == 3 && choices::handle::names[1] == "linear");

// Each choice against its network's model, built from the same seed.
template <class Net, ctnn::fixed_string Input>
void check_against_direct(std::string_view name, std::size_t index) {
  using choices::B;
  choices::handle h(name, 11);
  ctnn::model<Net, B> direct(11);
  CHECK(h.name() == name);
  CHECK(h.index() == index);
  const std::vector<float> x = choices::inputs(B);
  std::array<float, B * 4> out{};
  h.predict(x, out);
  const std::span<const float> want = direct.template predict<0>(ctnn::feed<Input>(x));
  REQUIRE(want.size() == out.size());
  for (std::size_t k = 0; k < out.size(); ++k) CHECK(out[k] == want[k]);
  // Not a vacuous match: the scores are not all zero.
  CHECK(std::any_of(out.begin(), out.end(), [](float v) { return v != 0.0f; }));

  std::array<float, 4> one{};
  h.predict_one(std::span<const float>(x).subspan(8, 8), one);
  const std::span<const float> want_one = direct.template predict_one<0>(ctnn::feed<Input>(x.data() + 8));
  for (std::size_t k = 0; k < one.size(); ++k) CHECK(one[k] == want_one[k]);
}

TEST_CASE("model_choice predicts what the chosen network's model predicts", "[model_choice]") {
  check_against_direct<choices::mlp, "x">("mlp", 0);
  check_against_direct<choices::linear, "pixels">("linear", 1);
  check_against_direct<choices::deep, "x">("deep", 2);
}

TEST_CASE("model_choice holds the chosen model, reachable through visit", "[model_choice]") {
  choices::handle h("linear", 3);
  // linear's parameters: 8 × 4 weights and 4 biases, in a padded buffer.
  const std::size_t params = h.visit([](auto& m) { return std::remove_cvref_t<decltype(m)>::graph_type::param_count; });
  CHECK(params == 36);
  // Parameters set through visit are the ones predict uses: zero weights, biases 1..4.
  h.visit([](auto& m) {
    for (float& w : m.parameters()) w = 0.0f;
    auto bias = m.param_span("linear.bias");
    for (std::size_t j = 0; j < bias.size(); ++j) bias[j] = float(j + 1);
  });
  std::array<float, 4> one{};
  h.predict_one(choices::inputs(1), one);
  CHECK(one == std::array<float, 4>{1.0f, 2.0f, 3.0f, 4.0f});
}

TEST_CASE("model_choice refuses an unknown name, listing the choices", "[model_choice]") {
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([] { choices::handle h("lenet"); }),
             Contains("ctnn::model_choice: no network named 'lenet'; the choices are 'mlp', 'linear', 'deep'"));
}

TEST_CASE("model_choice refuses storage of the wrong length", "[model_choice]") {
  choices::handle h("deep");
  const std::vector<float> x = choices::inputs(choices::B);
  std::array<float, 5> small{};
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { h.predict(x, small); }),
             Contains("ctnn::model_choice::predict ('deep'): give 24 input values and room for 12 outputs, not 24 and 5"));
  std::array<float, 4> one{};
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { h.predict_one(x, one); }),
             Contains("predict_one ('deep'): give 8 input values and room for 4 outputs, not 24 and 4"));
}

TEST_CASE("model_choice::predict makes no heap allocation", "[model_choice][alloc]") {
  choices::handle h("mlp", 5);
  const std::vector<float> x = choices::inputs(choices::B);
  std::array<float, choices::B * 4> out{};
  std::array<float, 4> one{};
  h.predict(x, out);  // warm-up: an OpenMP team may start here
  h.predict_one(std::span<const float>(x).first(8), one);
  const long before = allocations.load();
  for (int i = 0; i < 3; ++i) {
    h.predict(x, out);
    h.predict_one(std::span<const float>(x).first(8), one);
  }
  CHECK(allocations.load() - before == 0);
  // The counter works: a vector allocates.
  static int* volatile escape = nullptr;
  std::vector<int> v(10);
  escape = v.data();
  CHECK(escape != nullptr);
  CHECK(allocations.load() > before);
}
