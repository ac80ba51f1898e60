// A loss (two arguments) as a step of chain(...).
#include <ctnn/ctnn.hpp>

inline constexpr auto x = ctnn::input<"x", ctnn::shape<16>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto y = ctnn::chain(x, ctnn::dense<"fc1", 8>, ctnn::relu, ctnn::softmax_cross_entropy);
#else
inline constexpr auto y = ctnn::chain(x, ctnn::dense<"fc1", 8>, ctnn::relu, ctnn::dense<"fc2", 4>);
#endif

int main() {}
