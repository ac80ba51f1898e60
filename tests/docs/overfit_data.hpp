// Statements in a function, after a network `net` (the guide's classifier)
// and count samples of it: images (784 floats each) and labels.
#include <cstddef>
#include <iostream>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/overfit_check.hpp>  // the section names its header

inline constexpr auto image = ctnn::input<"image", ctnn::shape<784>>;
inline constexpr auto logits = ctnn::dense<"fc2", 10>(ctnn::relu(ctnn::dense<"fc1", 256>(image)));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"class", 10>),
                                   ctnn::outputs(logits)));

void block(const float* images, const int* labels, std::size_t count) {
// ctnn: block
}
