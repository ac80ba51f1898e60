// ctnn_train's command line: its flags (read with CLI11), their checks and
// the defaults that depend on the model. In a header of its own so that
// tests and fuzz targets can read command lines without training anything.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "command_line.hpp"
#include "train_app.hpp"

namespace train_app {

// The default initial learning rate of each optimizer. SGD and Nesterov start
// lower on LeNet: at 0.03 its loss overflows within a few batches.
inline float default_lr(model_kind m, optimizer_kind k) {
  switch (k) {
    case optimizer_kind::sgd:
    case optimizer_kind::nesterov: return m == model_kind::mlp ? 0.03f : 0.01f;
    case optimizer_kind::adagrad: return 0.01f;
    case optimizer_kind::adam:
    case optimizer_kind::rmsprop: break;
  }
  return m == model_kind::lstm ? 2e-3f : 1e-3f;
}

// What a model trains with when the flags do not say: LeNet reaches 0.90 test
// accuracy within its 5 epochs with Adam and cosine decay (docs/guide.md,
// section 4); the MLP keeps SGD with momentum and step decay over 10 epochs.
struct model_defaults {
  int epochs;
  const char* optimizer;
  const char* schedule;
};

inline model_defaults defaults_of(model_kind m) {
  if (m == model_kind::lstm) return {12, "adam", "cosine"};  // 0.90 test accuracy (docs/guide.md, section 15)
  if (m != model_kind::mlp) return {5, "adam", "cosine"};  // LeNet, with or without its side classifier
  return {10, "sgd", "step"};
}

using ctnn_apps::parse_number;
using ctnn_apps::usage_error;

// T = double for the training options (ctnn::training_options keeps doubles:
// the report then shows the value as given).
template <class T = float>
T parse_nonnegative(std::string_view flag, std::string_view text) {
  const T v = parse_number<T>(flag, text);
  if (!(v >= T(0)) || !std::isfinite(v))
    throw usage_error(std::string(flag) + " must be a finite number >= 0, not '" + std::string(text) + "'");
  return v;
}

// The value of `flag` among `choices` (name, value), or a usage error listing them.
template <class T, std::size_t N>
T parse_choice(std::string_view flag, std::string_view text, const std::array<std::pair<std::string_view, T>, N>& choices) {
  std::string names;
  for (const auto& [name, value] : choices) {
    if (name == text) return value;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  throw usage_error(std::string(flag) + ": '" + std::string(text) + "' is not one of " + names);
}

inline model_kind parse_model(std::string_view text) {
  return parse_choice<model_kind, 4>("--model", text,
                                     {{{"lenet", model_kind::lenet},
                                       {"lenet_aux", model_kind::lenet_aux},
                                       {"mlp", model_kind::mlp},
                                       {"lstm", model_kind::lstm}}});
}

inline optimizer_kind parse_optimizer(std::string_view text) {
  return parse_choice<optimizer_kind, 5>("--optimizer", text,
                                         {{{"sgd", optimizer_kind::sgd},
                                           {"nesterov", optimizer_kind::nesterov},
                                           {"adam", optimizer_kind::adam},
                                           {"rmsprop", optimizer_kind::rmsprop},
                                           {"adagrad", optimizer_kind::adagrad}}});
}

inline schedule_kind parse_schedule(std::string_view text) {
  return parse_choice<schedule_kind, 4>("--schedule", text,
                                        {{{"step", schedule_kind::step},
                                          {"cosine", schedule_kind::cosine},
                                          {"exponential", schedule_kind::exponential},
                                          {"none", schedule_kind::none}}});
}

inline float parse_dropout(std::string_view text) {
  const float p = parse_number<float>("--dropout", text);
  for (float r : dropout_rates)
    if (std::abs(p - r) < 1e-6f) return r;
  throw usage_error("--dropout: " + std::string(text) +
                    " is not a compiled-in drop probability (one of 0, 0.1, 0.2, 0.3, 0.5)");
}

// More threads than this is a typo, not a setting: OpenMP would try to start them all.
inline int most_threads(const options& o) { return std::max(256, o.max_threads); }

inline int parse_threads(const options& o, std::string_view text) {
  if (text == "auto") return 0;
  const int threads = parse_number<int>("--threads", text);
  if (threads < 1) throw usage_error("--threads must be at least 1, or auto");
  if (threads > most_threads(o))
    throw usage_error("--threads: " + std::string(text) + " is more than the " + std::to_string(most_threads(o)) +
                      " this app starts (the machine has " + std::to_string(o.max_threads) + ")");
  return threads;
}

inline std::vector<std::string> split_names(std::string_view flag, const std::string_view all) {
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

// Registers ctnn_train's flags on `app`; each checks its value and stores it in `o`.
inline void add_flags(CLI::App& app, options& o) {
  using ctnn_apps::add_flag_with_value;
  using ctnn_apps::add_switch;
  const options d;
  const model_defaults lenet = defaults_of(model_kind::lenet), mlp = defaults_of(model_kind::mlp);
  const auto text = [](auto... parts) { return (std::string() + ... + std::string(parts)); };
  app.description("Trains LeNet, an MLP or a row-by-row LSTM on Fashion-MNIST and writes a report and its curves.");
  app.footer("The batch size is fixed at compile time: " + std::to_string(batch) + ".");
  app.get_formatter()->column_width(20);
  app.set_help_flag("-h,--help", "this text");

  add_flag_with_value(app, "--model", "NAME",
                      "lenet: Caffe's LeNet, conv 20 5x5, pool 2, conv 50 5x5, pool 2,\n"
                      "ip 500 + ReLU, ip 10, on the image as [1, 28, 28] (default);\n"
                      "lenet_aux: LeNet plus a side classifier ip1_side on pool1, loss\n"
                      "L + 0.3 l1 (deep supervision; the weight is compiled in);\n"
                      "mlp: 784-256-128-10 with ReLU;\n"
                      "lstm: an LSTM of 128 reading the image row by row (28 steps\n"
                      "of 28 pixels), fc 10 on its final state",
                      [&o](const std::string& t) {
                        o.model = parse_model(t);
                        o.model_name = t;
                      });
  add_flag_with_value(app, "--epochs", "N",
                      text("epochs to train, 1 to ", std::to_string(max_epochs), " (default ",
                           std::to_string(lenet.epochs), " for lenet, ", std::to_string(mlp.epochs), " for mlp, ",
                           std::to_string(defaults_of(model_kind::lstm).epochs), " for lstm)"),
                      [&o](const std::string& t) {
                        o.epochs = parse_number<int>("--epochs", t);
                        if (o.epochs < 1 || o.epochs > max_epochs)
                          throw usage_error("--epochs must lie between 1 and " + std::to_string(max_epochs) +
                                            ", not " + t);
                      });
  add_flag_with_value(app, "--seed", "S",
                      text("seed for the weights, the dropout masks and the shuffling (default ",
                           std::to_string(d.seed), ")"),
                      [&o](const std::string& t) { o.seed = parse_number<std::uint64_t>("--seed", t); });
  add_flag_with_value(app, "--threads", "T|auto",
                      text("OpenMP threads for training steps (default auto: measured every 1000\n"
                           "steps, 1 or the hardware's ",
                           std::to_string(d.max_threads),
                           ", the team only if it steps at least 10% faster;\n"
                           "a core another process keeps busy makes two threads many times slower)"),
                      [&o](const std::string& t) { o.threads = parse_threads(o, t); });
  add_flag_with_value(app, "--optimizer", "NAME",
                      text("sgd | nesterov | adam | rmsprop | adagrad (default ", lenet.optimizer,
                           " for lenet\nand lstm, ", mlp.optimizer, " for mlp)"),
                      [&o](const std::string& t) {
                        o.optimizer = parse_optimizer(t);
                        o.optimizer_name = t;
                      });
  add_flag_with_value(app, "--lr", "X",
                      "initial learning rate (default: 0.03 for sgd and nesterov, 0.01\n"
                      "with lenet; 1e-3 for adam and rmsprop, 2e-3 with lstm; 0.01 for\n"
                      "adagrad)",
                      [&o](const std::string& t) {
                        o.lr = parse_number<float>("--lr", t);
                        if (!(o.lr > 0.0f) || !std::isfinite(o.lr))
                          throw usage_error("--lr must be a positive number, not '" + t + "'");
                      });
  add_flag_with_value(app, "--momentum", "M", text("momentum of sgd and nesterov (default ", num(d.momentum), ")"),
                      [&o](const std::string& t) {
                        o.momentum = parse_nonnegative("--momentum", t);
                        if (!(o.momentum < 1.0f)) throw usage_error("--momentum must lie in [0, 1), not '" + t + "'");
                      });
  add_flag_with_value(app, "--schedule", "NAME",
                      text("step: x0.2 after 50% and again after 80% of the epochs;\n"
                           "cosine: cosine decay to 0 over the run, per step;\n"
                           "exponential: lr * exp(-k*step) falling to lr/100 at the end;\n"
                           "none: constant (default ",
                           lenet.schedule, " for lenet and lstm, ", mlp.schedule, " for mlp)"),
                      [&o](const std::string& t) {
                        o.schedule = parse_schedule(t);
                        o.schedule_name = t;
                      });
  add_flag_with_value(app, "--warmup", "N", "linear warm-up over the first N steps (default 0)",
                      [&o](const std::string& t) { o.warmup = parse_number<std::size_t>("--warmup", t); });
  add_flag_with_value(app, "--l2", "X", "L2 penalty on the weights, g += X*w (default 0)",
                      [&o](const std::string& t) { o.training.l2 = parse_nonnegative<double>("--l2", t); });
  add_flag_with_value(app, "--l1", "X", "L1 penalty on the weights, g += X*sign(w) (default 0)",
                      [&o](const std::string& t) { o.training.l1 = parse_nonnegative<double>("--l1", t); });
  add_flag_with_value(app, "--clip-norm", "C",
                      "scale the gradients to global norm C when above it (default 0: off;\n"
                      "5 for lstm, as recurrent networks want)",
                      [&o](const std::string& t) {
                        o.training.clip_norm = parse_nonnegative<double>("--clip-norm", t);
                        o.clip_norm_given = true;
                      });
  add_flag_with_value(app, "--max-norm", "C", "clamp each unit's incoming weight vector to norm C (default 0: off)",
                      [&o](const std::string& t) { o.training.max_norm = parse_nonnegative<double>("--max-norm", t); });
  add_flag_with_value(app, "--dropout", "P",
                      "mlp only: dropout after each hidden ReLU, P one of 0, 0.1, 0.2, 0.3,\n"
                      "0.5 (compiled in; default 0)",
                      [&o](const std::string& t) { o.dropout = parse_dropout(t); });
  add_switch(app, "--batch-norm",
             "batch normalization after fc1 and fc2 (mlp) or conv1 and conv2\n(lenet) (layers bn1, bn2)",
             o.batch_norm);
  add_flag_with_value(app, "--init-from", "FILE",
                      "load the parameters a checkpoint (.npz) shares with this network\n"
                      "by name before training (shapes must match; at least one must)",
                      [&o](const std::string& t) { o.init_from = t; });
  add_flag_with_value(app, "--freeze", "NAMES",
                      "comma-separated parameters or layers not to train, e.g. conv1 or fc1,bn1",
                      [&o](const std::string& t) { o.freeze = split_names("--freeze", t); });
  add_flag_with_value(app, "--checkpoint", "FILE",
                      "save every parameter and the running statistics (.npz) at the end\n"
                      "(its folder is created and tested for writing before training)",
                      [&o](const std::string& t) { o.checkpoint = t; });
  add_flag_with_value(app, "--save-state", "FILE",
                      "after every epoch, save everything the run needs to go on (.npz:\n"
                      "parameters, optimizer state, loss curve), replacing the file whole",
                      [&o](const std::string& t) { o.save_state = t; });
  add_flag_with_value(app, "--resume", "FILE",
                      "continue the run whose --save-state wrote FILE, from the epoch\n"
                      "after the saved one; with the same flags, the result is the\n"
                      "uninterrupted run's, bit for bit",
                      [&o](const std::string& t) { o.resume = t; });
  add_flag_with_value(app, "--stop-after", "K",
                      "end the run after epoch K of --epochs, as if interrupted there\n"
                      "(the schedule still spans --epochs; --resume goes on)",
                      [&o](const std::string& t) {
                        o.stop_after = parse_number<int>("--stop-after", t);
                        if (o.stop_after < 1) throw usage_error("--stop-after must be at least 1, not " + t);
                      });
  add_flag_with_value(app, "--export-onnx", "FILE",
                      "write the trained network for ONNX at the end: FILE (.json) and\n"
                      "its parameters beside it (.npz); tools/onnx_export.py FILE makes\n"
                      "the .onnx (lenet, lenet_aux, mlp; its folder is created and tested)",
                      [&o](const std::string& t) { o.export_onnx = t; });
  add_flag_with_value(app, "--data", "DIR",
                      text("directory with the Fashion-MNIST .gz files\n(default $CTNN_FASHION_MNIST_DIR or ",
                           ctnn::io::default_fashion_mnist_dir.string(), ")"),
                      [&o](const std::string& t) { o.data = t; });
  add_flag_with_value(app, "--out", "DIR",
                      text("where report.json, loss_curve.csv, epochs.csv go (default ", d.out.string(), ")"),
                      [&o](const std::string& t) { o.out = t; });
  add_flag_with_value(app, "--limit", "N",
                      text("train on the first N training images only (N >= ", std::to_string(batch), ")"),
                      [&o](const std::string& t) {
                        o.limit = parse_number<std::size_t>("--limit", t);
                        if (o.limit != 0 && o.limit < batch)
                          throw usage_error("--limit must be at least the batch size, " + std::to_string(batch) +
                                            ", not " + t);
                      });
  add_switch(app, "--quiet", "no network summary and no progress bar", o.quiet);
  add_switch(app, "--predictions",
             "write the trained network's class for each test image to\n<out>/predictions.txt (as ctnn_classify prints them)",
             o.predictions);
}

// The checks that involve several flags, and the defaults that depend on the model.
inline void finish_options(options& o) {
  if (o.model != model_kind::mlp && o.dropout > 0.0f)
    throw usage_error("--dropout is for --model mlp only: " + o.model_name + " has no dropout layer");
  if ((o.model == model_kind::lenet_aux || o.model == model_kind::lstm) && o.batch_norm)
    throw usage_error("--batch-norm is for --model lenet or mlp: " + o.model_name + " has no batch-norm variant");
  if (!o.resume.empty() && !o.init_from.empty())
    throw usage_error("--init-from and --resume both set the parameters: give one of them");
  if (o.model == model_kind::lstm && !o.export_onnx.empty())
    throw usage_error("--export-onnx is for --model lenet, lenet_aux or mlp: ONNX export has no translation of "
                      "lstm's recurrent layer yet");
  if (o.model == model_kind::lstm && !o.clip_norm_given) o.training.clip_norm = 5.0;
  const model_defaults d = defaults_of(o.model);
  if (o.epochs == 0) o.epochs = d.epochs;
  if (o.stop_after >= o.epochs)
    throw usage_error("--stop-after " + std::to_string(o.stop_after) + " must be below --epochs, " +
                      std::to_string(o.epochs));
  if (o.optimizer_name.empty()) o.optimizer = parse_optimizer(o.optimizer_name = d.optimizer);
  if (o.schedule_name.empty()) o.schedule = parse_schedule(o.schedule_name = d.schedule);
  if (o.lr == 0.0f) o.lr = default_lr(o.model, o.optimizer);
}

// Reads ctnn_train's command line into `o`. Returns the exit status when the
// program should stop now (2 after a usage error, 0 after --help, each said
// on stderr or stdout), or nothing when it should train.
inline std::optional<int> read_command_line(int argc, char** argv, options& o) {
  CLI::App app{"", "ctnn_train"};
  add_flags(app, o);
  return ctnn_apps::parse_command_line(app, argc, argv, [&o] { finish_options(o); });
}

}  // namespace train_app
