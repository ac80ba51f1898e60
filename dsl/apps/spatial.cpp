// ctnn_spatial: LeNet against LeNet behind a spatial transformer
// (dsl/models/stn_lenet.hpp) on distorted Fashion-MNIST.
//
// Each image is rotated by an angle drawn uniformly from ±--angle degrees
// (default 45) and shifted by up to ±--shift pixels (default 3) along each
// axis, on its own 28×28 canvas, zeros coming in from outside. The canvas
// stays 28×28 so that both networks read the same input and share LeNet's
// layers unchanged; the corners of the widest garments leave the frame at
// the larger angles, for both networks alike. The test set is distorted once,
// from a fixed seed (the same for every --seed, so runs compare on the same
// images); the training set afresh each epoch, from --seed and the epoch.
//
// Both networks train with the same recipe: Adam, batches of 64, the same
// initialization seed, the same shuffled and distorted batches. After each
// epoch both are scored on the distorted test set. At the end: a picture of
// distorted test images above what the transformer made of them, a JSON
// report, the loss curves and the per-epoch table as CSV.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <numeric>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <ctnn/ctnn.hpp>
#include <ctnn/io/idx.hpp>
#include <ctnn/io/picture.hpp>
#include <ctnn/io/png.hpp>
#include <models/lenet.hpp>
#include <models/stn_lenet.hpp>
#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "output_directory.hpp"
#include "fashion_mnist_splits.hpp"

namespace fs = std::filesystem;
using ctnn_apps::parse_number;
using ctnn_apps::usage_error;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t B = 64, side = 28, P = side * side;
constexpr std::uint64_t test_distortion_seed = 20261203;

struct options {
  fs::path data = ctnn::io::fashion_mnist_dir();
  int epochs = 5;
  double lr = 1e-3;
  double loc_lr = 1;    // the localization network's learning rate, as a share of --lr
  double angle = 45;    // degrees, either way
  double shift = 3;     // pixels, either way, per axis
  std::uint64_t seed = 1;
  int threads = 0;
  std::size_t limit = 0;
  fs::path out = "out_spatial";
  bool quiet = false;
};

// ---------------------------------------------------------------------------
// Distortion: each image read through a random rotation and shift, by the
// same affine_grid and bilinear_sampler the transformer uses.

using grid_spec = ctnn::affine_grid_op<side, side>::spec<ctnn::shape<6>>;
using sampler_spec = ctnn::bilinear_sampler_op::spec<ctnn::shape<1, side, side>, ctnn::shape<side, side, 2>>;

// Output point p reads the source at R(-a)(p - t): the garment turned by a
// and moved by t. Normalized coordinates span 2 over 28 pixels.
void distort(const float* in, float* out, double degrees, double dx, double dy) {
  const double a = degrees * std::numbers::pi / 180, c = std::cos(a), s = std::sin(a);
  const double tx = 2 * dx / double(side), ty = 2 * dy / double(side);
  const float theta[6] = {float(c), float(s), float(-(c * tx + s * ty)), float(-s), float(c), float(s * tx - c * ty)};
  float grid[side * side * 2];
  ctnn::forward_args<float> g;
  g.in[0] = theta;
  g.out = grid;
  grid_spec::forward<1, float>(g);
  ctnn::forward_args<float> r;
  r.in[0] = in;
  r.in[1] = grid;
  r.out = out;
  sampler_spec::forward<1, float>(r);
}

// The whole set distorted into `out`, one draw per image from `seed`.
void distort_all(const ctnn::io::dataset& d, const options& o, std::uint64_t seed, std::vector<float>& out) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> angle(-o.angle, o.angle), shift(-o.shift, o.shift);
  out.resize(d.count * P);
  for (std::size_t i = 0; i < d.count; ++i) {
    const double a = angle(rng), dx = shift(rng), dy = shift(rng);
    distort(d.images.data() + i * P, out.data() + i * P, a, dx, dy);
  }
}

// ---------------------------------------------------------------------------

