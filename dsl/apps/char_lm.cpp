// ctnn_char_lm: a character-level language model (dsl/models/char_lm.hpp)
// on the English text of Debian's fortunes package: its plain-text files in
// the order of their names, concatenated, the first 95% for training and the
// last 5% held out. 32 streams read the training text side by side in chunks
// of 64 characters; each chunk starts from the state the stream's previous
// chunk ended with (truncated backpropagation through time), the gradients
// clipped at global norm 5. After each epoch: bits per character on the
// held-out text; at the end, text sampled at a temperature, a JSON report and
// the loss curve.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <ctnn/ctnn.hpp>
#include <models/char_lm.hpp>
#include <nlohmann/json.hpp>

#include "command_line.hpp"

namespace fs = std::filesystem;
namespace lm = ctnn::models::char_lm;
using ctnn_apps::parse_number;
using ctnn_apps::usage_error;

namespace {

constexpr std::size_t streams = 32, T = lm::steps, H = lm::hidden;
using trainer_type = ctnn::trainer<lm::network, ctnn::batch<streams>, ctnn::optim::adam>;
using clock_type = std::chrono::steady_clock;

struct options {
  fs::path data = "/usr/share/games/fortunes";
  int epochs = 2;
  double lr = 2e-3;
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

// Bits per character of the model on a text, the streams' state carried
// from chunk to chunk as in training.
double bits_per_character(ctnn::model<lm::network, streams>& m, const batches& text) {
  std::vector<float> ids(streams * T), next(streams * T), h(streams * H, 0.0f), c(streams * H, 0.0f);
  double sum = 0;
  for (std::size_t k = 0; k < text.chunks; ++k) {
    text.fill(k, ids, next);
    sum += m.forward(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next), ctnn::feed<"h0">(h), ctnn::feed<"c0">(c));
    m.final_state<"lstm">(h, c);
  }
  return sum / double(text.chunks) / std::numbers::ln2;
}

// Characters drawn one at a time from softmax(scores / temperature), after
// feeding the prime; the sampler runs the trained layers step by step.
std::string sample(ctnn::model<lm::network, streams>& m, const options& o) {
  ctnn::streaming<lm::sampler> s;
  for (const ctnn::named_tensor& t : ctnn::checkpoint_tensors<lm::sampler>()) {
    const auto from = m.param_span(t.name);
    std::copy(from.begin(), from.end(), s.param_span(t.name).begin());
  }
  std::mt19937_64 rng(o.seed);
  std::span<const float> scores;
  for (unsigned char c : o.prime) {
    const float id = float(lm::id_of(c));
    scores = s.step(ctnn::feed<"ids">(&id));
  }
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
    const float next = float(id);
    scores = s.step(ctnn::feed<"ids">(&next));
  }
  return out;
}

std::optional<int> read_command_line(int argc, char** argv, options& o) {
  using ctnn_apps::add_flag_with_value;
  CLI::App app{"", "ctnn_char_lm"};
  app.description("Trains a character-level LSTM language model on the fortunes text and samples from it.");
  app.get_formatter()->column_width(22);
  app.set_help_flag("-h,--help", "this text");
  const options d;
  add_flag_with_value(app, "--data", "DIR", "the fortunes directory (default " + d.data.string() + ")",
                      [&o](const std::string& t) { o.data = t; });
  add_flag_with_value(app, "--epochs", "N", "passes over the training text, 1 to 1000 (default 2)",
                      [&o](const std::string& t) {
                        o.epochs = parse_number<int>("--epochs", t);
                        if (o.epochs < 1 || o.epochs > 1000)
                          throw usage_error("--epochs must lie between 1 and 1000, not " + t);
                      });
  add_flag_with_value(app, "--lr", "X", "Adam's learning rate (default 0.002)", [&o](const std::string& t) {
    o.lr = parse_number<double>("--lr", t);
    if (!(o.lr > 0) || !std::isfinite(o.lr)) throw usage_error("--lr must be a positive number, not '" + t + "'");
  });
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
  const std::size_t held_out = t.ids.size() / 20, training = t.ids.size() - held_out;
  const batches train(t.ids.data(), training), test(t.ids.data() + training, held_out);
  std::printf("text: %zu characters in %zu files of %s; %zu for training, %zu held out (5%%)\n", t.ids.size(),
              t.files.size(), o.data.c_str(), training, held_out);
  std::printf("network: %zu parameters; %zu streams of %zu-character chunks, %zu chunks per epoch; simd %s\n",
              std::size_t(lm::network::param_count), streams, T, train.chunks, ctnn::kernels::simd_name());
  std::fflush(stdout);

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) {
    std::fprintf(stderr, "ctnn_char_lm: --out: cannot create '%s': %s\n", o.out.c_str(), ec.message().c_str());
    return 1;
  }

  ctnn::training_options training_options;
  training_options.clip_norm = o.clip_norm;
  trainer_type trainer({.lr = o.lr}, o.seed, training_options);
  std::vector<float> ids(streams * T), next(streams * T), h(streams * H), c(streams * H), curve;
  curve.reserve(train.chunks * std::size_t(o.epochs));
  nlohmann::json epochs = nlohmann::json::array();
  progress_line bar(o.quiet, o.epochs, train.chunks);
  double seconds_total = 0;
  for (int e = 0; e < o.epochs; ++e) {
    std::fill(h.begin(), h.end(), 0.0f);
    std::fill(c.begin(), c.end(), 0.0f);
    bar.start();
    const auto start = clock_type::now();
    double sum = 0;
    for (std::size_t k = 0; k < train.chunks; ++k) {
      train.fill(k, ids, next);
      float loss = 0;
      try {
        loss = trainer.step(ctnn::feed<"ids">(ids), ctnn::feed<"next">(next), ctnn::feed<"h0">(h),
                            ctnn::feed<"c0">(c));
      } catch (const std::exception& err) {
        std::fprintf(stderr, "\nctnn_char_lm: training stopped at epoch %d, chunk %zu: %s\n", e + 1, k + 1,
                     err.what());
        return 1;
      }
      trainer.model().final_state<"lstm">(h, c);
      curve.push_back(loss);
      sum += loss;
      bar.update(e, k + 1, sum / double(k + 1));
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    seconds_total += seconds;
    const double train_loss = sum / double(train.chunks);
    const double bpc = bits_per_character(trainer.model(), test);
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
  const std::string text_out = sample(trainer.model(), o);
  std::printf("\nsample (temperature %g):\n%s%s\n", o.temperature, o.prime.c_str(), text_out.c_str());

  nlohmann::json report = {
      {"app", "ctnn_char_lm"},
      {"model", {{"kind", "lstm"}, {"parameters", std::size_t(lm::network::param_count)},
                 {"embedding", lm::embedding_width}, {"hidden", H}, {"vocabulary", lm::vocabulary}}},
      {"text", {{"directory", o.data.string()}, {"files", t.files}, {"characters", t.ids.size()},
                {"training", training}, {"held_out", held_out}}},
      {"recipe", {{"streams", streams}, {"chunk", T}, {"optimizer", "adam"}, {"lr", o.lr},
                  {"clip_norm", o.clip_norm}, {"epochs", o.epochs}, {"seed", o.seed}}},
      {"epochs", epochs},
      {"training_seconds", seconds_total},
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
