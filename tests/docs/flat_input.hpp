// Declarations at namespace scope after a flat input x and a 64-wide stem.
#include <ctnn/ctnn.hpp>

inline constexpr auto x = ctnn::input<"x", ctnn::shape<64>>;
inline constexpr auto stem = ctnn::relu(ctnn::dense<"stem", 64>(x));
