// Statements in a function, with nothing else declared.
#include <ctnn/ctnn.hpp>
#include <ctnn/io/idx.hpp>

void block() {
// ctnn: block
}
