// ctnn_train: trains LeNet (dsl/models/lenet.hpp, the default), LeNet with a
// side classifier (lenet_aux.hpp) or the MLP (dsl/models/mlp.hpp) on
// Fashion-MNIST and writes a report. Run with --help for the flags. This file
// parses the flags and writes the report; the networks are trained in
// train_lenet.cpp, train_lenet_aux.cpp, train_mlp.cpp and train_mlp_bn.cpp.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "command_line.hpp"
#include <ctnn/io/idx.hpp>
#include <ctnn/kernels/simd.hpp>
#include <ctnn/train/schedule.hpp>

#include "train_app.hpp"

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

static std::string json_string(std::string_view s) {
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

static std::string quoted_list(const std::vector<std::string>& names) {
  std::string s = "[";
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + json_string(names[i]);
  return s + "]";
}

std::string threads_text(const options& o) {
  return o.threads == 0 ? "auto (1 or " + std::to_string(o.max_threads) + ")" : std::to_string(o.threads);
}

template <class F>
static std::string json_array(const std::vector<epoch_result>& r, F field) {
  std::string s = "[";
  for (std::size_t i = 0; i < r.size(); ++i) s += (i ? ", " : "") + num(field(r[i]));
  return s + "]";
}

void write_report(const options& o, const run_summary& run, const std::vector<epoch_result>& epochs,
                  const std::vector<float>& losses, const std::vector<float>& rates, std::size_t steps_per_epoch,
                  double seconds, double images_per_second) {
  double best = 0;
  for (const auto& e : epochs) best = std::max(best, e.accuracy);
  const bool momentum = o.optimizer == optimizer_kind::sgd || o.optimizer == optimizer_kind::nesterov;
  std::ofstream json(o.out / "report.json");
  json << "{\n"
       << "  \"model\": " << json_string(o.model_name) << ",\n"
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
       << "  \"flags\": " << json_string(cxx_flags()) << ",\n"
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

}  // namespace train_app

namespace {

using namespace train_app;

// The default initial learning rate of each optimizer. SGD and Nesterov start
// lower on LeNet: at 0.03 its loss overflows within a few batches.
float default_lr(model_kind m, optimizer_kind k) {
  switch (k) {
    case optimizer_kind::sgd:
    case optimizer_kind::nesterov: return m == model_kind::mlp ? 0.03f : 0.01f;
    case optimizer_kind::adagrad: return 0.01f;
    case optimizer_kind::adam:
    case optimizer_kind::rmsprop: break;
  }
  return 1e-3f;
}

// What a model trains with when the flags do not say: LeNet reaches 0.90 test
// accuracy within its 5 epochs with Adam and cosine decay (docs/guide.md,
// section 4); the MLP keeps SGD with momentum and step decay over 10 epochs.
struct model_defaults {
  int epochs;
  const char* optimizer;
  const char* schedule;
};

model_defaults defaults_of(model_kind m) {
  if (m != model_kind::mlp) return {5, "adam", "cosine"};  // LeNet, with or without its side classifier
  return {10, "sgd", "step"};
}

using ctnn_apps::usage_error;

void print_usage(std::FILE* f) {
  const options d;
  const model_defaults lenet = defaults_of(model_kind::lenet), mlp = defaults_of(model_kind::mlp);
  std::fprintf(f,
               "usage: ctnn_train [options]\n"
               "Trains LeNet or an MLP on Fashion-MNIST and writes a report and its curves.\n\n"
               "  --model NAME      lenet: Caffe's LeNet, conv 20 5x5, pool 2, conv 50 5x5, pool 2,\n"
               "                    ip 500 + ReLU, ip 10, on the image as [1, 28, 28] (default);\n"
               "                    lenet_aux: LeNet plus a side classifier ip1_side on pool1, loss\n"
               "                    L + 0.3 l1 (deep supervision; the weight is compiled in);\n"
               "                    mlp: 784-256-128-10 with ReLU\n"
               "  --epochs N        epochs to train (default %d for lenet, %d for mlp)\n"
               "  --seed S          seed for the weights, the dropout masks and the shuffling (default %llu)\n"
               "  --threads T|auto  OpenMP threads for training steps (default auto: measured every 1000\n"
               "                    steps, 1 or the hardware's %d, whichever steps faster; a core another\n"
               "                    process keeps busy makes two threads many times slower)\n"
               "  --optimizer NAME  sgd | nesterov | adam | rmsprop | adagrad (default %s for lenet,\n"
               "                    %s for mlp)\n"
               "  --lr X            initial learning rate (default: 0.03 for sgd and nesterov, 0.01\n"
               "                    with lenet; 1e-3 for adam and rmsprop, 0.01 for adagrad)\n"
               "  --momentum M      momentum of sgd and nesterov (default %g)\n"
               "  --schedule NAME   step: x0.2 after 50%% and again after 80%% of the epochs;\n"
               "                    cosine: cosine decay to 0 over the run, per step;\n"
               "                    exponential: lr * exp(-k*step) falling to lr/100 at the end;\n"
               "                    none: constant (default %s for lenet, %s for mlp)\n"
               "  --warmup N        linear warm-up over the first N steps (default 0)\n"
               "  --l2 X            L2 penalty on the weights, g += X*w (default 0)\n"
               "  --l1 X            L1 penalty on the weights, g += X*sign(w) (default 0)\n"
               "  --max-norm C      clamp each unit's incoming weight vector to norm C (default 0: off)\n"
               "  --dropout P       mlp only: dropout after each hidden ReLU, P one of 0, 0.1, 0.2, 0.3,\n"
               "                    0.5 (compiled in; default 0)\n"
               "  --batch-norm      batch normalization after fc1 and fc2 (mlp) or conv1 and conv2 (lenet) (layers bn1, bn2)\n"
               "  --init-from FILE  load the parameters a checkpoint (.npz) shares with this network\n"
               "                    by name before training (shapes must match)\n"
               "  --freeze NAMES    comma-separated parameters or layers not to train, e.g. conv1 or fc1,bn1\n"
               "  --checkpoint FILE save every parameter and the running statistics (.npz) at the end\n"
               "  --data DIR        directory with the Fashion-MNIST .gz files\n"
               "                    (default $CTNN_FASHION_MNIST_DIR or %s)\n"
               "  --out DIR         where report.json, loss_curve.csv, epochs.csv go (default %s)\n"
               "  --limit N         train on the first N training images only (N >= %zu)\n"
               "  --quiet           no network summary and no progress bar\n"
               "  --help            this text\n\n"
               "The batch size is fixed at compile time: %zu.\n",
               lenet.epochs, mlp.epochs, static_cast<unsigned long long>(d.seed), d.max_threads, lenet.optimizer,
               mlp.optimizer, double(d.momentum), lenet.schedule, mlp.schedule,
               ctnn::io::default_fashion_mnist_dir.c_str(), d.out.c_str(), batch, batch);
}

using ctnn_apps::parse_number;

float parse_nonnegative(std::string_view flag, std::string_view text) {
  const float v = parse_number<float>(flag, text);
  if (!(v >= 0.0f) || !std::isfinite(v))
    throw usage_error(std::string(flag) + " must be a finite number >= 0, not '" + std::string(text) + "'");
  return v;
}

model_kind parse_model(std::string_view text) {
  if (text == "lenet") return model_kind::lenet;
  if (text == "lenet_aux") return model_kind::lenet_aux;
  if (text == "mlp") return model_kind::mlp;
  throw usage_error("--model: '" + std::string(text) + "' is not one of lenet, lenet_aux, mlp");
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
    else if (arg == "--model") {
      o.model_name = std::string(next());
      o.model = parse_model(o.model_name);
    } else if (arg == "--epochs") {
      o.epochs = parse_number<int>(arg, next());
      if (o.epochs < 1) throw usage_error("--epochs must be at least 1");
    } else if (arg == "--seed") o.seed = parse_number<std::uint64_t>(arg, next());
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
  if (o.model != model_kind::mlp && o.dropout > 0.0f)
    throw usage_error("--dropout is for --model mlp only: LeNet has no dropout layer");
  if (o.model == model_kind::lenet_aux && o.batch_norm)
    throw usage_error("--batch-norm is for --model lenet or mlp: lenet_aux has no batch-norm variant");
  const model_defaults d = defaults_of(o.model);
  if (o.epochs == 0) o.epochs = d.epochs;
  if (o.optimizer_name.empty()) o.optimizer = parse_optimizer(o.optimizer_name = d.optimizer);
  if (o.schedule_name.empty()) o.schedule = parse_schedule(o.schedule_name = d.schedule);
  if (o.lr == 0.0f) o.lr = default_lr(o.model, o.optimizer);
  if (o.limit != 0 && o.limit < batch)
    throw usage_error("--limit must be at least the batch size, " + std::to_string(batch));
  if (o.data.empty() || o.out.empty()) throw usage_error("--data and --out need a non-empty directory");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const auto status = ctnn_apps::read_command_line("ctnn_train", argc, argv, o, parse_args, print_usage)) return *status;
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
  try {
    fs::create_directories(o.out);  // fail now rather than after training
  } catch (const fs::filesystem_error& e) {
    std::fprintf(stderr, "ctnn_train: cannot create the output directory: %s\n", e.what());
    return 1;
  }
  if (o.model == model_kind::lenet) return run_lenet(o, train, test);
  if (o.model == model_kind::lenet_aux) return run_lenet_aux(o, train, test);
  return o.batch_norm ? run_mlp_bn(o, train, test) : run_mlp(o, train, test);
}
