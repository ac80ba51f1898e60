// predict<"fc"> on a network whose outputs are "fa" and "fb".
#include "two_inputs.hpp"

using ctnn::feed;

int main() {
  ctnn::trainer<two::net, ctnn::batch<2>> t;
  two::batch d;
#ifdef CTNN_SHOULD_FAIL
  t.predict<"fc">(feed<"xa">(d.a));
#else
  t.predict<"fa">(feed<"xa">(d.a));
#endif
}
