// predict of output "fb" given the input "xa" it does not read.
#include "two_inputs.hpp"

using ctnn::feed;

int main() {
  ctnn::trainer<two::net, ctnn::batch<2>> t;
  two::batch d;
#ifdef CTNN_SHOULD_FAIL
  t.predict<"fb">(feed<"xb">(d.b), feed<"xa">(d.a));
#else
  t.predict<"fb">(feed<"xb">(d.b));
#endif
}
