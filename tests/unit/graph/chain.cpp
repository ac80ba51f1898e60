// chain(x, layers...) builds the same types as the nested form.
#include <catch2/catch.hpp>

#include <type_traits>

#include <ctnn/ctnn.hpp>

namespace {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;

inline constexpr auto nested = ctnn::dense<"fc2", 10>(
    ctnn::relu(ctnn::dense<"fc1", 64>(ctnn::flatten(ctnn::max_pool<2>(ctnn::relu(ctnn::conv2d<"conv1", 4, 5>(image)))))));
inline constexpr auto chained = ctnn::chain(image, ctnn::conv2d<"conv1", 4, 5>, ctnn::relu, ctnn::max_pool<2>,
                                            ctnn::flatten, ctnn::dense<"fc1", 64>, ctnn::relu, ctnn::dense<"fc2", 10>);
static_assert(std::is_same_v<decltype(nested), decltype(chained)>);
static_assert(std::is_same_v<decltype(ctnn::chain(image)), std::remove_cvref_t<decltype(image)>>);

// A lambda is a step too: a residual block around two dense layers.
inline constexpr auto residual = [](const auto& x) {
  return ctnn::add(x, ctnn::dense<"r.fc2", 8>(ctnn::relu(ctnn::dense<"r.fc1", 8>(x))));
};
inline constexpr auto v = ctnn::input<"v", ctnn::shape<8>>;
static_assert(std::is_same_v<decltype(ctnn::chain(v, residual, ctnn::tanh)), decltype(ctnn::tanh(residual(v)))>);
}  // namespace

TEST_CASE("a chained network trains as the nested one does", "[graph][chain]") {
  using a = decltype(ctnn::network(ctnn::softmax_cross_entropy(nested, ctnn::label<"class", 10>)));
  using b = decltype(ctnn::network(ctnn::softmax_cross_entropy(chained, ctnn::label<"class", 10>)));
  static_assert(std::is_same_v<a, b>);
  CHECK(a::param_count == 4 * 25 + 4 + 4 * 12 * 12 * 64 + 64 + 64 * 10 + 10);
}
