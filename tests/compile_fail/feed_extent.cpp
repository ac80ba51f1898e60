// A fixed-extent feed of 7 values where a batch of 2 needs 2 x 4.
#include "two_inputs.hpp"

using ctnn::feed;

int main() {
  ctnn::trainer<two::net, ctnn::batch<2>> t;
  two::batch d;
#ifdef CTNN_SHOULD_FAIL
  std::array<float, 7> seven{};
  t.step(feed<"xa">(d.a), feed<"xb">(seven), feed<"ya">(d.ya), feed<"yb">(d.yb));
#else
  t.step(feed<"xa">(d.a), feed<"xb">(d.b), feed<"ya">(d.ya), feed<"yb">(d.yb));
#endif
}
