// ctnn_train: trains the DSL's MLP (dsl/models/mlp.hpp) on Fashion-MNIST and
// writes a report. Run with --help for the flags.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <ctnn/core/aligned_buffer.hpp>
#include <ctnn/io/idx.hpp>
#include <ctnn/kernels/simd.hpp>
#include <models/mlp.hpp>

#ifndef CTNN_CXX_FLAGS
#define CTNN_CXX_FLAGS "unknown"
#endif

namespace {

namespace fs = std::filesystem;
namespace mlp = ctnn::models::mlp;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t batch = 64;  // a template argument of the trainer, so not a flag
constexpr std::size_t classes = ctnn::io::fashion_mnist_classes;
using trainer_type = ctnn::trainer<mlp::network, ctnn::batch<batch>>;

struct options {
  int epochs = 10;
  std::uint64_t seed = 1;
  int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  float lr = 0.03f;
  fs::path data = ctnn::io::fashion_mnist_dir();
  fs::path out = "out";
  std::size_t limit = 0;  // 0: the whole training set
  bool quiet = false;
  bool help = false;
};

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void print_usage(std::FILE* f) {
  const options d;
  std::fprintf(f,
               "usage: ctnn_train [options]\n"
               "Trains a 784-256-128-10 MLP on Fashion-MNIST and writes a report.\n\n"
               "  --epochs N    epochs to train (default %d)\n"
               "  --seed S      seed for the weights and the shuffling (default %llu)\n"
               "  --threads T   OpenMP threads (default: hardware concurrency, %d here)\n"
               "  --lr X        initial learning rate of SGD with momentum 0.9 (default %g);\n"
               "                multiplied by 0.2 after 50%% and again after 80%% of the epochs\n"
               "  --data DIR    directory with the Fashion-MNIST .gz files\n"
               "                (default $CTNN_FASHION_MNIST_DIR or %s)\n"
               "  --out DIR     where report.json, loss_curve.csv, epochs.csv go (default %s)\n"
               "  --limit N     train on the first N training images only (N >= %zu)\n"
               "  --quiet       no network summary and no progress bar\n"
               "  --help        this text\n\n"
               "The batch size is fixed at compile time: %zu.\n",
               d.epochs, static_cast<unsigned long long>(d.seed), d.threads, double(d.lr),
               ctnn::io::default_fashion_mnist_dir.c_str(), d.out.c_str(), batch, batch);
}

template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error(std::string(flag) + ": '" + std::string(text) + "' is not a valid number");
  return value;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i], value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != arg.npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const auto next = [&]() -> std::string_view {
      if (has_value) return value;
      if (i + 1 >= argc) throw usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") o.help = true;
    else if (arg == "--quiet") o.quiet = true;
    else if (arg == "--epochs") o.epochs = parse_number<int>(arg, next());
    else if (arg == "--seed") o.seed = parse_number<std::uint64_t>(arg, next());
    else if (arg == "--threads") o.threads = parse_number<int>(arg, next());
    else if (arg == "--lr") o.lr = parse_number<float>(arg, next());
    else if (arg == "--limit") o.limit = parse_number<std::size_t>(arg, next());
    else if (arg == "--data") o.data = std::string(next());
    else if (arg == "--out") o.out = std::string(next());
    else throw usage_error("unknown option '" + std::string(argv[i]) + "'");
    if (has_value && (arg == "--help" || arg == "-h" || arg == "--quiet"))
      throw usage_error(std::string(arg) + " takes no value");
  }
  if (o.epochs < 1) throw usage_error("--epochs must be at least 1");
  if (o.threads < 1) throw usage_error("--threads must be at least 1");
  if (!(o.lr > 0.0f) || !std::isfinite(o.lr)) throw usage_error("--lr must be a positive number");
  if (o.limit != 0 && o.limit < batch)
    throw usage_error("--limit must be at least the batch size, " + std::to_string(batch));
  if (o.data.empty() || o.out.empty()) throw usage_error("--data and --out need a non-empty directory");
  return o;
}

