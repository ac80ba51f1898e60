// Checks the compile-fail machinery itself: this file must compile as is and
// must be rejected, with the message below, when CTNN_SHOULD_FAIL is defined.
#ifdef CTNN_SHOULD_FAIL
static_assert(sizeof(int) == 0, "CTNN_SANITY: this must fail");
#endif

int main() {}
