// ctnn_train: trains LeNet (dsl/models/lenet.hpp, the default), LeNet with a
// side classifier (lenet_aux.hpp) or the MLP (dsl/models/mlp.hpp) on
// Fashion-MNIST and writes a report. Run with --help for the flags, which
// train_flags.hpp reads. This file holds main() and what the training loop
// shares; train_report.cpp prepares the outputs and writes the report; the
// networks are trained in train_lenet.cpp, train_lenet_aux.cpp,
// train_mlp.cpp and train_mlp_bn.cpp.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "command_line.hpp"
#include <ctnn/io/idx.hpp>
#include <ctnn/kernels/simd.hpp>
#include <ctnn/train/schedule.hpp>

#include "train_app.hpp"
#include "train_flags.hpp"

#ifndef CTNN_CXX_FLAGS
#define CTNN_CXX_FLAGS "unknown"
#endif

namespace train_app {

// The learning rate of global step `step` (0-based) in epoch `epoch`.
// step: x0.2 after ceil(50%) and again after ceil(80%) of the epochs (from
// epochs 6 and 9 of 10): the initial rate makes fast progress but keeps
// bouncing around a minimum that smaller steps then settle into. cosine:
// per step, from lr to 0 (the warm-up is part of it). exponential: per step,
// down to lr/100 at the last step. Then the warm-up, if any, for the others.
float learning_rate(const options& o, int epoch, std::size_t step, std::size_t total_steps) {
  double lr = o.lr;
  switch (o.schedule) {
    case schedule_kind::cosine:
      return float(ctnn::schedule::cosine{.lr0 = o.lr, .lr_min = 0.0, .total_steps = total_steps,
                                          .warmup_steps = std::min(o.warmup, total_steps - 1)}
                       .lr_at(step));
    case schedule_kind::step:
      if (o.epochs > 1 && epoch >= (o.epochs + 1) / 2) lr *= 0.2;
      if (o.epochs > 2 && epoch >= (4 * o.epochs + 4) / 5) lr *= 0.2;
      break;
    case schedule_kind::exponential:
      lr = ctnn::schedule::exponential_decay{.lr0 = o.lr, .k = std::log(100.0) / double(std::max<std::size_t>(1, total_steps - 1))}
               .lr_at(step);
      break;
    case schedule_kind::none: break;
  }
  if (step < o.warmup) lr *= double(step + 1) / double(o.warmup);
  return float(lr);
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

progress::progress(bool quiet, int epochs, std::size_t batches)
    : enabled_(!quiet), tty_(isatty(fileno(stderr)) != 0), epochs_(epochs), batches_(batches) {}

void progress::update(int epoch, std::size_t done, double mean_loss) {
  if (!enabled_) return;
  const auto now = clock_type::now();
  const bool last = done == batches_;
  if (tty_ ? (now - last_draw_ < std::chrono::milliseconds(100) && !last)
           : (done * 10 / batches_ == (done - 1) * 10 / batches_))
    return;
  last_draw_ = now;
  const double elapsed = seconds_since(start_);
  const double rate = double(done * batch) / std::max(elapsed, 1e-9);
  const std::size_t left = (batches_ - done) + std::size_t(epochs_ - 1 - epoch) * batches_;
  const int filled = int(30 * done / batches_);
  std::fprintf(stderr, "%sepoch %d/%d [%.*s%*s] batch %zu/%zu  loss %.4f  %.0f img/s  eta %.0fs%s",
               tty_ ? "\r" : "", epoch + 1, epochs_, filled, "##############################", 30 - filled,
               "", done, batches_, mean_loss, rate, double(left * batch) / rate, tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
}

void progress::clear() {
  if (enabled_ && tty_) std::fputs("\r\033[K", stderr);
}

const char* cxx_flags() { return CTNN_CXX_FLAGS; }

const char* compiler_id() {
#if defined(__clang__)
  return "clang++";
#elif defined(__GNUC__)
  return "g++";
#else
  return "unknown";
#endif
}

std::string threads_text(const options& o) {
  return o.threads == 0 ? "auto (1 or " + std::to_string(o.max_threads) + ")" : std::to_string(o.threads);
}

}  // namespace train_app

using namespace train_app;

int main(int argc, char** argv) {
  options o;
  if (const auto status = read_command_line(argc, argv, o)) return *status;
  std::printf("simd: %s, threads: %s, batch: %zu, optimizer: %s, lr: %g, schedule: %s, seed: %llu\n",
              ctnn::kernels::simd_name(), threads_text(o).c_str(), batch, o.optimizer_name.c_str(), double(o.lr),
              o.schedule_name.c_str(), static_cast<unsigned long long>(o.seed));
  std::printf("network: %s%s%s, epochs: %d\n", o.model_name.c_str(), o.batch_norm ? ", batch norm" : "",
              o.dropout > 0.0f ? (", dropout " + num(o.dropout)).c_str() : "", o.epochs);

  ctnn::io::dataset train, test;
  try {
    train = ctnn::io::load_fashion_mnist(o.data, ctnn::io::split::train);
    test = ctnn::io::load_fashion_mnist(o.data, ctnn::io::split::test);
  } catch (const ctnn::io::data_error& e) {
    std::fprintf(stderr,
                 "ctnn_train: %s\n"
                 "hint: install the Debian package dataset-fashion-mnist (bash scripts/setup.sh does), or pass\n"
                 "      --data DIR / set CTNN_FASHION_MNIST_DIR to a directory holding the four .gz files\n",
                 e.what());
    return 1;
  }
  // An epoch is the whole batches of the training set; without one there is nothing to train.
  if (train.count < batch) {
    std::fprintf(stderr, "ctnn_train: --data: '%s' holds %zu training images, fewer than one batch of %zu\n",
                 (o.data / "train-images-idx3-ubyte.gz").c_str(), train.count, batch);
    return 1;
  }
  // The output folders are made by run(), once the checkpoint to start from is known to be good.
  if (o.model == model_kind::lenet) return run_lenet(o, train, test);
  if (o.model == model_kind::lenet_aux) return run_lenet_aux(o, train, test);
  if (o.model == model_kind::lstm) return run_lstm(o, train, test);
  return o.batch_norm ? run_mlp_bn(o, train, test) : run_mlp(o, train, test);
}
