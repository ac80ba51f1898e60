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
#include <ctnn/train/adaptive_threads.hpp>
#include <ctnn/train/checkpoint.hpp>
#include <ctnn/train/lr_multipliers.hpp>
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
constexpr std::size_t train_eval_images = 10'000;  // training accuracy: on the first 10,000 images

enum class optimizer_kind { sgd, nesterov, adam, rmsprop, adagrad };
enum class schedule_kind { step, cosine, exponential, none };
// Drop probabilities compiled in: each is a network type of its own.
constexpr std::array<float, 5> dropout_rates{0.0f, 0.1f, 0.2f, 0.3f, 0.5f};

// The default initial learning rate of each optimizer.
float default_lr(optimizer_kind k) {
  switch (k) {
    case optimizer_kind::sgd:
    case optimizer_kind::nesterov: return 0.03f;
    case optimizer_kind::adagrad: return 0.01f;
    case optimizer_kind::adam:
    case optimizer_kind::rmsprop: break;
  }
  return 1e-3f;
}

struct options {
  int epochs = 10;
  std::uint64_t seed = 1;
  int threads = 0;  // 0: measured, between 1 and the hardware's threads
  int max_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  float lr = 0.0f;  // 0: the optimizer's default
  optimizer_kind optimizer = optimizer_kind::sgd;
  std::string optimizer_name = "sgd";
  float momentum = 0.9f;
  schedule_kind schedule = schedule_kind::step;
  std::string schedule_name = "step";
  std::size_t warmup = 0;  // steps of linear warm-up
  ctnn::training_options training{};
  float dropout = 0.0f;
  bool batch_norm = false;
  fs::path checkpoint, init_from;
  std::vector<std::string> freeze;
  fs::path data = ctnn::io::fashion_mnist_dir();
  fs::path out = "out";
  std::size_t limit = 0;  // 0: the whole training set
  bool quiet = false;
  bool help = false;
};

// The optimizer chosen at run time: one trainer type serves all five (two
// state buffers, of which SGD, Nesterov, RMSProp and AdaGrad use the first).
struct any_optimizer {
  optimizer_kind kind = optimizer_kind::sgd;
  float lr = 0.01f;
  float momentum = 0.9f;
  ctnn::optim::adam adam{};  // keeps its step count

  static constexpr std::size_t state_buffers = 2;

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* state) {
    switch (kind) {
      case optimizer_kind::sgd: ctnn::optim::sgd{.lr = lr, .momentum = momentum}.update<N>(w, g, state); break;
      case optimizer_kind::nesterov:
        ctnn::optim::nesterov{.lr = lr, .momentum = momentum}.update<N>(w, g, state);
        break;
      case optimizer_kind::adagrad: ctnn::optim::adagrad{.lr = lr}.update<N>(w, g, state); break;
      case optimizer_kind::rmsprop: ctnn::optim::rmsprop{.lr = lr}.update<N>(w, g, state); break;
      case optimizer_kind::adam:
        adam.lr = lr;
        adam.update<N>(w, g, state);
        break;
    }
  }
};

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void print_usage(std::FILE* f) {
  const options d;
  std::fprintf(f,
               "usage: ctnn_train [options]\n"
               "Trains a 784-256-128-10 MLP on Fashion-MNIST and writes a report and its curves.\n\n"
               "  --epochs N        epochs to train (default %d)\n"
               "  --seed S          seed for the weights, the dropout masks and the shuffling (default %llu)\n"
               "  --threads T|auto  OpenMP threads for training steps (default auto: measured every 1000\n"
               "                    steps, 1 or the hardware's %d, whichever steps faster; a core another\n"
               "                    process keeps busy makes two threads many times slower)\n"
               "  --optimizer NAME  sgd | nesterov | adam | rmsprop | adagrad (default %s)\n"
               "  --lr X            initial learning rate (default: 0.03 for sgd and nesterov,\n"
               "                    1e-3 for adam and rmsprop, 0.01 for adagrad)\n"
               "  --momentum M      momentum of sgd and nesterov (default %g)\n"
               "  --schedule NAME   step: x0.2 after 50%% and again after 80%% of the epochs (default);\n"
               "                    cosine: cosine decay to 0 over the run, per step;\n"
               "                    exponential: lr * exp(-k*step) falling to lr/100 at the end;\n"
               "                    none: constant\n"
               "  --warmup N        linear warm-up over the first N steps (default 0)\n"
               "  --l2 X            L2 penalty on the weights, g += X*w (default 0)\n"
               "  --l1 X            L1 penalty on the weights, g += X*sign(w) (default 0)\n"
               "  --max-norm C      clamp each unit's incoming weight vector to norm C (default 0: off)\n"
               "  --dropout P       dropout after each hidden ReLU, P one of 0, 0.1, 0.2, 0.3, 0.5\n"
               "                    (compiled in; default 0)\n"
               "  --batch-norm      batch normalization after fc1 and fc2 (layers bn1, bn2)\n"
               "  --init-from FILE  load the parameters a checkpoint (.npz) shares with this network\n"
               "                    by name before training (shapes must match)\n"
               "  --freeze NAMES    comma-separated parameters or layers not to train, e.g. fc1,bn1\n"
               "  --checkpoint FILE save every parameter and the running statistics (.npz) at the end\n"
               "  --data DIR        directory with the Fashion-MNIST .gz files\n"
               "                    (default $CTNN_FASHION_MNIST_DIR or %s)\n"
               "  --out DIR         where report.json, loss_curve.csv, epochs.csv go (default %s)\n"
               "  --limit N         train on the first N training images only (N >= %zu)\n"
               "  --quiet           no network summary and no progress bar\n"
               "  --help            this text\n\n"
               "The batch size is fixed at compile time: %zu.\n",
               d.epochs, static_cast<unsigned long long>(d.seed), d.max_threads, d.optimizer_name.c_str(),
               double(d.momentum), ctnn::io::default_fashion_mnist_dir.c_str(), d.out.c_str(), batch, batch);
}

