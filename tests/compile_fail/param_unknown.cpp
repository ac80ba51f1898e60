// A misspelt parameter name.
#include "two_inputs.hpp"

using ctnn::feed;

int main() {
  ctnn::trainer<two::net, ctnn::batch<2>> t;
  two::batch d;
#ifdef CTNN_SHOULD_FAIL
  t.model().param<"fa.wieght">();
#else
  t.model().param<"fa.weight">();
#endif
}
