// ctnn_char_lm: a character-level language model on the English text of
// Debian's fortunes package: its plain-text files in the order of their names,
// concatenated, the first 95% for training and the last 5% held out. 32
// streams read the training text side by side in chunks of 64 characters,
// with Adam and the gradients clipped at global norm 5. Two networks:
//   --model lstm (dsl/models/char_lm.hpp): each chunk starts from the state
//     the stream's previous chunk ended with (truncated backpropagation
//     through time); sampled one character at a time by ctnn::streaming.
//   --model transformer (dsl/models/char_transformer.hpp): each chunk is read
//     on its own; sampled by running the network on the last 64 characters.
// After each epoch: bits per character on the held-out text; at the end,
// text sampled at a temperature, a JSON report and the loss curve.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
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
#include <models/char_lm.hpp>
#include <models/char_transformer.hpp>
#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "output_directory.hpp"

namespace fs = std::filesystem;
namespace lm = ctnn::models::char_lm;
namespace tf = ctnn::models::char_transformer;
using ctnn_apps::parse_number;
using ctnn_apps::usage_error;

namespace {

constexpr std::size_t streams = 32, T = lm::steps, H = lm::hidden;
static_assert(tf::steps == T && tf::vocabulary == lm::vocabulary);
using clock_type = std::chrono::steady_clock;

struct options {
  std::string model = "lstm";
  fs::path data = "/usr/share/games/fortunes";
  int epochs = 2;
  double lr = 0;  // 0: the model's default
  std::size_t warmup = std::size_t(-1);  // -1: the model's default
  double clip_norm = 5.0;
  std::uint64_t seed = 1;
  int threads = 0;  // 0: OpenMP's default
  std::size_t limit = 0;  // 0: all the text
  double temperature = 0.8;
  std::size_t sample = 400;
  std::string prime = "\n";
  fs::path out = "out_char_lm";
  bool quiet = false;
};

struct text {
  std::vector<std::string> files;
  std::vector<float> ids;  // one id per character, as the network reads them
};

// The plain-text files of a fortunes directory (not the .dat indexes or the
// .u8 links), in the order of their names, concatenated.
text read_text(const fs::path& dir, std::size_t limit) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("--data: '" + dir.string() + "' is not a directory");
  std::vector<fs::path> paths;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || e.is_symlink() || name.ends_with(".dat") || name.ends_with(".u8") ||
        name.starts_with("."))
      continue;
    paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  text t;
  for (const fs::path& p : paths) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read '" + p.string() + "'");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (unsigned char c : bytes) t.ids.push_back(float(lm::id_of(c)));
    t.files.push_back(p.filename().string());
    if (limit && t.ids.size() >= limit) {
      t.ids.resize(limit);
      break;
    }
  }
  if (t.ids.size() < 20 * streams * (T + 1))
    throw std::runtime_error("--data: '" + dir.string() + "' holds " + std::to_string(t.ids.size()) +
                             " characters of text in " + std::to_string(t.files.size()) +
                             " files; at least " + std::to_string(20 * streams * (T + 1)) + " are needed");
  return t;
}

// A text read as `streams` contiguous segments side by side, chunk by chunk:
// chunk k of stream b is characters [k·T, (k + 1)·T) of segment b, and its
// labels are the characters one further.
struct batches {
  const float* first;
  std::size_t segment, chunks;
  batches(const float* begin, std::size_t count) : first(begin), segment(count / streams), chunks((segment - 1) / T) {}
  void fill(std::size_t k, std::vector<float>& ids, std::vector<float>& next) const {
    for (std::size_t b = 0; b < streams; ++b) {
      const float* s = first + b * segment + k * T;
      std::copy_n(s, T, ids.data() + b * T);
      std::copy_n(s + 1, T, next.data() + b * T);
    }
  }
};

