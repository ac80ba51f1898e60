// Declarations in a namespace inside ctnn (as dsl/models' are), after an
// image input, its label and a 64-channel stem: unqualified names find ctnn's,
// and a variable named label hides the class template ctnn::label.
#include <ctnn/ctnn.hpp>

namespace ctnn::models::doc {
inline constexpr auto image = input<"image", shape<1, 28, 28>>;
inline constexpr auto label = ctnn::label<"class", 10>;
inline constexpr auto stem = relu(conv2d<"stem", 64, 3, padding<1>>(image));
// ctnn: block
}  // namespace ctnn::models::doc