class progress_line {
 public:
  progress_line(bool quiet, std::string_view model, int epochs, std::size_t steps)
      : enabled_(!quiet), tty_(isatty(fileno(stderr)) != 0), model_(model), epochs_(epochs), steps_(steps) {}
  void start() { start_ = clock_type::now(); }
  void update(int epoch, std::size_t done, double mean_loss) {
    if (!enabled_) return;
    const bool last = done == steps_;
    if (!tty_ && !last && done % std::max<std::size_t>(1, steps_ / 10) != 0) return;
    const double s = std::chrono::duration<double>(clock_type::now() - start_).count();
    constexpr int width = 30;
    const int filled = int(double(width) * double(done) / double(steps_));
    std::fprintf(stderr, "%s%s epoch %d/%d [%.*s%*s] %zu/%zu  loss %.3f  %.0f images/s%s", tty_ ? "\r" : "",
                 model_.c_str(), epoch + 1, epochs_, filled, "##############################", width - filled, "",
                 done, steps_, mean_loss, double(done * B) / std::max(s, 1e-9), tty_ ? "  " : "\n");
    if (tty_ && last) std::fputc('\n', stderr);
  }

 private:
  bool enabled_, tty_;
  std::string model_;
  int epochs_;
  std::size_t steps_;
  clock_type::time_point start_;
};

struct run_log {
  std::vector<float> curve;  // loss per step
  nlohmann::json epochs = nlohmann::json::array();
  double seconds = 0;
  double accuracy = 0;  // after the last epoch
};

// Share of the (distorted) test images whose largest logit is their class.
template <class Model>
double accuracy(Model& m, const std::vector<float>& images, const ctnn::io::dataset& test) {
  std::vector<float> x(B * P);
  std::size_t correct = 0;
  for (std::size_t first = 0; first < test.count; first += B) {
    const std::size_t n = std::min(B, test.count - first);
    std::fill(x.begin(), x.end(), 0.0f);
    std::copy_n(images.data() + first * P, n * P, x.data());
    const auto logits = m.template predict<0>(ctnn::feed<"image">(x));
    for (std::size_t k = 0; k < n; ++k) {
      const float* row = logits.data() + k * 10;
      correct += std::size_t(std::max_element(row, row + 10) - row) == test.labels[first + k];
    }
  }
  return double(correct) / double(test.count);
}