class progress_line {
 public:
  progress_line(bool quiet, int epochs, std::size_t steps)
      : enabled_(!quiet), tty_(isatty(fileno(stderr)) != 0), epochs_(epochs), steps_(steps) {}
  void start() { start_ = clock_type::now(); }
  void update(int epoch, std::size_t done, double mean_loss) {
    if (!enabled_) return;
    const bool last = done == steps_;
    if (!tty_ && !last && done % std::max<std::size_t>(1, steps_ / 10) != 0) return;
    const double s = std::chrono::duration<double>(clock_type::now() - start_).count();
    std::fprintf(stderr, "%sepoch %d/%d  chunk %zu/%zu  loss %.4f (%.3f bits/char)  %.0f chars/s%s", tty_ ? "\r" : "",
                 epoch + 1, epochs_, done, steps_, mean_loss, mean_loss / std::numbers::ln2,
                 double(done * streams * T) / std::max(s, 1e-9), tty_ ? "   " : "\n");
    if (tty_ && last) std::fputc('\n', stderr);
  }

 private:
  bool enabled_, tty_;
  int epochs_;
  std::size_t steps_;
  clock_type::time_point start_;
};

// What differs between the two networks. Each kind names its network and
// default recipe, runs one chunk of the 32 streams (`run` is trainer::step or
// model::forward; an object of the kind holds whatever a pass over a text
// carries from chunk to chunk), and gives a sampler: next(id) feeds one
// character and returns the scores for the one after it.
struct lstm_kind {
  using network = lm::network;
  using model_type = ctnn::model<network, streams>;
  static constexpr std::string_view name = "lstm";
  static constexpr double default_lr = 2e-3;
  static constexpr std::size_t default_warmup = 0;

  // Where each stream stands: the next chunk's initial state.
  std::vector<float> h = std::vector<float>(streams * H, 0.0f), c = std::vector<float>(streams * H, 0.0f);

  template <class Run>
  float chunk(model_type& m, const std::vector<float>& ids, const std::vector<float>& next, Run&& run) {
    const float loss = run(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c));
    m.final_state<"lstm">(h, c);
    return loss;
  }

  // The same layers without the initial-state inputs, one character at a time.
  class sampler {
   public:
    explicit sampler(model_type& m) {
      for (const ctnn::named_tensor& t : ctnn::checkpoint_tensors<lm::sampler>()) {
        const auto from = m.param_span(t.name);
        std::copy(from.begin(), from.end(), s_.param_span(t.name).begin());
      }
    }
    std::span<const float> next(std::size_t id) {
      const float x = float(id);
      return s_.step(ctnn::feed<"ids">(&x));
    }

   private:
    ctnn::streaming<lm::sampler> s_;
  };

  static nlohmann::json describe() {
    return {{"kind", name}, {"parameters", std::size_t(network::param_count)}, {"embedding", lm::embedding_width},
            {"hidden", H}, {"vocabulary", lm::vocabulary}};
  }
};

struct transformer_kind {
  using network = tf::network;
  using model_type = ctnn::model<network, streams>;
  static constexpr std::string_view name = "transformer";
  // 2e-3 as for the LSTM (1e-3 was no better); warming up over the first
  // 100 chunks gave 0.03 bits per character less after 3 epochs of 1M
  // characters, for either of two seeds.
  static constexpr double default_lr = 2e-3;
  static constexpr std::size_t default_warmup = 100;

  // Nothing crosses chunks: each is read on its own.
  template <class Run>
  float chunk(model_type&, const std::vector<float>& ids, const std::vector<float>& next, Run&& run) {
    return run(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next));
  }

  // Attention mixes the steps, so streaming cannot run it: the network runs
  // on a window of the last 64 characters (at first newlines, the start of a
  // fortune) and its scores at the last position predict the next one.
  class sampler {
   public:
    explicit sampler(model_type& m) : m_(m) { window_.fill(float(lm::id_of('\n'))); }
    std::span<const float> next(std::size_t id) {
      std::shift_left(window_.begin(), window_.end(), 1);
      window_.back() = float(id);
      return m_.predict_one(ctnn::feed<"ids">(window_)).last(lm::vocabulary);  // of [T, vocabulary]
    }

   private:
    model_type& m_;
    std::array<float, T> window_;
  };

  static nlohmann::json describe() {
    return {{"kind", name}, {"parameters", std::size_t(network::param_count)}, {"width", tf::width},
            {"blocks", 2}, {"heads", tf::heads}, {"mlp_width", tf::mlp_width}, {"context", T},
            {"vocabulary", tf::vocabulary}};
  }
};

