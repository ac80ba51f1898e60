// ctnn_train: LeNet as in Caffe's MNIST prototxt (dsl/models/lenet.hpp), or
// with --batch-norm its variant with batch norm after each convolution, on
// the 784 pixels of an image read as [1, 28, 28] (channels-major: the same floats).
#include <models/lenet.hpp>

#include "train_run.hpp"

namespace lenet = ctnn::models::lenet;
static_assert(decltype(lenet::image)::out_shape::size == 28 * 28, "the app feeds 784 floats per image");

int train_app::run_lenet(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  return o.batch_norm ? run<lenet::network_bn>(o, train, test) : run<lenet::network>(o, train, test);
}
