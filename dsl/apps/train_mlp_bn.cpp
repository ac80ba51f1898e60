// ctnn_train: the MLP with batch norm after fc1 and fc2 (five drop probabilities).
#include "train_mlp.hpp"

int train_app::run_mlp_bn(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  return run_mlp_variant<true>(o, train, test);
}