// Trains one network on freshly distorted batches and scores it each epoch.
// Everything random comes from --seed and the epoch, so both networks see
// the same batches.
template <class Trainer>
run_log train(Trainer& trainer, std::string_view name, const options& o, const ctnn::io::dataset& train_set,
              const ctnn::io::dataset& test, const std::vector<float>& test_images) {
  run_log log;
  std::vector<std::size_t> order(train_set.count);
  std::vector<float> x(B * P);
  std::array<std::uint8_t, B> labels{};
  const std::size_t steps = train_set.count / B;
  progress_line bar(o.quiet, name, o.epochs, steps);
  std::vector<float> images;  // the epoch's distorted training set, one buffer for all epochs
  for (int e = 0; e < o.epochs; ++e) {
    distort_all(train_set, o, o.seed * 1000003 + std::uint64_t(e), images);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 shuffle_rng(o.seed + std::uint64_t(e) * 7919);
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    bar.start();
    const auto start = clock_type::now();
    double sum = 0;
    for (std::size_t s = 0; s < steps; ++s) {
      for (std::size_t k = 0; k < B; ++k) {
        const std::size_t n = order[s * B + k];
        std::copy_n(images.data() + n * P, P, x.data() + k * P);
        labels[k] = train_set.labels[n];
      }
      const float loss = trainer.step(ctnn::feed<"image">(x), ctnn::feed<"class">(labels));
      log.curve.push_back(loss);
      sum += loss;
      bar.update(e, s + 1, sum / double(s + 1));
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    log.seconds += seconds;
    log.accuracy = accuracy(trainer.model(), test_images, test);
    log.epochs.push_back({{"epoch", e + 1}, {"train_loss", sum / double(steps)}, {"test_accuracy", log.accuracy},
                          {"seconds", seconds}});
    std::printf("%.*s epoch %d/%d  train loss %.3f  distorted test accuracy %.4f  %.1f s\n", int(name.size()),
                name.data(), e + 1, o.epochs, sum / double(steps), log.accuracy, seconds);
    std::fflush(stdout);
  }
  return log;
}

// Rows of distorted test images, each above what the transformer made of it.
template <class Model>
ctnn::io::picture transformer_picture(Model& m, const std::vector<float>& test_images, std::size_t count,
                                      std::size_t cols) {
  std::vector<float> x(B * P, 0.0f);
  count = std::min({count, B, test_images.size() / P});  // a test set can hold fewer
  std::copy_n(test_images.data(), count * P, x.data());
  const auto y = m.template predict<1>(ctnn::feed<"image">(x));
  std::vector<float> rows;
  for (std::size_t first = 0; first < count; first += cols) {
    const std::size_t n = std::min(cols, count - first);
    rows.insert(rows.end(), x.begin() + long(first * P), x.begin() + long((first + n) * P));
    rows.insert(rows.end(), cols * P - n * P, 0.0f);
    rows.insert(rows.end(), y.begin() + long(first * P), y.begin() + long((first + n) * P));
    rows.insert(rows.end(), cols * P - n * P, 0.0f);
  }
  ctnn::io::grid_options g;
  g.cols = cols;
  g.range = ctnn::io::value_range{0.0f, 1.0f};
  return ctnn::io::image_grid(rows, rows.size() / P, 1, side, side, g);
}

std::optional<int> read_command_line(int argc, char** argv, options& o) {
  using ctnn_apps::add_flag_with_value;
  CLI::App app{"", "ctnn_spatial"};
  app.description(
      "Trains LeNet and LeNet behind a spatial transformer (STN-LeNet) on rotated and shifted Fashion-MNIST with "
      "the same recipe, and compares their test accuracy.");
  app.set_help_flag("-h,--help", "this text");
  auto number = [](const char* flag, const std::string& t, double lo, double hi) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || !(v >= lo && v <= hi))
      throw usage_error(std::string(flag) + ": must be a number from " + std::to_string(lo) + " to " +
                        std::to_string(hi));
    return v;
  };
  add_flag_with_value(app, "--data", "DIR", "the Fashion-MNIST directory (default " + o.data.string() + ")",
                      [&o](const std::string& t) { o.data = t; });
  add_flag_with_value(app, "--epochs", "N", "passes over the training set, 1 to 1000 (default 5)",
                      [&o](const std::string& t) {
                        o.epochs = parse_number<int>("--epochs", t);
                        if (o.epochs < 1 || o.epochs > 1000) throw usage_error("--epochs: must be 1 to 1000");
                      });
  add_flag_with_value(app, "--lr", "X", "Adam's learning rate, both networks (default 0.001)",
                      [&](const std::string& t) { o.lr = number("--lr", t, 1e-7, 0.5); });
  add_flag_with_value(app, "--loc-lr", "SHARE",
                      "the localization network's learning rate as a share of --lr (default 1: the same)",
                      [&](const std::string& t) { o.loc_lr = number("--loc-lr", t, 0, 10); });
  add_flag_with_value(app, "--angle", "DEGREES", "rotations drawn from ±DEGREES (default 45)",
                      [&](const std::string& t) { o.angle = number("--angle", t, 0, 180); });
  add_flag_with_value(app, "--shift", "PIXELS", "shifts drawn from ±PIXELS along each axis (default 3)",
                      [&](const std::string& t) { o.shift = number("--shift", t, 0, 14); });
  add_flag_with_value(app, "--limit", "N", "use only the first N training images (default all)",
                      [&o](const std::string& t) { o.limit = parse_number<std::size_t>("--limit", t); });
  add_flag_with_value(app, "--seed", "N", "initialization, shuffling and the training distortions (default 1)",
                      [&o](const std::string& t) { o.seed = parse_number<std::uint64_t>("--seed", t); });
  add_flag_with_value(app, "--threads", "N", "OpenMP threads (default: OpenMP's)",
                      [&o](const std::string& t) { o.threads = parse_number<int>("--threads", t); });
  add_flag_with_value(app, "--out", "DIR", "where the report, curves and picture go (default out_spatial)",
                      [&o](const std::string& t) { o.out = t; });
  ctnn_apps::add_switch(app, "--quiet", "no progress bar", o.quiet);
  if (auto status = ctnn_apps::parse_command_line(app, argc, argv)) return status;
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const auto status = read_command_line(argc, argv, o)) return *status;
#if defined(_OPENMP)
  if (o.threads > 0) omp_set_num_threads(o.threads);
