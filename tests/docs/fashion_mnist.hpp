// Statements in a function, after Fashion-MNIST's training and test sets.
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/idx.hpp>

void block() {
  auto train = ctnn::io::load_fashion_mnist(ctnn::io::split::train);
  auto test  = ctnn::io::load_fashion_mnist(ctnn::io::split::test);
// ctnn: block
}
