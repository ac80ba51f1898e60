// Compile-fail test app.checkpoint_other_network: the weights of a LeNet
// checkpoint written by tools/checkpoint_import.py for LeNet with batch norm
// (--network ctnn::models::lenet::network_bn) are rejected by the header's
// parameter count check, with one error. Without CTNN_SHOULD_FAIL it includes
// the header written for LeNet itself, which ctnn_classify_tiny compiles.
#ifdef CTNN_SHOULD_FAIL
#include "lenet_bn_weights.hpp"
#else
#include "classify_weights.hpp"
#endif

int main() { return 0; }
