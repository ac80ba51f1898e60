// A network whose outputs list an input beside a real node: refused where the
// network is defined (predicting the input read a slot that was never planned).
#include "two_inputs.hpp"

using ctnn::feed;

#ifdef CTNN_SHOULD_FAIL
using net = decltype(ctnn::network(two::la, ctnn::outputs(ctnn::ref<two::ha>, two::xa)));
#else
using net = decltype(ctnn::network(two::la, ctnn::outputs(ctnn::ref<two::ha>)));
#endif

int main() {
  ctnn::trainer<net, ctnn::batch<2>> t;
  two::batch d;
  t.predict(feed<"xa">(d.a));
}
