// ctnn_train: LeNet with an auxiliary classifier on pool1
// (dsl/models/lenet_aux.hpp), trained on L + 0.3·l1; the test accuracy is
// the main classifier's (predict() returns the first output).
#include <models/lenet_aux.hpp>

#include "train_run.hpp"

namespace lenet_aux = ctnn::models::lenet_aux;
static_assert(decltype(lenet_aux::image)::out_shape::size == 28 * 28, "the app feeds 784 floats per image");

int train_app::run_lenet_aux(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  return run<lenet_aux::network>(o, train, test);
}
