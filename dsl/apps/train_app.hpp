// ctnn_train's options and the helpers its translation units share. The
// networks are trained by run<Net> (train_run.hpp), instantiated in one
// source file per model family (train_mlp.cpp, train_mlp_bn.cpp,
// train_lenet.cpp) so that they compile in parallel; train.cpp reads the
// flags (train_flags.hpp) and picks one.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <ctnn/io/idx.hpp>
#include <ctnn/train/optim/adagrad.hpp>
#include <ctnn/train/optim/adam.hpp>
#include <ctnn/train/optim/nesterov.hpp>
#include <ctnn/train/optim/rmsprop.hpp>
#include <ctnn/train/optim/sgd.hpp>
#include <ctnn/train/options.hpp>

namespace train_app {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

inline constexpr std::size_t batch = 64;  // a template argument of the trainer, so not a flag
inline constexpr std::size_t classes = ctnn::io::fashion_mnist_classes;
inline constexpr std::size_t train_eval_images = 10'000;  // training accuracy: on the first 10,000 images
// The most epochs a run may ask for: the loss curve keeps a value per step in
// memory, and 10,000 epochs of Fashion-MNIST already take days.
inline constexpr int max_epochs = 10'000;

enum class model_kind { lenet, lenet_aux, mlp, lstm };
enum class optimizer_kind { sgd, nesterov, adam, rmsprop, adagrad };
enum class schedule_kind { step, cosine, exponential, none };
// Drop probabilities compiled in: each is a network type of its own.
inline constexpr std::array<float, 5> dropout_rates{0.0f, 0.1f, 0.2f, 0.3f, 0.5f};

struct options {
  model_kind model = model_kind::lenet;
  std::string model_name = "lenet";
  int epochs = 0;  // 0: the model's default
  std::uint64_t seed = 1;
  int threads = 0;  // 0: measured, between 1 and the hardware's threads
  int max_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  float lr = 0.0f;  // 0: the optimizer's default (for the model)
  optimizer_kind optimizer = optimizer_kind::sgd;
  std::string optimizer_name;  // empty: the model's default
  float momentum = 0.9f;
  schedule_kind schedule = schedule_kind::step;
  std::string schedule_name;  // empty: the model's default
  std::size_t warmup = 0;     // steps of linear warm-up
  ctnn::training_options training{};
  bool clip_norm_given = false;  // --clip-norm on the command line (the LSTM clips at 5 otherwise)
  float dropout = 0.0f;
  bool batch_norm = false;
  fs::path checkpoint, init_from;
  fs::path save_state, resume;  // the run's whole state, after every epoch / to continue from
  int stop_after = 0;            // end after this epoch (0: after the last), to be resumed later
  fs::path export_onnx;  // --export-onnx: the network's ONNX description (.json) and its .npz
  std::vector<std::string> freeze;
  fs::path data = ctnn::io::fashion_mnist_dir();
  fs::path out = "out";
  std::size_t limit = 0;  // 0: the whole training set
  bool quiet = false;
  bool predictions = false;  // write each test image's predicted class to <out>/predictions.txt
};

// The optimizer chosen at run time: one trainer type serves all five (two
// state buffers, of which SGD, Nesterov, RMSProp and AdaGrad use the first).
struct any_optimizer {
  optimizer_kind kind = optimizer_kind::sgd;
  float lr = 0.01f;
  float momentum = 0.9f;
  // Updates so far, whatever the kind: Adam's bias corrections need it, and a
  // trainer checkpoint saves it under this name (optimizer/t).
  std::size_t t = 0;

  static constexpr std::size_t state_buffers = 2;

  template <std::size_t N, class T>
  void update(T* w, const T* g, T* state) {
    ++t;
    switch (kind) {
      case optimizer_kind::sgd: ctnn::optim::sgd{.lr = lr, .momentum = momentum}.update<N>(w, g, state); break;
      case optimizer_kind::nesterov:
        ctnn::optim::nesterov{.lr = lr, .momentum = momentum}.update<N>(w, g, state);
        break;
      case optimizer_kind::adagrad: ctnn::optim::adagrad{.lr = lr}.update<N>(w, g, state); break;
      case optimizer_kind::rmsprop: ctnn::optim::rmsprop{.lr = lr}.update<N>(w, g, state); break;
      case optimizer_kind::adam: ctnn::optim::adam{.lr = lr, .t = t - 1}.update<N>(w, g, state); break;
    }
  }
};

// Training and the report for the chosen network; each returns the exit status.
int run_mlp(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test);     // train_mlp.cpp
int run_mlp_bn(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test);  // train_mlp_bn.cpp
int run_lenet(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test);   // train_lenet.cpp
int run_lenet_aux(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test);  // train_lenet_aux.cpp
int run_lstm(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test);    // train_lstm.cpp

// Defined in train.cpp.
float learning_rate(const options& o, int epoch, std::size_t step, std::size_t total_steps);
double seconds_since(clock_type::time_point t);
const char* compiler_id();
const char* cxx_flags();  // the compiler flags, for the report
std::string threads_text(const options& o);

// Shortest text that reads back as the same value (so 0.05f prints as 0.05).
template <class T>
std::string num(T v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  return {buf, std::to_chars(buf, buf + sizeof buf, v).ptr};
}

// A redrawn bar on a terminal, a line per ~10% of the epoch otherwise (CI logs).
class progress {
 public:
  progress(bool quiet, int epochs, std::size_t batches);
  void start_epoch() { start_ = last_draw_ = clock_type::now(); }
  void update(int epoch, std::size_t done, double mean_loss);
  void clear();

 private:
  bool enabled_, tty_;
  int epochs_;
  std::size_t batches_;
  clock_type::time_point start_, last_draw_;
};

struct training_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct epoch_result {
  double train_loss, train_accuracy, accuracy, seconds;
  float lr;
  int threads;  // the team size the epoch ended with
};

struct run_summary {
  std::size_t param_count;
  std::vector<std::string> loaded;  // from --init-from
};

void write_report(const options& o, const run_summary& run, const std::vector<epoch_result>& epochs,
                  const std::vector<float>& losses, const std::vector<float>& rates, std::size_t steps_per_epoch,
                  double seconds, double images_per_second);

// The directories a run created for its outputs (--out, the --checkpoint
// and --export-onnx files' folders). Unless the run keeps them, they are removed again when
// still empty, so a run that fails leaves no empty folders behind.
class output_dirs {
 public:
  output_dirs() = default;
  output_dirs(const output_dirs&) = delete;
  output_dirs& operator=(const output_dirs&) = delete;
  ~output_dirs();

  // Creates `dir` and its missing parents, remembering each; `flag` names the
  // flag in the message of the std::runtime_error thrown when it cannot.
  void create(const fs::path& dir, std::string_view flag);
  void keep() { created_.clear(); }

 private:
  std::vector<fs::path> created_;  // parents first
};

// Creates the --out directory and the --checkpoint, --save-state and --export-onnx
// files' folders and checks that files can be written in them, so that a run does not train for hours
// and then fail to save. Called once the inputs have been checked; throws
// std::runtime_error naming the flag. The directories it made are in `dirs`.
void prepare_outputs(const options& o, output_dirs& dirs);

// Throws std::runtime_error when --init-from loaded no tensor: a checkpoint
// that shares no name with the network is the wrong file, and training from
// scratch would hide that. The message lists some names of both.
void check_init_loaded(const options& o, const std::vector<std::string>& loaded,
                       const std::vector<std::string_view>& network_names);

}  // namespace train_app
