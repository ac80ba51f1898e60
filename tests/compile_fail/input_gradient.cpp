// input_grad of an input not declared with requires_grad.
#include "two_inputs.hpp"

int main() {
  ctnn::model<two::net, 2> m;
#ifdef CTNN_SHOULD_FAIL
  m.input_grad<"xa">();
#else
  (void)m.parameters();
#endif
}
