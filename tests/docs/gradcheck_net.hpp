// Statements in a function, after a small network Net (input "x" of 4
// values, label "class" of 3 classes) and a batch of 3 samples for it.
#include <cassert>
#include <iostream>
#include <vector>

#include <ctnn/ctnn.hpp>

inline constexpr auto x_in = ctnn::input<"x", ctnn::shape<4>>;
using Net = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(ctnn::dense<"fc2", 3>(ctnn::tanh(ctnn::dense<"fc1", 5>(x_in))),
                                ctnn::label<"class", 3>)));

void block(const std::vector<double>& x, const std::vector<int>& labels) {
// ctnn: block
}