// Bits per character of the model on a text, read chunk by chunk as in
// training (the LSTM's streams carry their state from a zero start).
template <class Kind>
double bits_per_character(typename Kind::model_type& m, const batches& text) {
  Kind pass;
  std::vector<float> ids(streams * T), next(streams * T);
  double sum = 0;
  for (std::size_t k = 0; k < text.chunks; ++k) {
    text.fill(k, ids, next);
    sum += pass.chunk(m, ids, next, [&m](const auto&... feeds) { return m.forward(feeds...); });
  }
  return sum / double(text.chunks) / std::numbers::ln2;
}

// Characters drawn one at a time from softmax(scores / temperature), after
// feeding the prime.
template <class Kind>
std::string sample(typename Kind::model_type& m, const options& o) {
  typename Kind::sampler s(m);
  std::mt19937_64 rng(o.seed);
  std::span<const float> scores;
  for (unsigned char c : o.prime) scores = s.next(lm::id_of(c));
  std::string out;
  std::vector<double> p(lm::vocabulary);
  for (std::size_t n = 0; n < o.sample; ++n) {
    const double top = *std::max_element(scores.begin(), scores.end());
    double sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum += (p[i] = std::exp((double(scores[i]) - top) / o.temperature));
    double u = std::uniform_real_distribution<double>(0.0, sum)(rng);
    std::size_t id = 0;
    while (id + 1 < p.size() && u >= p[id]) u -= p[id++];
    out += lm::char_of(id);
    scores = s.next(id);
  }
  return out;
}

std::string shortest(double x) {
  char s[32];
  std::snprintf(s, sizeof s, "%g", x);
  return s;
}

