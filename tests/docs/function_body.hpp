// Statements in a function, with nothing else declared.
#include <ctnn/ctnn.hpp>
#include <ctnn/io/idx.hpp>
#include <vector>

void block() {
// ctnn: block
}
