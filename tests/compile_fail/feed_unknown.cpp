// A feed whose name ("xc") is no leaf of the network.
#include "two_inputs.hpp"

using ctnn::feed;

int main() {
  ctnn::trainer<two::net, ctnn::batch<2>> t;
  two::batch d;
#ifdef CTNN_SHOULD_FAIL
  t.step(feed<"xa">(d.a), feed<"xc">(d.b), feed<"ya">(d.ya), feed<"yb">(d.yb));
#else
  t.step(feed<"xa">(d.a), feed<"xb">(d.b), feed<"ya">(d.ya), feed<"yb">(d.yb));
#endif
}