#endif
  auto splits = ctnn_apps::load_fashion_mnist_splits("ctnn_spatial", o.data, o.limit, B);
  if (!splits) return 1;
  ctnn::io::dataset& train_set = splits->train;
  const ctnn::io::dataset& test = splits->test;
  if (!ctnn_apps::make_output_directory("ctnn_spatial", o.out)) return 1;
  namespace lenet = ctnn::models::lenet;
  namespace stn = ctnn::models::stn_lenet;
  std::vector<float> test_images;
  distort_all(test, o, test_distortion_seed, test_images);
  std::printf("distorted Fashion-MNIST: rotations within ±%g°, shifts within ±%g pixels; %zu training images "
              "(distorted afresh each epoch), %zu test images (distorted once)\n",
              o.angle, o.shift, train_set.count, test.count);
  std::printf("LeNet: %zu parameters; STN-LeNet: %zu (localization %zu), localization lr %g × %g\n",
              std::size_t(lenet::network::param_count), std::size_t(stn::network::param_count),
              std::size_t(stn::network::param_count - lenet::network::param_count), o.lr, o.loc_lr);

  nlohmann::json report = {
      {"app", "ctnn_spatial"},
      {"data", {{"directory", o.data.string()}, {"training", train_set.count}, {"test", test.count}}},
      {"distortion",
       {{"max_degrees", o.angle}, {"max_shift_pixels", o.shift}, {"canvas", side},
        {"test_seed", test_distortion_seed}, {"training", "drawn afresh each epoch from the seed and the epoch"}}},
      {"recipe", {{"optimizer", "adam"}, {"lr", o.lr}, {"localization_lr_share", o.loc_lr}, {"batch", B},
                  {"epochs", o.epochs}, {"seed", o.seed}, {"limit", o.limit}}},
      {"simd", ctnn::kernels::simd_name()}};
  try {
    ctnn::trainer<lenet::network, ctnn::batch<B>, ctnn::optim::adam> plain({.lr = float(o.lr)}, o.seed);
    const run_log plain_log = train(plain, "LeNet", o, train_set, test, test_images);

    ctnn::trainer<stn::network, ctnn::batch<B>, ctnn::optim::adam> stn_trainer({.lr = float(o.lr)}, o.seed);
    for (const char* layer : {"loc_conv1", "loc_conv2", "loc_fc1", "loc_fc2"}) stn_trainer.set_lr_multiplier(layer, o.loc_lr);
    const run_log stn_log = train(stn_trainer, "STN-LeNet", o, train_set, test, test_images);

    nlohmann::json pictures = nlohmann::json::array();
    const fs::path picture = o.out / "spatial_transformer.png";
    ctnn::io::write_png(picture, ctnn::io::enlarge(transformer_picture(stn_trainer.model(), test_images, 32, 16), 2));
    pictures.push_back(picture.filename().string());
    std::printf("wrote %s\n", picture.c_str());

    auto entry = [](const run_log& l, std::size_t params) {
      return nlohmann::json{{"parameters", params}, {"test_accuracy", l.accuracy}, {"training_seconds", l.seconds},
                            {"epochs", l.epochs}};
    };
    report["lenet"] = entry(plain_log, lenet::network::param_count);
    report["stn_lenet"] = entry(stn_log, stn::network::param_count);
    report["stn_minus_lenet_accuracy"] = stn_log.accuracy - plain_log.accuracy;
    report["pictures"] = pictures;
    std::ofstream(o.out / "report.json") << report.dump(2) << "\n";
    std::ofstream csv(o.out / "loss_curve.csv");
    csv << "step,lenet_loss,stn_lenet_loss\n";
    for (std::size_t k = 0; k < plain_log.curve.size(); ++k)
      csv << k + 1 << "," << plain_log.curve[k] << "," << stn_log.curve[k] << "\n";
    std::ofstream table(o.out / "epochs.csv");
    table << "epoch,lenet_train_loss,lenet_test_accuracy,lenet_seconds,stn_lenet_train_loss,stn_lenet_test_accuracy,"
             "stn_lenet_seconds\n";
    for (std::size_t e = 0; e < plain_log.epochs.size(); ++e) {
      const auto& a = plain_log.epochs[e];
      const auto& s = stn_log.epochs[e];
      table << e + 1 << "," << a["train_loss"].get<double>() << "," << a["test_accuracy"].get<double>() << ","
            << a["seconds"].get<double>() << "," << s["train_loss"].get<double>() << ","
            << s["test_accuracy"].get<double>() << "," << s["seconds"].get<double>() << "\n";
    }
    if (!csv || !table) throw std::runtime_error("cannot write the CSV files in " + o.out.string());
    std::printf("distorted test accuracy: LeNet %.4f, STN-LeNet %.4f\n", plain_log.accuracy, stn_log.accuracy);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nctnn_spatial: %s\n", e.what());
    return 1;
  }
  std::printf("report: %s\n", (o.out / "report.json").c_str());
  return 0;
}