template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error(std::string(flag) + ": '" + std::string(text) + "' is not a valid number");
  return value;
}

float parse_nonnegative(std::string_view flag, std::string_view text) {
  const float v = parse_number<float>(flag, text);
  if (!(v >= 0.0f) || !std::isfinite(v))
    throw usage_error(std::string(flag) + " must be a finite number >= 0, not '" + std::string(text) + "'");
  return v;
}

optimizer_kind parse_optimizer(std::string_view text) {
  if (text == "sgd") return optimizer_kind::sgd;
  if (text == "nesterov") return optimizer_kind::nesterov;
  if (text == "adam") return optimizer_kind::adam;
  if (text == "rmsprop") return optimizer_kind::rmsprop;
  if (text == "adagrad") return optimizer_kind::adagrad;
  throw usage_error("--optimizer: '" + std::string(text) + "' is not one of sgd, nesterov, adam, rmsprop, adagrad");
}

schedule_kind parse_schedule(std::string_view text) {
  if (text == "step") return schedule_kind::step;
  if (text == "cosine") return schedule_kind::cosine;
  if (text == "exponential") return schedule_kind::exponential;
  if (text == "none") return schedule_kind::none;
  throw usage_error("--schedule: '" + std::string(text) + "' is not one of step, cosine, exponential, none");
}

float parse_dropout(std::string_view text) {
  const float p = parse_number<float>("--dropout", text);
  for (float r : dropout_rates)
    if (std::abs(p - r) < 1e-6f) return r;
  throw usage_error("--dropout: " + std::string(text) +
                    " is not a compiled-in drop probability (one of 0, 0.1, 0.2, 0.3, 0.5)");
}

