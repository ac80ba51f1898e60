// gaussian_kl of an [8] mean and a [4] log-variance.
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<16>>;
inline constexpr auto mean = ctnn::dense<"mean", 8>(x);
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto log_var = ctnn::dense<"log_var", 4>(x);
#else
inline constexpr auto log_var = ctnn::dense<"log_var", 8>(x);
#endif
inline constexpr auto loss = ctnn::gaussian_kl(mean, log_var);
}  // namespace net

int main() {}
