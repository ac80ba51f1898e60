// ctnn_train: the MLP without batch norm (five drop probabilities).
#include "train_mlp.hpp"

int train_app::run_mlp(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  return run_mlp_variant<false>(o, train, test);
}