std::vector<std::string> split_names(std::string_view flag, const std::string_view all) {
  std::vector<std::string> names;
  std::string_view text = all;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    if (name.empty()) throw usage_error(std::string(flag) + ": empty name in '" + std::string(all) + "'");
    names.emplace_back(name);
    if (comma == text.npos) break;
    text.remove_prefix(comma + 1);
  }
  return names;
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
    const bool is_switch = arg == "--help" || arg == "-h" || arg == "--quiet" || arg == "--batch-norm";
    if (has_value && is_switch) throw usage_error(std::string(arg) + " takes no value");
    if (arg == "--help" || arg == "-h") o.help = true;
    else if (arg == "--quiet") o.quiet = true;
    else if (arg == "--batch-norm") o.batch_norm = true;
    else if (arg == "--epochs") o.epochs = parse_number<int>(arg, next());
    else if (arg == "--seed") o.seed = parse_number<std::uint64_t>(arg, next());
    else if (arg == "--threads") {
      const std::string_view t = next();
      o.threads = t == "auto" ? 0 : parse_number<int>(arg, t);
      if (o.threads < 1 && t != "auto") throw usage_error("--threads must be at least 1, or auto");
    }
    else if (arg == "--lr") {
      o.lr = parse_number<float>(arg, next());
      if (!(o.lr > 0.0f) || !std::isfinite(o.lr)) throw usage_error("--lr must be a positive number");
    } else if (arg == "--optimizer") {
      o.optimizer_name = std::string(next());
      o.optimizer = parse_optimizer(o.optimizer_name);
    } else if (arg == "--momentum") {
      o.momentum = parse_nonnegative(arg, next());
      if (!(o.momentum < 1.0f)) throw usage_error("--momentum must lie in [0, 1)");
    } else if (arg == "--schedule") {
      o.schedule_name = std::string(next());
      o.schedule = parse_schedule(o.schedule_name);
    } else if (arg == "--warmup") o.warmup = parse_number<std::size_t>(arg, next());
    else if (arg == "--l2") o.training.l2 = parse_nonnegative(arg, next());
    else if (arg == "--l1") o.training.l1 = parse_nonnegative(arg, next());
    else if (arg == "--max-norm") o.training.max_norm = parse_nonnegative(arg, next());
    else if (arg == "--dropout") o.dropout = parse_dropout(next());
    else if (arg == "--checkpoint" || arg == "--init-from") {
      const std::string_view file = next();
      if (file.empty()) throw usage_error(std::string(arg) + " needs a non-empty file name");
      (arg == "--checkpoint" ? o.checkpoint : o.init_from) = std::string(file);
    }
    else if (arg == "--freeze") o.freeze = split_names(arg, next());
    else if (arg == "--limit") o.limit = parse_number<std::size_t>(arg, next());
    else if (arg == "--data") o.data = std::string(next());
    else if (arg == "--out") o.out = std::string(next());
    else throw usage_error("unknown option '" + std::string(argv[i]) + "'");
  }
  if (o.epochs < 1) throw usage_error("--epochs must be at least 1");
  if (o.lr == 0.0f) o.lr = default_lr(o.optimizer);
  if (o.limit != 0 && o.limit < batch)
    throw usage_error("--limit must be at least the batch size, " + std::to_string(batch));
  if (o.data.empty() || o.out.empty()) throw usage_error("--data and --out need a non-empty directory");
  return o;
}

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
      loss = threads.run([&] { return trainer.step(buf.images.data(), buf.labels.data()); });
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
    const std::span<const float> logits = trainer.predict(images);
    for (std::size_t k = 0; k < n; ++k) {
      const float* row = logits.data() + k * classes;
      correct += std::size_t(std::max_element(row, row + classes) - row) == data.labels[first + k];
    }
  }
  return double(correct) / double(count);
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

std::string json_string(std::string_view s) {
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

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s = "[";
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + json_string(names[i]);
  return s + "]";
}

std::string threads_text(const options& o) {
  return o.threads == 0 ? "auto (1 or " + std::to_string(o.max_threads) + ")" : std::to_string(o.threads);
}

struct epoch_result {
  double train_loss, train_accuracy, accuracy, seconds;
  float lr;
  int threads;  // the team size the epoch ended with
};

template <class F>
std::string json_array(const std::vector<epoch_result>& r, F field) {
  std::string s = "[";
  for (std::size_t i = 0; i < r.size(); ++i) s += (i ? ", " : "") + num(field(r[i]));
  return s + "]";
}

struct run_summary {
  std::size_t param_count;
  std::vector<std::string> loaded;  // from --init-from
};

