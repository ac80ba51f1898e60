// bilinear_sampler given a grid of three values per point instead of (x, y).
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto image = ctnn::input<"image", ctnn::shape<1, 28, 28>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto grid = ctnn::input<"grid", ctnn::shape<28, 28, 3>>;
#else
inline constexpr auto grid = ctnn::input<"grid", ctnn::shape<28, 28, 2>>;
#endif
inline constexpr auto y = ctnn::bilinear_sampler(image, grid);
}  // namespace net

int main() {}