// Step decay: ×0.2 after ceil(50%) and again after ceil(80%) of the epochs
// (from epochs 6 and 9 of 10). The initial rate makes fast progress but keeps
// bouncing around a minimum that smaller steps then settle into.
float learning_rate(const options& o, int epoch) {
  float lr = o.lr;
  if (o.epochs > 1 && epoch >= (o.epochs + 1) / 2) lr *= 0.2f;
  if (o.epochs > 2 && epoch >= (4 * o.epochs + 4) / 5) lr *= 0.2f;
  return lr;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// A redrawn bar on a terminal, a line per ~10% of the epoch otherwise (CI logs).
class progress {
 public:
  progress(bool quiet, int epochs, std::size_t batches)
      : enabled_(!quiet), tty_(isatty(fileno(stderr)) != 0), epochs_(epochs), batches_(batches) {}

  void start_epoch() { start_ = last_draw_ = clock_type::now(); }

  void update(int epoch, std::size_t done, double mean_loss) {
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

  void clear() {
    if (enabled_ && tty_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool enabled_, tty_;
  int epochs_;
  std::size_t batches_;
  clock_type::time_point start_, last_draw_;
};

struct training_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Allocated once for the whole run, so that training allocates nothing per step.
struct batch_buffers {
  explicit batch_buffers(std::size_t features, std::size_t count)
      : images(batch * features), padded(batch * features), order(count) {}
  ctnn::aligned_buffer<float> images, padded;
  std::array<std::uint8_t, batch> labels{};
  std::vector<std::uint32_t> order;
};

// One pass over a shuffled training set; appends each step's loss and returns their mean.
double run_epoch(trainer_type& trainer, const ctnn::io::dataset& train, const options& o, int epoch,
                 batch_buffers& buf, progress& bar, std::vector<float>& losses) {
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
    float loss = 0;
    try {
      loss = trainer.step(buf.images.data(), buf.labels.data());
    } catch (const std::runtime_error& e) {
      bar.clear();
      throw training_error("epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(b + 1) + "/" +
                           std::to_string(batches) + ": " + e.what());
    }
    losses.push_back(loss);
    sum += loss;
    bar.update(epoch, b + 1, sum / double(b + 1));
  }
  bar.clear();
  return sum / double(batches);
}

// Fraction of the test set classified correctly; the last partial batch is padded.
double evaluate(trainer_type& trainer, const ctnn::io::dataset& test, ctnn::aligned_buffer<float>& padded) {
  std::size_t correct = 0;
  for (std::size_t first = 0; first < test.count; first += batch) {
    const std::size_t n = std::min(batch, test.count - first);
    const float* images = test.images.data() + first * test.features;
    if (n < batch) {
      std::fill_n(padded.data(), padded.size(), 0.0f);
      std::copy_n(images, n * test.features, padded.data());
      images = padded.data();
    }
    const std::span<const float> logits = trainer.predict(images);
    for (std::size_t k = 0; k < n; ++k) {
      const float* row = logits.data() + k * classes;
      correct += std::size_t(std::max_element(row, row + classes) - row) == test.labels[first + k];
    }
  }
  return double(correct) / double(test.count);
}

const char* compiler_id() {
#if defined(__clang__)
  return "clang++";
#elif defined(__GNUC__)
  return "g++";
#else
  return "unknown";
#endif
}

// Shortest text that reads back as the same value (so 0.05f prints as 0.05).
template <class T>
std::string num(T v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  return {buf, std::to_chars(buf, buf + sizeof buf, v).ptr};
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += {'\\', c};
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  return out + '"';
}

struct epoch_result {
  double train_loss, accuracy, seconds;
  float lr;
};

template <class F>
std::string json_array(const std::vector<epoch_result>& r, F field) {
  std::string s = "[";
  for (std::size_t i = 0; i < r.size(); ++i) s += (i ? ", " : "") + num(field(r[i]));
  return s + "]";
}

void write_report(const options& o, const std::vector<epoch_result>& epochs, const std::vector<float>& losses,
                  std::size_t steps_per_epoch, double seconds, double images_per_second) {
  double best = 0;
  for (const auto& e : epochs) best = std::max(best, e.accuracy);
  std::ofstream json(o.out / "report.json");
  json << "{\n"
       << "  \"accuracy\": " << num(epochs.back().accuracy) << ",\n"
       << "  \"best_accuracy\": " << num(best) << ",\n"
       << "  \"epochs\": " << epochs.size() << ",\n"
       << "  \"seconds\": " << num(seconds) << ",\n"
       << "  \"images_per_second\": " << num(images_per_second) << ",\n"
       << "  \"train_loss\": " << json_array(epochs, [](auto& e) { return e.train_loss; }) << ",\n"
       << "  \"test_accuracy\": " << json_array(epochs, [](auto& e) { return e.accuracy; }) << ",\n"
       << "  \"epoch_seconds\": " << json_array(epochs, [](auto& e) { return e.seconds; }) << ",\n"
       << "  \"lr_per_epoch\": " << json_array(epochs, [](auto& e) { return e.lr; }) << ",\n"
       << "  \"batch\": " << batch << ",\n"
       << "  \"lr\": " << num(o.lr) << ",\n"
       << "  \"momentum\": 0.9,\n"
       << "  \"seed\": " << o.seed << ",\n"
       << "  \"threads\": " << o.threads << ",\n"
       << "  \"simd\": " << quoted(ctnn::kernels::simd_name()) << ",\n"
       << "  \"compiler\": " << quoted(std::string(compiler_id()) + " " + __VERSION__) << ",\n"
       << "  \"flags\": " << quoted(CTNN_CXX_FLAGS) << ",\n"
       << "  \"param_count\": " << mlp::network::param_count << "\n"
       << "}\n";
  std::ofstream curve(o.out / "loss_curve.csv");
  curve << "epoch,step,loss\n";  // every step; step counts from 1 over the whole run
  for (std::size_t s = 0; s < losses.size(); ++s)
    curve << s / steps_per_epoch + 1 << ',' << s + 1 << ',' << num(losses[s]) << '\n';
  std::ofstream table(o.out / "epochs.csv");
  table << "epoch,train_loss,test_accuracy,seconds\n";
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    const epoch_result& r = epochs[e];
    table << e + 1 << ',' << num(r.train_loss) << ',' << num(r.accuracy) << ',' << num(r.seconds) << '\n';
  }
  if (!json || !curve || !table)
    throw std::runtime_error("cannot write the report to '" + o.out.string() + "'");
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    o = parse_args(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "ctnn_train: %s\n\n", e.what());
    print_usage(stderr);
    return 2;
  }
  if (o.help) {
    print_usage(stdout);
    return 0;
  }
  omp_set_num_threads(o.threads);

  if (!o.quiet) std::printf("%s\n", ctnn::summary<mlp::network>().c_str());
  std::printf("simd: %s, threads: %d, batch: %zu, lr: %g, seed: %llu\n", ctnn::kernels::simd_name(), o.threads,
              batch, double(o.lr), static_cast<unsigned long long>(o.seed));

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
  const std::size_t count = o.limit ? std::min(o.limit, train.count) : train.count;
  const std::size_t steps = count / batch;
  std::printf("data: %zu training images (%zu batches per epoch), %zu test images, from %s\n", count, steps,
              test.count, o.data.c_str());
  std::fflush(stdout);

  try {
    fs::create_directories(o.out);  // fail now rather than after training
  } catch (const fs::filesystem_error& e) {
    std::fprintf(stderr, "ctnn_train: cannot create the output directory: %s\n", e.what());
    return 1;
  }

  trainer_type trainer(ctnn::optim::sgd{.lr = o.lr, .momentum = 0.9f}, o.seed);
  batch_buffers buffers(train.features, count);
  progress bar(o.quiet, o.epochs, steps);
  std::vector<epoch_result> epochs;
  std::vector<float> losses;
  losses.reserve(steps * std::size_t(o.epochs));
  double train_seconds = 0;
  try {
    for (int e = 0; e < o.epochs; ++e) {
      trainer.optimizer().lr = learning_rate(o, e);
      const auto start = clock_type::now();
      const double loss = run_epoch(trainer, train, o, e, buffers, bar, losses);
      const double seconds = seconds_since(start);
      train_seconds += seconds;
      const auto eval_start = clock_type::now();
      const double accuracy = evaluate(trainer, test, buffers.padded);
      epochs.push_back({loss, accuracy, seconds, trainer.optimizer().lr});
      std::printf("epoch %2d/%d  lr %.4g  train loss %.4f  test accuracy %.4f  %.2f s (eval %.2f s)\n", e + 1,
                  o.epochs, double(trainer.optimizer().lr), loss, accuracy, seconds, seconds_since(eval_start));
      std::fflush(stdout);
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
  std::printf("training: %d epochs in %.2f s, %.0f images/s (threads: %d, simd: %s)\n", o.epochs, train_seconds,
              images_per_second, o.threads, ctnn::kernels::simd_name());
  std::printf("compiler: %s %s, flags: %s\n", compiler_id(), __VERSION__, CTNN_CXX_FLAGS);
  try {
    write_report(o, epochs, losses, steps, train_seconds, images_per_second);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_train: %s\n", e.what());
    return 1;
  }
  std::printf("report: %s\n", (o.out / "report.json").c_str());
  return 0;
}
