// ctnn_train: an LSTM reading the image row by row (dsl/models/row_lstm.hpp):
// the 784 pixels as 28 steps of 28, fed as LeNet's image is.
#include <models/row_lstm.hpp>

#include "train_run.hpp"

namespace row_lstm = ctnn::models::row_lstm;
static_assert(decltype(row_lstm::image)::out_shape::size == 28 * 28, "the app feeds 784 floats per image");

int train_app::run_lstm(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  return run<row_lstm::network>(o, train, test);
}
