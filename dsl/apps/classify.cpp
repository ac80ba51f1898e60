// ctnn_classify: a trained LeNet (dsl/models/lenet.hpp) with its weights
// inside the binary, so that nothing but the program is deployed. It reads
// Fashion-MNIST-style IDX images and prints each one's class and how long its
// prediction took (batch 1, predict_one), then the totals.
//
// The weights come from a checkpoint of `ctnn_train --model lenet --checkpoint
// FILE`: CMake turns it into classify_weights.hpp (tools/checkpoint_import.py,
// a blob linked in by cmake/ctnn_embedded_weights.cmake) when configured with
// -DCTNN_CLASSIFY_CHECKPOINT=FILE (docs/deploy.md).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <omp.h>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/idx.hpp>

#include "classify_weights.hpp"
#include "command_line.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using model_type = ctnn::model<classify_weights::network, 1, float>;
constexpr std::size_t side = ctnn::io::fashion_mnist_side;
constexpr std::size_t classes = ctnn::io::fashion_mnist_classes;

struct options {
  std::filesystem::path images;
  std::size_t limit = 0;  // 0: every image of the file
  int threads = 1;
  bool time_startup = false;
};

double microseconds(clock_type::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

std::optional<int> read_command_line(int argc, char** argv, options& o) {
  using namespace ctnn_apps;
  CLI::App app{"Classifies Fashion-MNIST images with the LeNet compiled into this program: each image's\n"
               "class and its latency (batch 1), then the totals.",
               "ctnn_classify"};
  add_flag_with_value(app, "--images", "FILE",
                      "IDX file of 28x28 unsigned-byte images, gzip-compressed or not\n"
                      "(e.g. t10k-images-idx3-ubyte.gz); required",
                      [&o](const std::string& t) { o.images = t; });
  add_flag_with_value(app, "--limit", "N", "classify the first N images only (default: all)",
                      [&o](const std::string& t) { o.limit = parse_number<std::size_t>("--limit", t); });
  add_flag_with_value(app, "--threads", "T",
                      "OpenMP threads for each prediction (default 1: at batch 1 LeNet is\n"
                      "fastest on one, docs/deploy.md)",
                      [&o](const std::string& t) {
                        o.threads = parse_number<int>("--threads", t);
                        if (o.threads < 1) throw usage_error("--threads must be at least 1, not " + t);
                      });
  add_switch(app, "--time-startup",
             "print the time from the start of main() to the first image's class\n"
             "(the model built and its weights copied in, the file read, one prediction)",
             o.time_startup);
  return parse_command_line(app, argc, argv, [&o] {
    if (o.images.empty()) throw usage_error("--images is required: the IDX file of the images to classify");
  });
}

}  // namespace

int main(int argc, char** argv) {
  const clock_type::time_point started = clock_type::now();
  options o;
  if (const std::optional<int> status = read_command_line(argc, argv, o)) return *status;

  ctnn::io::idx_images images;
  try {
    images = ctnn::io::read_idx_images(o.images);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_classify: --images: %s\n", e.what());
    return 1;
  }
  if (images.rows != side || images.cols != side) {
    std::fprintf(stderr, "ctnn_classify: --images: '%s' holds %zux%zu images; the network reads %zux%zu\n",
                 o.images.c_str(), images.rows, images.cols, side, side);
    return 1;
  }
  const std::size_t count = o.limit ? std::min(o.limit, images.count) : images.count;

  omp_set_num_threads(o.threads);
  const clock_type::time_point building = clock_type::now();
  model_type model(ctnn::uninitialized);  // every value is loaded next
  classify_weights::load(model);
  const double build_us = microseconds(clock_type::now() - building);

  std::vector<float> pixels(side * side);
  std::vector<double> latencies;
  latencies.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* image = images.pixels.data() + i * side * side;
    // As ctnn::io::load_fashion_mnist scales them for training.
    std::transform(image, image + side * side, pixels.begin(), [](std::uint8_t v) { return float(v) / 255.0f; });
    const clock_type::time_point before = clock_type::now();
    const std::span<const float> scores = model.predict_one(ctnn::feed<"image">(pixels));
    const auto c = std::size_t(std::max_element(scores.begin(), scores.begin() + classes) - scores.begin());
    const clock_type::time_point after = clock_type::now();
    latencies.push_back(microseconds(after - before));
    if (i == 0 && o.time_startup)
      std::printf("startup: %.0f us from main() to the first class (the model and its weights: %.0f us)\n",
                  microseconds(after - started), build_us);
    std::printf("image %zu: %s (class %zu)  %.1f us\n", i, ctnn::io::fashion_mnist_class_names[c].data(), c,
                latencies.back());
  }
  if (count == 0) {
    std::printf("no images in '%s'\n", o.images.c_str());
    return 0;
  }
  double total = 0;
  for (double l : latencies) total += l;
  std::sort(latencies.begin(), latencies.end());
  std::printf("%zu images in %.1f us: %.1f us per image (median %.1f us, fastest %.1f us), batch 1\n", count, total,
              total / double(count), latencies[count / 2], latencies.front());
  return 0;
}