std::optional<int> read_command_line(int argc, char** argv, options& o) {
  using ctnn_apps::add_flag_with_value;
  CLI::App app{"", "ctnn_char_lm"};
  app.description(
      "Trains a character-level language model (an LSTM or a small transformer) on the fortunes text and samples "
      "from it.");
  app.get_formatter()->column_width(22);
  app.set_help_flag("-h,--help", "this text");
  const options d;
  add_flag_with_value(app, "--model", "NAME",
                      "lstm (default; its state carried across chunks) or transformer (2 causal encoder blocks, "
                      "each chunk on its own)",
                      [&o](const std::string& t) {
                        if (t != lstm_kind::name && t != transformer_kind::name)
                          throw usage_error("--model: '" + t + "' is not one of lstm, transformer");
                        o.model = t;
                      });
  add_flag_with_value(app, "--data", "DIR", "the fortunes directory (default " + d.data.string() + ")",
                      [&o](const std::string& t) { o.data = t; });
  add_flag_with_value(app, "--epochs", "N", "passes over the training text, 1 to 1000 (default 2)",
                      [&o](const std::string& t) {
                        o.epochs = parse_number<int>("--epochs", t);
                        if (o.epochs < 1 || o.epochs > 1000)
                          throw usage_error("--epochs must lie between 1 and 1000, not " + t);
                      });
  add_flag_with_value(app, "--lr", "X",
                      "Adam's learning rate (default " + shortest(lstm_kind::default_lr) + " for lstm, " +
                          shortest(transformer_kind::default_lr) + " for transformer)",
                      [&o](const std::string& t) {
                        o.lr = parse_number<double>("--lr", t);
                        if (!(o.lr > 0) || !std::isfinite(o.lr))
                          throw usage_error("--lr must be a positive number, not '" + t + "'");
                      });
  add_flag_with_value(app, "--warmup", "N",
                      "raise the learning rate linearly over the first N chunks (default " +
                          std::to_string(lstm_kind::default_warmup) + " for lstm, " +
                          std::to_string(transformer_kind::default_warmup) + " for transformer)",
                      [&o](const std::string& t) { o.warmup = parse_number<std::size_t>("--warmup", t); });
  add_flag_with_value(app, "--clip-norm", "C", "clip the gradients to global norm C (default 5; 0: off)",
                      [&o](const std::string& t) {
                        o.clip_norm = parse_number<double>("--clip-norm", t);
                        if (!(o.clip_norm >= 0) || !std::isfinite(o.clip_norm))
                          throw usage_error("--clip-norm must be a finite number >= 0, not '" + t + "'");
                      });
  add_flag_with_value(app, "--seed", "S", "seed for the weights and the sampling (default 1)",
                      [&o](const std::string& t) { o.seed = parse_number<std::uint64_t>("--seed", t); });
  add_flag_with_value(app, "--threads", "T", "OpenMP threads (default: OpenMP's)", [&o](const std::string& t) {
    o.threads = parse_number<int>("--threads", t);
    if (o.threads < 1 || o.threads > 256) throw usage_error("--threads must lie between 1 and 256, not " + t);
  });
  add_flag_with_value(app, "--limit", "N", "read only the first N characters of the text (default: all)",
                      [&o](const std::string& t) { o.limit = parse_number<std::size_t>("--limit", t); });
  add_flag_with_value(app, "--temperature", "X", "sampling temperature (default 0.8)", [&o](const std::string& t) {
    o.temperature = parse_number<double>("--temperature", t);
    if (!(o.temperature > 0) || !std::isfinite(o.temperature))
      throw usage_error("--temperature must be a positive number, not '" + t + "'");
  });
  add_flag_with_value(app, "--sample", "N", "characters to sample at the end (default 400)",
                      [&o](const std::string& t) { o.sample = parse_number<std::size_t>("--sample", t); });
  add_flag_with_value(app, "--prime", "TEXT", "text fed before sampling (default a newline)",
                      [&o](const std::string& t) { o.prime = t; });
  add_flag_with_value(app, "--out", "DIR", "where report.json and loss_curve.csv go (default out_char_lm)",
                      [&o](const std::string& t) { o.out = t; });
  ctnn_apps::add_switch(app, "--quiet", "no progress line", o.quiet);
  return ctnn_apps::parse_command_line(app, argc, argv);
}

