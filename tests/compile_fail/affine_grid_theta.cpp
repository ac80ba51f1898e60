// affine_grid from 4 values per sample: a 2x3 affine matrix needs 6.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto h = ctnn::input<"h", ctnn::shape<32>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto grid = ctnn::affine_grid<28, 28>(ctnn::dense<"loc", 4>(h));
#else
inline constexpr auto grid = ctnn::affine_grid<28, 28>(ctnn::dense<"loc", 6>(h));
#endif
}  // namespace net

int main() {}
