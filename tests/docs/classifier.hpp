// Statements in a function, after the guide's classifier network and its data.
#include <iostream>
#include <span>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace classifier {
inline constexpr auto image  = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto hidden = ctnn::relu(ctnn::dense<"fc1", 256>(image));
inline constexpr auto logits = ctnn::dense<"fc2", 10>(ctnn::ref<hidden>);
using network = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>),
    ctnn::outputs(logits)));
}  // namespace classifier

void block(const std::vector<float>& images, const std::vector<int>& labels, const std::vector<float>& image) {
  (void)images, (void)labels, (void)image;
// ctnn: block
}
