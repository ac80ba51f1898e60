// Statements in a function, after a small regression network Net (input
// "x" of 2 values, target "target" of 1) and 500 samples x, t for it.
#include <vector>

#include <ctnn/ctnn.hpp>

inline constexpr auto x_in = ctnn::input<"x", ctnn::shape<2>>;
using Net = decltype(ctnn::network(
    ctnn::squared_error(ctnn::dense<"fc2", 1>(ctnn::tanh(ctnn::dense<"fc1", 8>(x_in))),
                        ctnn::input<"target", ctnn::shape<1>>)));

void block(const std::vector<double>& x, const std::vector<double>& t) {
// ctnn: block
}
