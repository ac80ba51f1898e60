// run<Net>: trains one of ctnn_train's networks and writes the report. Each
// network type instantiates the whole trainer, so the source files that
// include this header (one per model family) are the app's heavy ones.
#pragma once

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <span>
#include <utility>

#include <ctnn/ctnn.hpp>
#include <ctnn/core/aligned_buffer.hpp>
#include <ctnn/io/onnx_export.hpp>
#include <ctnn/kernels/simd.hpp>

#include "train_app.hpp"
#include "train_state.hpp"

namespace train_app {

// Allocated once for the whole run, so that training allocates nothing per step.
struct batch_buffers {
  explicit batch_buffers(std::size_t features, std::size_t count)
      : images(batch * features), padded(batch * features), order(count) {}
  ctnn::aligned_buffer<float> images, padded;
  std::array<std::uint8_t, batch> labels{};
  std::vector<std::uint32_t> order;
};

// One pass over a shuffled training set; appends each step's loss and
// learning rate and returns the mean loss.
template <class Trainer>
double run_epoch(Trainer& trainer, const ctnn::io::dataset& train, const options& o, int epoch,
                 std::size_t total_steps, batch_buffers& buf, progress& bar, std::vector<float>& losses,
                 std::vector<float>& rates, ctnn::adaptive_threads& threads) {
  auto& order = buf.order;
  const std::size_t count = order.size();
  std::iota(order.begin(), order.end(), 0u);
  std::seed_seq seq{std::uint32_t(o.seed), std::uint32_t(o.seed >> 32), std::uint32_t(epoch)};
  std::mt19937_64 rng(seq);
  std::shuffle(order.begin(), order.end(), rng);

  const std::size_t batches = count / batch;  // the last incomplete batch is dropped
  double sum = 0;
  bar.start_epoch();
  for (std::size_t b = 0; b < batches; ++b) {
    for (std::size_t k = 0; k < batch; ++k) {
      const std::size_t n = order[b * batch + k];
      const float* image = train.images.data() + n * train.features;
      std::copy_n(image, train.features, buf.images.data() + k * train.features);
      buf.labels[k] = train.labels[n];
    }
    const float lr = learning_rate(o, epoch, losses.size(), total_steps);
    trainer.optimizer().lr = lr;
    float loss = 0;
    try {
      loss = threads.run(
          [&] { return trainer.step(ctnn::feed<"image">(buf.images), ctnn::feed<"class">(buf.labels)); });
    } catch (const std::runtime_error& e) {
      bar.clear();
      throw training_error("epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) + "/" +
                           std::to_string(batches) + ": " + e.what());
    }
    losses.push_back(loss);
    rates.push_back(lr);
    sum += loss;
    bar.update(epoch, b + 1, sum / double(b + 1));
  }
  bar.clear();
  return sum / double(batches);
}

// Fraction of the first `count` images classified correctly (inference mode:
// no dropout, batch norm's running statistics); the last partial batch is padded.
template <class Trainer>
double evaluate(Trainer& trainer, const ctnn::io::dataset& data, std::size_t count,
                ctnn::aligned_buffer<float>& padded) {
  std::size_t correct = 0;
  for (std::size_t first = 0; first < count; first += batch) {
    const std::size_t n = std::min(batch, count - first);
    const float* images = data.images.data() + first * data.features;
    if (n < batch) {
      std::fill_n(padded.data(), padded.size(), 0.0f);
      std::copy_n(images, n * data.features, padded.data());
      images = padded.data();
    }
    const std::span<const float> logits = trainer.predict(ctnn::feed<"image">(images));
    for (std::size_t k = 0; k < n; ++k) {
      const float* row = logits.data() + k * classes;
      correct += std::size_t(std::max_element(row, row + classes) - row) == data.labels[first + k];
    }
  }
  return double(correct) / double(count);
}

// Each test image's predicted class, one line each as ctnn_classify prints
// them (without its latency): "image 3: Dress (class 3)".
template <class Trainer>
void write_predictions(Trainer& trainer, const ctnn::io::dataset& data, ctnn::aligned_buffer<float>& padded,
                       const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) throw std::runtime_error("cannot write '" + path.string() + "'");
  for (std::size_t first = 0; first < data.count; first += batch) {
    const std::size_t n = std::min(batch, data.count - first);
    std::fill_n(padded.data(), padded.size(), 0.0f);
    std::copy_n(data.images.data() + first * data.features, n * data.features, padded.data());
    const std::span<const float> logits = trainer.predict(ctnn::feed<"image">(padded));
    for (std::size_t k = 0; k < n; ++k) {
      const float* row = logits.data() + k * classes;
      const auto c = std::size_t(std::max_element(row, row + classes) - row);
      std::fprintf(f, "image %zu: %s (class %zu)\n", first + k, ctnn::io::fashion_mnist_class_names[c].data(), c);
    }
  }
  if (std::fclose(f) != 0) throw std::runtime_error("cannot write '" + path.string() + "'");
}

