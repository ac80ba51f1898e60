// Declarations at namespace scope, with nothing else declared.
#include <ctnn/ctnn.hpp>
