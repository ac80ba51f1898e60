// An input fed as double to a float model.
#include "two_inputs.hpp"

using ctnn::feed;

int main() {
  ctnn::trainer<two::net, ctnn::batch<2>> t;
  two::batch d;
#ifdef CTNN_SHOULD_FAIL
  std::array<double, 8> wide{};
  t.step(feed<"xa">(wide), feed<"xb">(d.b), feed<"ya">(d.ya), feed<"yb">(d.yb));
#else
  t.step(feed<"xa">(d.a), feed<"xb">(d.b), feed<"ya">(d.ya), feed<"yb">(d.yb));
#endif
}