void write_report(const options& o, const run_summary& run, const std::vector<epoch_result>& epochs,
                  const std::vector<float>& losses, const std::vector<float>& rates, std::size_t steps_per_epoch,
                  double seconds, double images_per_second) {
  double best = 0;
  for (const auto& e : epochs) best = std::max(best, e.accuracy);
  const bool momentum = o.optimizer == optimizer_kind::sgd || o.optimizer == optimizer_kind::nesterov;
  std::ofstream json(o.out / "report.json");
  json << "{\n"
       << "  \"accuracy\": " << num(epochs.back().accuracy) << ",\n"
       << "  \"best_accuracy\": " << num(best) << ",\n"
       << "  \"epochs\": " << epochs.size() << ",\n"
       << "  \"seconds\": " << num(seconds) << ",\n"
       << "  \"images_per_second\": " << num(images_per_second) << ",\n"
       << "  \"train_loss\": " << json_array(epochs, [](auto& e) { return e.train_loss; }) << ",\n"
       << "  \"train_accuracy\": " << json_array(epochs, [](auto& e) { return e.train_accuracy; }) << ",\n"
       << "  \"test_accuracy\": " << json_array(epochs, [](auto& e) { return e.accuracy; }) << ",\n"
       << "  \"epoch_seconds\": " << json_array(epochs, [](auto& e) { return e.seconds; }) << ",\n"
       << "  \"lr_per_epoch\": " << json_array(epochs, [](auto& e) { return e.lr; }) << ",\n"
       << "  \"batch\": " << batch << ",\n"
       << "  \"optimizer\": " << json_string(o.optimizer_name) << ",\n"
       << "  \"lr\": " << num(o.lr) << ",\n"
       << "  \"momentum\": " << (momentum ? num(o.momentum) : "null") << ",\n"
       << "  \"schedule\": " << json_string(o.schedule_name) << ",\n"
       << "  \"warmup\": " << o.warmup << ",\n"
       << "  \"l2\": " << num(o.training.l2) << ",\n"
       << "  \"l1\": " << num(o.training.l1) << ",\n"
       << "  \"max_norm\": " << num(o.training.max_norm) << ",\n"
       << "  \"dropout\": " << num(o.dropout) << ",\n"
       << "  \"batch_norm\": " << (o.batch_norm ? "true" : "false") << ",\n"
       << "  \"init_from\": " << (o.init_from.empty() ? "null" : json_string(o.init_from.string())) << ",\n"
       << "  \"loaded\": " << quoted_list(run.loaded) << ",\n"
       << "  \"frozen\": " << quoted_list(o.freeze) << ",\n"
       << "  \"checkpoint\": " << (o.checkpoint.empty() ? "null" : json_string(o.checkpoint.string())) << ",\n"
       << "  \"seed\": " << o.seed << ",\n"
       << "  \"threads\": " << (o.threads == 0 ? std::string("\"auto\"") : std::to_string(o.threads)) << ",\n"
       << "  \"threads_per_epoch\": " << json_array(epochs, [](auto& e) { return e.threads; }) << ",\n"
       << "  \"simd\": " << json_string(ctnn::kernels::simd_name()) << ",\n"
       << "  \"compiler\": " << json_string(std::string(compiler_id()) + " " + __VERSION__) << ",\n"
       << "  \"flags\": " << json_string(CTNN_CXX_FLAGS) << ",\n"
       << "  \"param_count\": " << run.param_count << "\n"
       << "}\n";
  std::ofstream curve(o.out / "loss_curve.csv");
  curve << "epoch,step,loss,lr\n";  // every step; step counts from 1 over the whole run
  for (std::size_t s = 0; s < losses.size(); ++s)
    curve << s / steps_per_epoch + 1 << ',' << s + 1 << ',' << num(losses[s]) << ',' << num(rates[s]) << '\n';
  std::ofstream table(o.out / "epochs.csv");
  table << "epoch,train_loss,test_accuracy,seconds,train_accuracy,lr\n";
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    const epoch_result& r = epochs[e];
    table << e + 1 << ',' << num(r.train_loss) << ',' << num(r.accuracy) << ',' << num(r.seconds) << ','
          << num(r.train_accuracy) << ',' << num(r.lr) << '\n';
  }
  if (!json || !curve || !table)
    throw std::runtime_error("cannot write the report to '" + o.out.string() + "'");
}

