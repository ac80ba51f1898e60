// Statements in a function, with the runtime graph (ctnn/runtime.hpp).
#include <ctnn/ctnn.hpp>
#include <ctnn/runtime.hpp>

void block() {
// ctnn: block
}
