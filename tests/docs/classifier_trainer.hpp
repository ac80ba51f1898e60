// Statements in a function, after the guide's classifier network, its data,
// a trainer t and a model m of it.
#include <algorithm>
#include <iostream>
#include <span>
#include <string>
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
  ctnn::trainer<classifier::network, ctnn::batch<64>> t(
      ctnn::optim::sgd{.lr = 0.03f, .momentum = 0.9f}, /*seed=*/1);
  ctnn::model<classifier::network, 64> m(2);
// ctnn: block
}