// Training and the report for one of the compiled network types.
template <class Net>
int run(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  using trainer_type = ctnn::trainer<Net, ctnn::batch<batch>, any_optimizer>;
  if (!o.quiet) std::printf("%s\n", ctnn::summary<Net>().c_str());
  const std::size_t count = o.limit ? std::min(o.limit, train.count) : train.count;
  const std::size_t steps = count / batch;
  const std::size_t total_steps = steps * std::size_t(o.epochs);
  std::printf("data: %zu training images (%zu batches per epoch), %zu test images, from %s\n", count, steps,
              test.count, o.data.c_str());

  ctnn::adaptive_threads threads =
      o.threads == 0 ? ctnn::adaptive_threads(o.max_threads) : ctnn::adaptive_threads::fixed(o.threads);
  trainer_type trainer(any_optimizer{.kind = o.optimizer, .lr = o.lr, .momentum = o.momentum}, o.seed, o.training);
  run_summary summary{Net::param_count, {}};
  try {
    if (!o.init_from.empty()) {
      summary.loaded = ctnn::load_shared_parameters(o.init_from, trainer.model());
      std::string list;
      for (const std::string& n : summary.loaded) list += (list.empty() ? "" : ", ") + n;
      std::printf("init: %zu tensors from %s: %s\n", summary.loaded.size(), o.init_from.c_str(),
                  list.empty() ? "(none shared)" : list.c_str());
    }
    if (!o.freeze.empty()) {
      trainer.freeze(o.freeze);
      std::string list;
      for (const std::string& n : trainer.frozen_parameters()) list += (list.empty() ? "" : ", ") + n;
      std::printf("frozen: %s\n", list.c_str());
    }
  } catch (const std::invalid_argument& e) {  // a name --freeze does not know: a usage error
    std::fprintf(stderr, "ctnn_train: --freeze: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {  // --init-from: missing, corrupt, or a shape that differs
    std::fprintf(stderr, "ctnn_train: --init-from: %s\n", e.what());
    return 1;
  }
  std::fflush(stdout);

  batch_buffers buffers(train.features, count);
  progress bar(o.quiet, o.epochs, steps);
  std::vector<epoch_result> epochs;
  std::vector<float> losses, rates;
  losses.reserve(total_steps);
  rates.reserve(total_steps);
  double train_seconds = 0;
  try {
    for (int e = 0; e < o.epochs; ++e) {
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
  std::printf("training: %d epochs in %.2f s, %.0f images/s (threads: %s, simd: %s)\n", o.epochs, train_seconds,
              images_per_second, threads_text(o).c_str(), ctnn::kernels::simd_name());
  std::printf("compiler: %s %s, flags: %s\n", compiler_id(), __VERSION__, CTNN_CXX_FLAGS);
  try {
    write_report(o, summary, epochs, losses, rates, steps, train_seconds, images_per_second);
    if (!o.checkpoint.empty()) {
      ctnn::save_checkpoint(o.checkpoint, trainer.model());
      std::printf("checkpoint: %s\n", o.checkpoint.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_train: %s\n", e.what());
    return 1;
  }
  std::printf("report: %s\n", (o.out / "report.json").c_str());
  return 0;
}

template <bool BatchNorm>
int run_variant(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  if (o.dropout == 0.1f) return run<typename mlp::variant<BatchNorm, 0.1>::network>(o, train, test);
  if (o.dropout == 0.2f) return run<typename mlp::variant<BatchNorm, 0.2>::network>(o, train, test);
  if (o.dropout == 0.3f) return run<typename mlp::variant<BatchNorm, 0.3>::network>(o, train, test);
  if (o.dropout == 0.5f) return run<typename mlp::variant<BatchNorm, 0.5>::network>(o, train, test);
  if constexpr (BatchNorm) return run<mlp::mlp_bn>(o, train, test);
  else return run<mlp::network>(o, train, test);
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
  std::printf("simd: %s, threads: %s, batch: %zu, optimizer: %s, lr: %g, schedule: %s, seed: %llu\n",
              ctnn::kernels::simd_name(), threads_text(o).c_str(), batch, o.optimizer_name.c_str(), double(o.lr),
              o.schedule_name.c_str(), static_cast<unsigned long long>(o.seed));
  std::printf("network: mlp%s%s\n", o.batch_norm ? ", batch norm" : "",
              o.dropout > 0.0f ? (", dropout " + num(o.dropout)).c_str() : "");

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
  try {
    fs::create_directories(o.out);  // fail now rather than after training
  } catch (const fs::filesystem_error& e) {
    std::fprintf(stderr, "ctnn_train: cannot create the output directory: %s\n", e.what());
    return 1;
  }
  return o.batch_norm ? run_variant<true>(o, train, test) : run_variant<false>(o, train, test);
}