// Trains the network of that kind on the text, reports after each epoch,
// samples, and writes report.json and loss_curve.csv. Returns the exit status.
template <class Kind>
int train_and_report(const options& o, const text& t) {
  const double lr = o.lr > 0 ? o.lr : Kind::default_lr;
  const std::size_t warmup = o.warmup != std::size_t(-1) ? o.warmup : Kind::default_warmup;
  const std::size_t held_out = t.ids.size() / 20, training = t.ids.size() - held_out;
  const batches train(t.ids.data(), training), test(t.ids.data() + training, held_out);
  std::printf("text: %zu characters in %zu files of %s; %zu for training, %zu held out (5%%)\n", t.ids.size(),
              t.files.size(), o.data.c_str(), training, held_out);
  std::printf("network: %s, %zu parameters; %zu streams of %zu-character chunks, %zu chunks per epoch; simd %s\n",
              Kind::name.data(), std::size_t(Kind::network::param_count), streams, T, train.chunks,
              ctnn::kernels::simd_name());
  std::printf("adam: lr %g, %zu chunks of warm-up; gradients clipped at norm %g\n", lr, warmup, o.clip_norm);
  std::fflush(stdout);

  if (!ctnn_apps::make_output_directory("ctnn_char_lm", o.out)) return 1;

  ctnn::training_options training_options;
  training_options.clip_norm = o.clip_norm;
  ctnn::trainer<typename Kind::network, ctnn::batch<streams>, ctnn::optim::adam> trainer({.lr = lr}, o.seed,
                                                                                         training_options);
  const ctnn::schedule::linear_warmup schedule{.lr0 = lr, .warmup_steps = warmup};
  const auto step = [&trainer](const auto&... feeds) { return trainer.step(feeds...); };
  std::vector<float> ids(streams * T), next(streams * T), curve;
  curve.reserve(train.chunks * std::size_t(o.epochs));
  nlohmann::json epochs = nlohmann::json::array();
  progress_line bar(o.quiet, o.epochs, train.chunks);
  double seconds_total = 0;
  for (int e = 0; e < o.epochs; ++e) {
    Kind pass;  // each epoch reads the streams from their starts
    bar.start();
    const auto start = clock_type::now();
    double sum = 0;
    for (std::size_t k = 0; k < train.chunks; ++k) {
      train.fill(k, ids, next);
      trainer.optimizer().lr = schedule.lr_at(curve.size());
      float loss = 0;
      try {
        loss = pass.chunk(trainer.model(), ids, next, step);
      } catch (const std::exception& err) {
        std::fprintf(stderr, "\nctnn_char_lm: training stopped at epoch %d, chunk %zu: %s\n", e + 1, k + 1,
                     err.what());
        return 1;
      }
      curve.push_back(loss);
      sum += loss;
      bar.update(e, k + 1, sum / double(k + 1));
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    seconds_total += seconds;
    const double train_loss = sum / double(train.chunks);
    const double bpc = bits_per_character<Kind>(trainer.model(), test);
    std::printf("epoch %d/%d  train %.4f nats/char (%.3f bits/char)  held out %.3f bits/char  %.1f s, %.0f chars/s\n",
                e + 1, o.epochs, train_loss, train_loss / std::numbers::ln2, bpc, seconds,
                double(train.chunks * streams * T) / seconds);
    std::fflush(stdout);
    epochs.push_back({{"epoch", e + 1},
                      {"train_loss_nats", train_loss},
                      {"train_bits_per_character", train_loss / std::numbers::ln2},
                      {"held_out_bits_per_character", bpc},
                      {"seconds", seconds},
                      {"characters_per_second", double(train.chunks * streams * T) / seconds}});
  }
  const std::string text_out = sample<Kind>(trainer.model(), o);
  std::printf("\nsample (temperature %g):\n%s%s\n", o.temperature, o.prime.c_str(), text_out.c_str());

  nlohmann::json report = {
      {"app", "ctnn_char_lm"},
      {"model", Kind::describe()},
      {"text", {{"directory", o.data.string()}, {"files", t.files}, {"characters", t.ids.size()},
                {"training", training}, {"held_out", held_out}}},
      {"recipe", {{"streams", streams}, {"chunk", T}, {"optimizer", "adam"}, {"lr", lr}, {"warmup_chunks", warmup},
                  {"clip_norm", o.clip_norm}, {"epochs", o.epochs}, {"seed", o.seed}}},
      {"epochs", epochs},
      {"training_seconds", seconds_total},
      {"characters_per_second", double(train.chunks * streams * T) * o.epochs / seconds_total},
      {"sample", {{"temperature", o.temperature}, {"prime", o.prime}, {"text", text_out}}},
      {"simd", ctnn::kernels::simd_name()}};
  try {
    std::ofstream(o.out / "report.json") << report.dump(2) << "\n";
    std::ofstream csv(o.out / "loss_curve.csv");
    csv << "chunk,loss_nats\n";
    for (std::size_t k = 0; k < curve.size(); ++k) csv << k + 1 << "," << curve[k] << "\n";
    if (!csv) throw std::runtime_error("cannot write " + (o.out / "loss_curve.csv").string());
  } catch (const std::exception& err) {
    std::fprintf(stderr, "ctnn_char_lm: %s\n", err.what());
    return 1;
  }
  std::printf("report: %s\n", (o.out / "report.json").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const auto status = read_command_line(argc, argv, o)) return *status;
#if defined(_OPENMP)
  if (o.threads > 0) omp_set_num_threads(o.threads);
#endif
  text t;
  try {
    t = read_text(o.data, o.limit);
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "ctnn_char_lm: %s\nhint: install the Debian package fortunes (apt-get install fortunes), or pass "
                 "--data DIR\n",
                 e.what());
    return 1;
  }
  return o.model == transformer_kind::name ? train_and_report<transformer_kind>(o, t)
                                           : train_and_report<lstm_kind>(o, t);
}
