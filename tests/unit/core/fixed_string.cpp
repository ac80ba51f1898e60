// fixed_string joins in every order, at compile time and as template
// arguments: a block derives its layers' names from a prefix.
#include <catch2/catch.hpp>

#include <string_view>
#include <type_traits>

#include <ctnn/core/fixed_string.hpp>
#include <ctnn/ops/dense.hpp>
#include <ctnn/ops/io.hpp>

namespace {
constexpr ctnn::fixed_string prefix = "encoder";
constexpr ctnn::fixed_string block = "block1";

static_assert((prefix + ".fc1").view() == "encoder.fc1");                 // fixed_string + literal
static_assert(("decoder." + block).view() == "decoder.block1");           // literal + fixed_string
static_assert((prefix + block).view() == "encoderblock1");                // fixed_string + fixed_string
static_assert((prefix + "." + block + ".fc1").view() == "encoder.block1.fc1");
static_assert(("" + prefix).view() == "encoder" && (prefix + "").view() == "encoder");
static_assert(std::is_same_v<decltype("ab" + ctnn::fixed_string("cd")), ctnn::fixed_string<5>>);
static_assert((prefix + ".fc1").size() == 11);

// As template arguments: the joined name is the layer's name, and equal
// joins name the same layer type.
template <ctnn::fixed_string P>
constexpr auto layer_of = ctnn::dense<P + ".fc1", 10>(ctnn::input<"x", ctnn::shape<4>>);
using joined = std::remove_cvref_t<decltype(layer_of<prefix>)>;
using written = decltype(ctnn::dense<"encoder.fc1", 10>(ctnn::input<"x", ctnn::shape<4>>));
static_assert(std::is_same_v<joined, written>);
static_assert(joined::op::name.view() == "encoder.fc1");
static_assert(joined::op::weight_name.view() == "encoder.fc1.weight");
static_assert(decltype(ctnn::dense<"pre." + block, 3>(ctnn::input<"x", ctnn::shape<4>>))::op::name.view() ==
              "pre.block1");
}  // namespace

TEST_CASE("fixed_string joins in every order", "[fixed_string]") {
  // The same joins at run time, for the record.
  CHECK(std::string_view(prefix + ".fc1") == "encoder.fc1");
  CHECK(std::string_view("decoder." + block) == "decoder.block1");
  CHECK(std::string_view(prefix + block) == "encoderblock1");
}