// Training and the report for one of the compiled network types.
template <class Net>
int run(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  using trainer_type = ctnn::trainer<Net, ctnn::batch<batch>, any_optimizer>;
  if (!o.quiet) std::printf("%s\n", ctnn::summary<Net>().c_str());
  const std::size_t count = o.limit ? std::min(o.limit, train.count) : train.count;
  const std::size_t steps = count / batch;  // at least 1: main() refuses a smaller training set
  const std::size_t total_steps = steps * std::size_t(o.epochs);
  std::printf("data: %zu training images (%zu batch%s per epoch), %zu test images, from %s\n", count, steps,
              steps == 1 ? "" : "es", test.count, o.data.c_str());

  ctnn::adaptive_threads threads =
      o.threads == 0 ? ctnn::adaptive_threads(o.max_threads) : ctnn::adaptive_threads::fixed(o.threads);
  trainer_type trainer(any_optimizer{.kind = o.optimizer, .lr = o.lr, .momentum = o.momentum}, o.seed, o.training);
  run_summary summary{Net::param_count, {}};
  try {
    const auto joined = [](const std::vector<std::string>& names) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      return list;
    };
    if (!o.init_from.empty()) {
      summary.loaded = ctnn::load_shared_parameters(o.init_from, trainer.model());
      // The library lists trainable tensors, then running statistics: one list by name here.
      std::sort(summary.loaded.begin(), summary.loaded.end());
      std::vector<std::string_view> network_names;
      for (const ctnn::named_tensor& t : ctnn::checkpoint_tensors<Net>()) network_names.push_back(t.name);
      check_init_loaded(o, summary.loaded, network_names);
      std::printf("init: %zu tensors from %s: %s\n", summary.loaded.size(), o.init_from.c_str(),
                  joined(summary.loaded).c_str());
    }
    if (!o.freeze.empty()) {
      trainer.freeze(o.freeze);
      std::printf("frozen: %s\n", joined(trainer.frozen_parameters()).c_str());  // sorted by name
    }
  } catch (const std::invalid_argument& e) {  // a name --freeze does not know: a usage error
    std::fprintf(stderr, "ctnn_train: --freeze: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // --init-from: missing, corrupt, a shape that differs, nothing shared
    std::fprintf(stderr, "ctnn_train: --init-from: %s\n", e.what());
    return 1;
  }
  run_state resumed;
  if (!o.resume.empty()) {
    try {
      resumed = load_run_state(o, trainer, steps);
    } catch (const std::exception& e) {  // missing, corrupt, another network or run
      std::fprintf(stderr, "ctnn_train: --resume: %s\n", e.what());
      return 1;
    }
    std::printf("resumed: %s after epoch %zu of %d\n", o.resume.c_str(), resumed.epochs.size(), o.epochs);
  }
  // The outputs only now that the inputs are known to be good: a run refused
  // for its flags or files leaves nothing behind.
  output_dirs outputs;  // removed again, when empty, if the run fails
  try {
    prepare_outputs(o, outputs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_train: %s\n", e.what());
    return 1;
  }
  std::fflush(stdout);

  batch_buffers buffers(train.features, count);
  progress bar(o.quiet, o.epochs, steps);
  std::vector<epoch_result> epochs = std::move(resumed.epochs);
  std::vector<float> losses = std::move(resumed.losses), rates = std::move(resumed.rates);
  // Room for the whole loss curve up front (steps then allocate nothing), up
  // to 2^24 steps (64 MB each); a longer run grows the two vectors as it goes.
  const std::size_t reserved_steps = std::min<std::size_t>(total_steps, std::size_t{1} << 24);
  losses.reserve(reserved_steps);
  rates.reserve(reserved_steps);
  double train_seconds = 0;
  for (const epoch_result& r : epochs) train_seconds += r.seconds;
  try {
    const int last = o.stop_after ? o.stop_after : o.epochs;
    for (int e = int(epochs.size()); e < last; ++e) {
      const auto start = clock_type::now();
      const double loss = run_epoch(trainer, train, o, e, total_steps, buffers, bar, losses, rates, threads);
      const double seconds = seconds_since(start);
      train_seconds += seconds;
      const auto eval_start = clock_type::now();
      const double accuracy = evaluate(trainer, test, test.count, buffers.padded);
      const double train_accuracy = evaluate(trainer, train, std::min(count, train_eval_images), buffers.padded);
      const float lr = rates[std::size_t(e) * steps];
      epochs.push_back({loss, train_accuracy, accuracy, seconds, lr, threads.threads()});
      std::printf("epoch %2d/%d  lr %.4g  train loss %.4f  train accuracy %.4f  test accuracy %.4f  %.2f s "
                  "(eval %.2f s, threads %d)\n",
                  e + 1, o.epochs, double(lr), loss, train_accuracy, accuracy, seconds, seconds_since(eval_start),
                  threads.threads());
      std::fflush(stdout);
      if (!o.save_state.empty()) {
        try {
          save_run_state(o, trainer, steps, epochs, losses, rates);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "ctnn_train: --save-state: %s\n", e.what());
          return 1;
        }
      }
    }
  } catch (const training_error& e) {
    std::fprintf(stderr, "ctnn_train: training diverged at %s\n", e.what());
    return 1;
  }

  const double images_per_second = double(steps * batch * epochs.size()) / train_seconds;
  const auto best = std::max_element(epochs.begin(), epochs.end(),
                                     [](auto& a, auto& b) { return a.accuracy < b.accuracy; });
  std::printf("\nfinal test accuracy %.4f (best %.4f, epoch %d)\n", epochs.back().accuracy, best->accuracy,
              int(best - epochs.begin()) + 1);
  std::printf("training: %zu epochs in %.2f s, %.0f images/s (threads: %s, simd: %s)\n", epochs.size(), train_seconds,
              images_per_second, threads_text(o).c_str(), ctnn::kernels::simd_name());
  std::printf("compiler: %s %s, flags: %s\n", compiler_id(), __VERSION__, cxx_flags());
  try {
    write_report(o, summary, epochs, losses, rates, steps, train_seconds, images_per_second);
    if (o.predictions) {
      write_predictions(trainer, test, buffers.padded, o.out / "predictions.txt");
      std::printf("predictions: %s\n", (o.out / "predictions.txt").c_str());
    }
    if (!o.checkpoint.empty()) {
      ctnn::save_checkpoint(o.checkpoint, trainer.model());
      std::printf("checkpoint: %s\n", o.checkpoint.c_str());
    }
    if constexpr (ctnn::exportable_to_onnx<Net>) {  // the flags refuse --export-onnx for the others
      if (!o.export_onnx.empty()) {
        ctnn::export_onnx(o.export_onnx, trainer.model());
        std::printf("onnx export: %s (parameters in the .npz beside it; tools/onnx_export.py makes the .onnx)\n",
                    o.export_onnx.c_str());
      }
    }
    outputs.keep();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_train: %s\n", e.what());
    return 1;
  }
  std::printf("report: %s\n", (o.out / "report.json").c_str());
  return 0;
}

}  // namespace train_app
