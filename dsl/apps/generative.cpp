// ctnn_generative: autoencoders, a VAE and a GAN on Fashion-MNIST.
//
//   ctnn_generative autoencoder [flags]   tied-weight autoencoder (dsl/models/autoencoder.hpp)
//   ctnn_generative denoising [flags]     the same network, fed images with a share of pixels zeroed
//   ctnn_generative vae [flags]           variational autoencoder (dsl/models/vae.hpp)
//   ctnn_generative gan [flags]           DCGAN: a generator against a discriminator (dsl/models/gan.hpp)
//
// Adam, batches of 64, the training images shuffled every epoch. After each
// epoch the test set is scored: the autoencoders' reconstruction error (the
// mean squared error per pixel, against predicting the training set's mean
// image), the VAE's ELBO per image (one sample of z, the same noise every
// epoch). The GAN has no test score of its own: with --classifier, a trained
// LeNet says how confidently and how evenly over the ten classes its samples
// are recognized, against the test images. At the end: pictures (PNG), a
// JSON report, the loss curve and the per-epoch table as CSV.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
#include <ctnn/train/checkpoint.hpp>
#include <models/autoencoder.hpp>
#include <models/gan.hpp>
#include <models/lenet.hpp>
#include <models/vae.hpp>
#include <nlohmann/json.hpp>

#include "command_line.hpp"
#include "output_directory.hpp"
#include "fashion_mnist_splits.hpp"

namespace fs = std::filesystem;
namespace ae = ctnn::models::autoencoder;
namespace vae = ctnn::models::vae;
namespace gan = ctnn::models::gan;
using ctnn_apps::parse_number;
using ctnn_apps::usage_error;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t B = 64, P = 784, side = 28;
static_assert(ae::pixels == P && vae::pixels == P && gan::pixels == P);

struct options {
  std::string command;
  fs::path data = ctnn::io::fashion_mnist_dir();
  int epochs = 0;  // 0: the command's default
  double lr = 0;   // 0: the command's default
  double mask = 0.3;  // denoising: the share of input pixels zeroed
  std::uint64_t seed = 1;
  int threads = 0;
  std::size_t limit = 0;  // training images used, 0: all
  fs::path out;
  fs::path classifier;  // gan: a LeNet checkpoint that scores the samples
  bool quiet = false;
};

int default_epochs(std::string_view command) { return command == "gan" ? 5 : 10; }
// DCGAN's Adam (Radford et al.): a lower rate than the autoencoders' and β1 0.5.
double default_lr(std::string_view command) { return command == "gan" ? 2e-4 : 1e-3; }

class progress_line {
 public:
  progress_line(bool quiet, int epochs, std::size_t steps)
      : enabled_(!quiet), tty_(isatty(fileno(stderr)) != 0), epochs_(epochs), steps_(steps) {}
  void start() { start_ = clock_type::now(); }
  void update(int epoch, std::size_t done, double mean_loss) {
    char text[32];
    std::snprintf(text, sizeof text, "loss %.3f", mean_loss);
    update(epoch, done, text);
  }
  // `losses`: the running means, as text ("D 1.234  G 0.567").
  void update(int epoch, std::size_t done, const char* losses) {
    if (!enabled_) return;
    const bool last = done == steps_;
    if (!tty_ && !last && done % std::max<std::size_t>(1, steps_ / 10) != 0) return;
    const double s = std::chrono::duration<double>(clock_type::now() - start_).count();
    constexpr int width = 30;
    const int filled = int(double(width) * double(done) / double(steps_));
    std::fprintf(stderr, "%sepoch %d/%d [%.*s%*s] %zu/%zu  %s  %.0f images/s%s", tty_ ? "\r" : "", epoch + 1,
                 epochs_, filled, "##############################", width - filled, "", done, steps_, losses,
                 double(done * B) / std::max(s, 1e-9), tty_ ? "  " : "\n");
    if (tty_ && last) std::fputc('\n', stderr);
  }

 private:
  bool enabled_, tty_;
  int epochs_;
  std::size_t steps_;
  clock_type::time_point start_;
};

// Rows [first, first + B) of a data set (fewer at its end: the rest zero);
// returns how many are real.
std::size_t fill_batch(const ctnn::io::dataset& d, std::span<const std::size_t> order, std::size_t first,
                       std::vector<float>& x) {
  const std::size_t n = std::min(B, order.size() - first);
  std::fill(x.begin(), x.end(), 0.0f);
  for (std::size_t b = 0; b < n; ++b)
    std::copy_n(d.images.data() + order[first + b] * P, P, x.data() + b * P);
  return n;
}

// Masking noise: each pixel zeroed with probability `share`.
void corrupt(const std::vector<float>& clean, std::vector<float>& noisy, double share, std::mt19937_64& rng) {
  std::bernoulli_distribution drop(share);
  for (std::size_t i = 0; i < clean.size(); ++i) noisy[i] = drop(rng) ? 0.0f : clean[i];
}

double bernoulli_nll(float logit, float t) {  // −log p(t | sigmoid(logit)), stable
  const double x = logit;
  return std::max(x, 0.0) - double(t) * x + std::log1p(std::exp(-std::abs(x)));
}

std::vector<std::size_t> iota_order(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

ctnn::io::picture grid(std::span<const float> images, std::size_t count, std::size_t cols) {
  ctnn::io::grid_options g;
  g.cols = cols;
  g.range = ctnn::io::value_range{0.0f, 1.0f};
  return ctnn::io::image_grid(images, count, 1, side, side, g);
}

void save(const fs::path& path, const ctnn::io::picture& p, nlohmann::json& list) {
  ctnn::io::write_png(path, ctnn::io::enlarge(p, 2));
  list.push_back(path.filename().string());
  std::printf("wrote %s\n", path.c_str());
}

struct run_log {
  std::vector<float> curve;  // loss per step
  nlohmann::json epochs = nlohmann::json::array();
  double seconds = 0;
};

// The training loop shared by the three commands: `step(x, b)` trains on
// batch x (its B rows, shuffled) and returns the loss; `score(e)` returns the
// epoch's test-set entry for the report.
template <class Step, class Score>
void train_epochs(const options& o, const ctnn::io::dataset& train, Step&& step, Score&& score, run_log& log) {
  std::mt19937_64 shuffle_rng(o.seed);
  std::vector<std::size_t> order = iota_order(train.count);
  const std::size_t steps = train.count / B;
  std::vector<float> x(B * P);
  progress_line bar(o.quiet, o.epochs, steps);
  for (int e = 0; e < o.epochs; ++e) {
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    bar.start();
    const auto start = clock_type::now();
    double sum = 0;
    for (std::size_t s = 0; s < steps; ++s) {
      fill_batch(train, order, s * B, x);
      const float loss = step(x);
      log.curve.push_back(loss);
      sum += loss;
      bar.update(e, s + 1, sum / double(s + 1));
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    log.seconds += seconds;
    nlohmann::json entry = score();
    entry["epoch"] = e + 1;
    entry["train_loss"] = sum / double(steps);
    entry["seconds"] = seconds;
    log.epochs.push_back(entry);
    std::printf("epoch %d/%d  train loss %.3f  %s  %.1f s\n", e + 1, o.epochs, sum / double(steps),
                entry["summary"].get<std::string>().c_str(), seconds);
    std::fflush(stdout);
  }
}

// ---------------------------------------------------------------------------
// The autoencoders

struct reconstruction_score {
  double mse = 0;  // per pixel
  double bce = 0;  // per image, nats
};

// The test set through the autoencoder, clean or with masking noise drawn
// from a fixed seed (the same corruption every epoch).
template <class Model>
reconstruction_score score_autoencoder(Model& m, const ctnn::io::dataset& test, double mask) {
  std::mt19937_64 rng(12345);
  const std::vector<std::size_t> order = iota_order(test.count);
  std::vector<float> x(B * P), in(B * P);
  reconstruction_score s;
  for (std::size_t first = 0; first < test.count; first += B) {
    const std::size_t n = fill_batch(test, order, first, x);
    if (mask > 0) corrupt(x, in, mask, rng);
    else in = x;
    const auto y = m.predict(ctnn::feed<"image">(in));
    for (std::size_t i = 0; i < n * P; ++i) {
      const double p = std::clamp(double(y[i]), 1e-7, 1 - 1e-7);
      s.mse += (p - x[i]) * (p - x[i]);
      s.bce -= x[i] * std::log(p) + (1 - x[i]) * std::log(1 - p);
    }
  }
  s.mse /= double(test.count * P);
  s.bce /= double(test.count);
  return s;
}

int run_autoencoder(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test,
                    nlohmann::json& report) {
  const bool denoising = o.command == "denoising";
  ctnn::trainer<ae::network, ctnn::batch<B>, ctnn::optim::adam> trainer({.lr = o.lr}, o.seed);
  auto& m = trainer.model();

  // The baseline: every test image predicted as the training set's mean image.
  std::vector<double> mean_image(P, 0.0);
  for (std::size_t i = 0; i < train.count * P; ++i) mean_image[i % P] += train.images[i];
  for (double& v : mean_image) v /= double(train.count);
  double mean_mse = 0;
  for (std::size_t i = 0; i < test.count * P; ++i) mean_mse += std::pow(mean_image[i % P] - test.images[i], 2);
  mean_mse /= double(test.count * P);
  std::printf("%s autoencoder: 784 -> %zu sigmoid code -> 784 (tied weights), %zu parameters%s\n",
              denoising ? "denoising" : "tied", ae::code_size, std::size_t(ae::network::param_count),
              denoising ? ("; " + std::to_string(int(o.mask * 100)) + "% of the input pixels zeroed").c_str() : "");
  std::printf("test error of the mean image: %.5f per pixel\n", mean_mse);

  std::mt19937_64 noise_rng(o.seed + 1);
  std::vector<float> noisy(B * P);
  run_log log;
  reconstruction_score last;
  train_epochs(
      o, train,
      [&](const std::vector<float>& x) {
        if (!denoising) return trainer.step(ctnn::feed<"image">(x), ctnn::feed<"target">(x));
        corrupt(x, noisy, o.mask, noise_rng);
        return trainer.step(ctnn::feed<"image">(noisy), ctnn::feed<"target">(x));
      },
      [&] {
        last = score_autoencoder(m, test, 0.0);
        nlohmann::json entry = {{"test_mse_per_pixel", last.mse}, {"test_bce_per_image", last.bce}};
        char text[160];
        int k = std::snprintf(text, sizeof text, "test error %.5f per pixel (BCE %.2f nats/image)", last.mse, last.bce);
        if (denoising) {
          const reconstruction_score c = score_autoencoder(m, test, o.mask);
          entry["test_mse_per_pixel_corrupted_input"] = c.mse;
          std::snprintf(text + k, sizeof text - std::size_t(k), ", from corrupted input %.5f", c.mse);
        }
        entry["summary"] = text;
        return entry;
      },
      log);

  // Pictures: ten test images above their reconstructions (the corrupted
  // input between them for the denoising autoencoder), and the 128 filters.
  nlohmann::json pictures = nlohmann::json::array();
  {
    std::vector<float> x(B * P), in(B * P), rows;
    fill_batch(test, iota_order(test.count), 0, x);
    std::mt19937_64 rng(12345);
    if (denoising) corrupt(x, in, o.mask, rng);
    else in = x;
    const auto y = m.predict(ctnn::feed<"image">(in));
    const std::size_t n = std::min<std::size_t>(10, test.count);
    rows.insert(rows.end(), x.begin(), x.begin() + long(n * P));
    if (denoising) rows.insert(rows.end(), in.begin(), in.begin() + long(n * P));
    rows.insert(rows.end(), y.begin(), y.begin() + long(n * P));
    save(o.out / (o.command + "_reconstructions.png"), grid(rows, rows.size() / P, n), pictures);

    const auto w = m.param_span("enc.weight");  // [784, 128]: filter j is column j
    std::vector<float> filters(ae::code_size * P);
    for (std::size_t i = 0; i < P; ++i)
      for (std::size_t j = 0; j < ae::code_size; ++j) filters[j * P + i] = w[i * ae::code_size + j];
    save(o.out / (o.command + "_filters.png"), ctnn::io::filter_mosaic(filters, ae::code_size, 1, side, side, 16),
         pictures);
  }
  report["model"] = {{"kind", o.command}, {"code", ae::code_size}, {"parameters", std::size_t(ae::network::param_count)},
                     {"tied_weights", true}};
  if (denoising) report["model"]["masked_share"] = o.mask;
  report["baseline_mean_image_mse_per_pixel"] = mean_mse;
  report["test_mse_per_pixel"] = last.mse;
  report["pictures"] = pictures;
  report["epochs"] = log.epochs;
  report["training_seconds"] = log.seconds;
  report["loss_curve"] = log.curve;
  return 0;
}

// ---------------------------------------------------------------------------
// The VAE

struct elbo_score {
  double elbo = 0, reconstruction = 0, kl = 0;  // per image, nats
};

template <class Model>
elbo_score score_vae(Model& m, const ctnn::io::dataset& test) {
  std::mt19937_64 rng(54321);  // the same ε every epoch
  std::normal_distribution<float> normal;
  const std::vector<std::size_t> order = iota_order(test.count);
  std::vector<float> x(B * P), eps(B * vae::latent), mean(B * vae::latent), log_var(B * vae::latent);
  elbo_score s;
  for (std::size_t first = 0; first < test.count; first += B) {
    const std::size_t n = fill_batch(test, order, first, x);
    for (float& v : eps) v = normal(rng);
    const auto mu = m.template predict<0>(ctnn::feed<"image">(x));
    std::copy(mu.begin(), mu.end(), mean.begin());
    const auto lv = m.template predict<1>(ctnn::feed<"image">(x));
    std::copy(lv.begin(), lv.end(), log_var.begin());
    const auto logits = m.template predict<2>(ctnn::feed<"image">(x), ctnn::feed<"eps">(eps));
    for (std::size_t i = 0; i < n * P; ++i) s.reconstruction += bernoulli_nll(logits[i], x[i]);
    for (std::size_t i = 0; i < n * vae::latent; ++i)
      s.kl -= 0.5 * (1.0 + log_var[i] - double(mean[i]) * mean[i] - std::exp(double(log_var[i])));
  }
  s.reconstruction /= double(test.count);
  s.kl /= double(test.count);
  s.elbo = -(s.reconstruction + s.kl);
  return s;
}

int run_vae(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test, nlohmann::json& report) {
  ctnn::trainer<vae::network, ctnn::batch<B>, ctnn::optim::adam> trainer({.lr = o.lr}, o.seed);
  auto& m = trainer.model();
  std::printf("VAE: 784 -> %zu -> mean, log-variance of %zu -> %zu -> 784 logits, %zu parameters\n", vae::hidden,
              vae::latent, vae::hidden, std::size_t(vae::network::param_count));
  std::mt19937_64 noise_rng(o.seed + 1);
  std::normal_distribution<float> normal;
  std::vector<float> eps(B * vae::latent);
  run_log log;
  elbo_score last;
  train_epochs(
      o, train,
      [&](const std::vector<float>& x) {
        for (float& v : eps) v = normal(noise_rng);
        return trainer.step(ctnn::feed<"image">(x), ctnn::feed<"eps">(eps));
      },
      [&] {
        last = score_vae(m, test);
        char text[160];
        std::snprintf(text, sizeof text, "test ELBO %.2f nats/image (reconstruction %.2f, KL %.2f)", last.elbo,
                      last.reconstruction, last.kl);
        return nlohmann::json{{"test_elbo", last.elbo},
                              {"test_reconstruction_nll", last.reconstruction},
                              {"test_kl", last.kl},
                              {"summary", text}};
      },
      log);

  // The decoder alone, given the trained parameters by name.
  ctnn::model<vae::decoder, B> decoder;
  for (const ctnn::named_tensor& t : ctnn::checkpoint_tensors<vae::decoder>()) {
    const auto from = m.param_span(t.name);
    std::copy(from.begin(), from.end(), decoder.param_span(t.name).begin());
  }
  nlohmann::json pictures = nlohmann::json::array();
  {
    std::mt19937_64 rng(o.seed + 2);
    std::vector<float> z(B * vae::latent);
    for (float& v : z) v = normal(rng);
    const auto samples = decoder.predict(ctnn::feed<"z">(z));
    save(o.out / "vae_samples.png", grid(samples, B, 8), pictures);
  }
  {
    // From the first test image to the first of another class, through the
    // means of their codes: both ends, and ten decoded steps between.
    std::size_t a = 0, b = 1;
    while (b + 1 < test.count && test.labels[b] == test.labels[a]) ++b;
    std::vector<float> x(B * P, 0.0f);
    std::copy_n(test.images.data() + a * P, P, x.data());
    std::copy_n(test.images.data() + b * P, P, x.data() + P);
    const auto mu = m.template predict<0>(ctnn::feed<"image">(x));
    constexpr std::size_t steps = 10;
    std::vector<float> z(B * vae::latent, 0.0f);
    for (std::size_t k = 0; k < steps; ++k) {
      const float t = float(k) / float(steps - 1);
      for (std::size_t i = 0; i < vae::latent; ++i)
        z[k * vae::latent + i] = (1 - t) * mu[i] + t * mu[vae::latent + i];
    }
    const auto decoded = decoder.predict(ctnn::feed<"z">(z));
    std::vector<float> row(x.begin(), x.begin() + long(P));
    row.insert(row.end(), decoded.begin(), decoded.begin() + long(steps * P));
    row.insert(row.end(), x.begin() + long(P), x.begin() + long(2 * P));
    save(o.out / "vae_interpolation.png", grid(row, steps + 2, steps + 2), pictures);
    report["interpolation"] = {{"from_test_image", a}, {"to_test_image", b}};
  }
  report["model"] = {{"kind", "vae"}, {"hidden", vae::hidden}, {"latent", vae::latent},
                     {"parameters", std::size_t(vae::network::param_count)}};
  report["test_elbo"] = last.elbo;
  report["pictures"] = pictures;
  report["epochs"] = log.epochs;
  report["training_seconds"] = log.seconds;
  report["loss_curve"] = log.curve;
  return 0;
}

// ---------------------------------------------------------------------------
// The GAN

// Adam on one model's flat parameters and gradients. The trainer's step()
// takes its gradients from the network's own loss; the generator has none
// (its gradient comes back through the discriminator), and the
// discriminator's update sums two passes.
template <class Net>
class adam_for {
 public:
  explicit adam_for(double lr)
      : adam_{.lr = lr, .beta1 = 0.5}, state_(ctnn::optim::state_size<ctnn::optim::adam, float>(Net::param_buffer_size)) {}
  void update(ctnn::model<Net, B>& m) {
    adam_.template update<Net::param_buffer_size>(m.parameters().data(), m.gradients().data(), state_.data());
  }

 private:
  ctnn::optim::adam adam_;
  ctnn::aligned_buffer<float> state_;
};

// How a trained LeNet sees a set of images: the mean of its largest softmax
// probability (how sure it is), and the entropy in nats of the histogram of
// its predicted classes (how evenly the images spread over the ten classes;
// ln 10 = 2.303 at most).
struct class_spread {
  double mean_max_probability = 0, class_entropy = 0;
  std::size_t images = 0;
};

using lenet_model = ctnn::model<ctnn::models::lenet::network, B>;
inline constexpr std::size_t classes = 10;

class class_counter {
 public:
  void add(std::span<const float> logits, std::size_t n) {
    for (std::size_t b = 0; b < n; ++b) {
      const auto row = logits.subspan(b * classes, classes);
      const auto top = std::max_element(row.begin(), row.end());
      double sum = 0;
      for (float v : row) sum += std::exp(double(v) - double(*top));
      max_probability_ += 1.0 / sum;
      ++counts_[std::size_t(top - row.begin())];
      ++images_;
    }
  }
  class_spread result() const {
    class_spread s;
    s.images = images_;
    if (images_ == 0) return s;
    s.mean_max_probability = max_probability_ / double(images_);
    for (std::size_t c : counts_)
      if (c > 0) {
        const double p = double(c) / double(images_);
        s.class_entropy -= p * std::log(p);
      }
    return s;
  }

 private:
  std::array<std::size_t, classes> counts_{};
  double max_probability_ = 0;
  std::size_t images_ = 0;
};

// LeNet was trained by ctnn_train on the pixels as read, in [0, 1]: the
// generator's sigmoid outputs are in the same range, so they go in as they are.
class_spread classify_test_images(lenet_model& lenet, const ctnn::io::dataset& test, std::size_t n) {
  const std::vector<std::size_t> order = iota_order(test.count);
  std::vector<float> x(B * P);
  class_counter counter;
  for (std::size_t first = 0; first < n; first += B) {
    const std::size_t real = std::min(fill_batch(test, order, first, x), n - first);
    counter.add(lenet.predict(ctnn::feed<"image">(x)), real);
  }
  return counter.result();
}

// n samples from codes drawn with a fixed seed: the same codes every epoch.
template <class Generator>
class_spread classify_samples(Generator& g, lenet_model& lenet, std::size_t n) {
  std::mt19937_64 rng(98765);
  std::normal_distribution<float> normal;
  std::vector<float> z(B * gan::code_size);
  class_counter counter;
  for (std::size_t first = 0; first < n; first += B) {
    for (float& v : z) v = normal(rng);
    const auto images = g.predict(ctnn::feed<"z">(z));
    counter.add(lenet.predict(ctnn::feed<"image">(images)), std::min(B, n - first));
  }
  return counter.result();
}

nlohmann::json spread_json(const class_spread& s) {
  return {{"images", s.images}, {"mean_max_probability", s.mean_max_probability}, {"class_entropy", s.class_entropy}};
}

double mean_probability(std::span<const float> logits) {
  double sum = 0;
  for (float v : logits) sum += 1.0 / (1.0 + std::exp(-double(v)));
  return sum / double(logits.size());
}

int run_gan(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test, nlohmann::json& report) {
  using generator_model = ctnn::model<gan::generator, B>;
  using discriminator_model = ctnn::model<gan::discriminator, B>;
  generator_model g(o.seed);
  discriminator_model d(o.seed + 100);
  adam_for<gan::generator> g_adam(o.lr);
  adam_for<gan::discriminator> d_adam(o.lr);
  std::printf("DCGAN: generator z %zu -> 7x7x128 -> 14x14x64 -> 28x28, %zu parameters; discriminator 28x28 -> "
              "14x14x64 -> 7x7x128 -> 1 logit, %zu parameters\n",
              gan::code_size, std::size_t(gan::generator::param_count), std::size_t(gan::discriminator::param_count));

  // The quality figures need a classifier; the real test images' figures are the target.
  std::optional<lenet_model> lenet;
  const std::size_t scored = std::min<std::size_t>(10'000, test.count);
  class_spread real;
  if (!o.classifier.empty()) {
    lenet.emplace();
    try {
      ctnn::load_checkpoint(o.classifier, *lenet);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--classifier: ") + e.what());
    }
    real = classify_test_images(*lenet, test, scored);
    std::printf("classifier %s on %zu test images: mean max-probability %.3f, class entropy %.3f nats\n",
                o.classifier.c_str(), real.images, real.mean_max_probability, real.class_entropy);
  }

  std::mt19937_64 shuffle_rng(o.seed), noise_rng(o.seed + 1);
  std::normal_distribution<float> normal;
  std::vector<float> fixed_z(B * gan::code_size);  // the sample grids' codes, the same every epoch
  {
    std::mt19937_64 rng(o.seed + 2);
    for (float& v : fixed_z) v = normal(rng);
  }
  std::vector<std::size_t> order = iota_order(train.count);
  const std::size_t steps = train.count / B;
  std::vector<float> x(B * P), z(B * gan::code_size), fake(B * P), real_grads(d.gradients().size());
  // The targets: 1 real, 0 generated.
  const std::vector<float> ones(B, 1.0f), zeros(B, 0.0f);
  constexpr std::size_t generated = gan::generator::output_ids[0], logit = gan::discriminator::output_ids[0];
  std::vector<float> d_curve, g_curve;
  d_curve.reserve(steps * std::size_t(o.epochs));
  g_curve.reserve(steps * std::size_t(o.epochs));
  nlohmann::json epochs = nlohmann::json::array(), pictures = nlohmann::json::array();
  progress_line bar(o.quiet, o.epochs, steps);
  double training_seconds = 0;
  class_spread last;
  for (int e = 0; e < o.epochs; ++e) {
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    bar.start();
    const auto start = clock_type::now();
    double d_sum = 0, g_sum = 0, real_sum = 0, fake_sum = 0;
    for (std::size_t s = 0; s < steps; ++s) {
      fill_batch(train, order, s * B, x);
      for (float& v : z) v = normal(noise_rng);
      // The generator in training mode (batch statistics); its activations
      // stay for the backward pass of the generator's step below.
      g.forward(ctnn::feed<"z">(z));
      const auto images = g.value(generated);
      std::copy(images.begin(), images.end(), fake.begin());

      // The discriminator's step: the gradients of the real batch against 1
      // and of the generated one against 0, summed, then one update. Two
      // batches rather than one of both, so that each pass sees B images of
      // one kind and the model keeps the batch size the generator's step needs.
      const float d_real = d.forward_backward(ctnn::feed<"image">(x), ctnn::feed<"target">(ones));
      real_sum += mean_probability(d.value(logit));
      std::copy(d.gradients().begin(), d.gradients().end(), real_grads.begin());
      const float d_fake = d.forward_backward(ctnn::feed<"image">(fake), ctnn::feed<"target">(zeros));
      fake_sum += mean_probability(d.value(logit));
      const std::span<float> grads = d.gradients();
      for (std::size_t i = 0; i < grads.size(); ++i) grads[i] += real_grads[i];
      d_adam.update(d);

      // The generator's step, the non-saturating loss −log D(G(z)): the
      // updated discriminator judges the same batch against target 1; its
      // gradient with respect to the image goes back through the generator.
      // The discriminator's own gradients from this pass are not used.
      const float g_loss = d.forward_backward(ctnn::feed<"image">(fake), ctnn::feed<"target">(ones));
      g.backward_from<"up28">(d.input_grad<"image">());
      g_adam.update(g);

      d_curve.push_back(d_real + d_fake);
      g_curve.push_back(g_loss);
      d_sum += d_real + d_fake;
      g_sum += g_loss;
      char text[48];
      std::snprintf(text, sizeof text, "D %.3f  G %.3f", d_sum / double(s + 1), g_sum / double(s + 1));
      bar.update(e, s + 1, text);
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    training_seconds += seconds;
    nlohmann::json entry = {{"epoch", e + 1},
                            {"d_loss", d_sum / double(steps)},
                            {"g_loss", g_sum / double(steps)},
                            {"d_real", real_sum / double(steps)},
                            {"d_fake", fake_sum / double(steps)},
                            {"seconds", seconds}};
    // Batch norm in evaluation mode (running statistics) for the pictures and scores.
    save(o.out / ("samples_epoch_" + std::to_string(e + 1) + ".png"), grid(g.predict(ctnn::feed<"z">(fixed_z)), B, 8),
         pictures);
    char quality[120] = "";
    if (lenet) {
      last = classify_samples(g, *lenet, scored);
      entry["generated"] = spread_json(last);
      std::snprintf(quality, sizeof quality, "  samples: max-probability %.3f, class entropy %.3f",
                    last.mean_max_probability, last.class_entropy);
    }
    epochs.push_back(entry);
    std::printf("epoch %d/%d  D loss %.3f  G loss %.3f  D(real) %.3f  D(G(z)) %.3f%s  %.1f s\n", e + 1, o.epochs,
                d_sum / double(steps), g_sum / double(steps), real_sum / double(steps), fake_sum / double(steps),
                quality, seconds);
    std::fflush(stdout);
  }
  save(o.out / "gan_samples.png", grid(g.predict(ctnn::feed<"z">(fixed_z)), B, 8), pictures);

  report["recipe"]["beta1"] = 0.5;
  report["model"] = {{"kind", "gan"},
                     {"code", gan::code_size},
                     {"generator_parameters", std::size_t(gan::generator::param_count)},
                     {"discriminator_parameters", std::size_t(gan::discriminator::param_count)},
                     {"loss", "non-saturating: the generator minimizes -log D(G(z))"}};
  if (lenet) {
    const double ratio = real.class_entropy > 0 ? last.class_entropy / real.class_entropy : 0.0;
    report["quality"] = {{"classifier", o.classifier.string()},
                         {"generated", spread_json(last)},
                         {"real", spread_json(real)},
                         {"entropy_ratio", ratio}};
    std::printf("generated: mean max-probability %.3f, class entropy %.3f nats; test images: %.3f, %.3f nats "
                "(ratio %.2f)\n",
                last.mean_max_probability, last.class_entropy, real.mean_max_probability, real.class_entropy, ratio);
  }
  report["d_loss"] = epochs.back()["d_loss"];
  report["g_loss"] = epochs.back()["g_loss"];
  report["pictures"] = pictures;
  report["epochs"] = epochs;
  report["training_seconds"] = training_seconds;
  report["loss_curve"] = d_curve;
  report["g_loss_curve"] = g_curve;
  return 0;
}

// ---------------------------------------------------------------------------

std::optional<int> read_command_line(int argc, char** argv, options& o) {
  using ctnn_apps::add_flag_with_value;
  const std::string commands = "autoencoder, denoising, vae or gan";
  if (argc < 2 || std::string_view(argv[1]).starts_with("-")) {
    if (argc >= 2 && (std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help")) {
      std::printf(
          "usage: ctnn_generative COMMAND [flags]\n\nCOMMAND: autoencoder (tied weights), denoising (tied weights, "
          "masking noise on the input), vae or gan (DCGAN)\nrun 'ctnn_generative COMMAND --help' for the flags\n");
      return 0;
    }
    std::fprintf(stderr, "ctnn_generative: the first argument must be a command: %s\n", commands.c_str());
    return 2;
  }
  o.command = argv[1];
  if (o.command != "autoencoder" && o.command != "denoising" && o.command != "vae" && o.command != "gan") {
    std::fprintf(stderr, "ctnn_generative: '%s' is not a command; the commands are %s\n", argv[1], commands.c_str());
    return 2;
  }
  o.out = "out_" + o.command;
  CLI::App app{"", "ctnn_generative " + o.command};
  app.description("Trains the " + o.command + " model on Fashion-MNIST and writes pictures and a report.");
  app.set_help_flag("-h,--help", "this text");
  add_flag_with_value(app, "--data", "DIR", "the Fashion-MNIST directory (default " + o.data.string() + ")",
                      [&o](const std::string& t) { o.data = t; });
  add_flag_with_value(app, "--epochs", "N",
                      "passes over the training set, 1 to 1000 (default " +
                          std::to_string(default_epochs(o.command)) + ")",
                      [&o](const std::string& t) {
                        o.epochs = parse_number<int>("--epochs", t);
                        if (o.epochs < 1 || o.epochs > 1000) throw usage_error("--epochs: must be 1 to 1000");
                      });
  add_flag_with_value(app, "--lr", "X",
                      std::string("Adam's learning rate (default ") + (o.command == "gan" ? "0.0002" : "0.001") + ")",
                      [&o](const std::string& t) {
                        o.lr = std::stod(t);
                        if (!(o.lr > 0 && o.lr < 1)) throw usage_error("--lr: must lie between 0 and 1");
                      });
  add_flag_with_value(app, "--mask", "SHARE", "denoising: the share of input pixels zeroed (default 0.3)",
                      [&o](const std::string& t) {
                        o.mask = std::stod(t);
                        if (!(o.mask >= 0 && o.mask < 1)) throw usage_error("--mask: must be at least 0 and below 1");
                      });
  add_flag_with_value(app, "--limit", "N", "use only the first N training images (default all)",
                      [&o](const std::string& t) { o.limit = parse_number<std::size_t>("--limit", t); });
  add_flag_with_value(app, "--seed", "N", "initialization, shuffling and noise (default 1)",
                      [&o](const std::string& t) { o.seed = parse_number<std::uint64_t>("--seed", t); });
  add_flag_with_value(app, "--threads", "N", "OpenMP threads (default: OpenMP's)",
                      [&o](const std::string& t) { o.threads = parse_number<int>("--threads", t); });
  add_flag_with_value(app, "--out", "DIR", "where the report, curves and pictures go (default out_COMMAND)",
                      [&o](const std::string& t) { o.out = t; });
  if (o.command == "gan")
    add_flag_with_value(app, "--classifier", "FILE",
                        "a checkpoint of ctnn_train --model lenet: how it classifies the samples, against the test "
                        "images (default: not scored)",
                        [&o](const std::string& t) { o.classifier = t; });
  ctnn_apps::add_switch(app, "--quiet", "no progress bar", o.quiet);
  if (auto status = ctnn_apps::parse_command_line(app, argc - 1, argv + 1)) return status;
  if (o.epochs == 0) o.epochs = default_epochs(o.command);
  if (o.lr == 0) o.lr = default_lr(o.command);
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const auto status = read_command_line(argc, argv, o)) return *status;
#if defined(_OPENMP)
  if (o.threads > 0) omp_set_num_threads(o.threads);
#endif
  auto splits = ctnn_apps::load_fashion_mnist_splits("ctnn_generative", o.data, o.limit, B);
  if (!splits) return 1;
  ctnn::io::dataset& train = splits->train;
  const ctnn::io::dataset& test = splits->test;
  if (!ctnn_apps::make_output_directory("ctnn_generative", o.out)) return 1;
  nlohmann::json report = {{"app", "ctnn_generative"},
                           {"command", o.command},
                           {"data", {{"directory", o.data.string()}, {"training", train.count}, {"test", test.count}}},
                           {"recipe", {{"optimizer", "adam"}, {"lr", o.lr}, {"batch", B}, {"epochs", o.epochs},
                                       {"seed", o.seed}, {"limit", o.limit}}},
                           {"simd", ctnn::kernels::simd_name()}};
  int status = 0;
  try {
    const bool is_gan = o.command == "gan";
    status = o.command == "vae" ? run_vae(o, train, test, report)
             : is_gan           ? run_gan(o, train, test, report)
                                : run_autoencoder(o, train, test, report);
    std::vector<float> curve = report["loss_curve"].get<std::vector<float>>(), g_curve;
    report.erase("loss_curve");
    if (is_gan) {
      g_curve = report["g_loss_curve"].get<std::vector<float>>();
      report.erase("g_loss_curve");
    }
    std::ofstream(o.out / "report.json") << report.dump(2) << "\n";
    std::ofstream csv(o.out / "loss_curve.csv");
    csv << (is_gan ? "step,d_loss,g_loss\n" : "step,loss\n");
    for (std::size_t k = 0; k < curve.size(); ++k) {
      csv << k + 1 << "," << curve[k];
      if (is_gan) csv << "," << g_curve[k];
      csv << "\n";
    }
    std::ofstream table(o.out / "epochs.csv");
    const bool is_vae = o.command == "vae";
    if (is_gan) {
      // The sample scores are empty without --classifier.
      table << "epoch,d_loss,g_loss,d_real,d_fake,generated_max_probability,generated_class_entropy,seconds\n";
      for (const auto& e : report["epochs"]) {
        table << e["epoch"].get<int>() << "," << e["d_loss"].get<double>() << "," << e["g_loss"].get<double>() << ","
              << e["d_real"].get<double>() << "," << e["d_fake"].get<double>() << ",";
        if (e.contains("generated"))
          table << e["generated"]["mean_max_probability"].get<double>() << ","
                << e["generated"]["class_entropy"].get<double>();
        else
          table << ",";
        table << "," << e["seconds"].get<double>() << "\n";
      }
    } else {
      table << (is_vae ? "epoch,train_loss,test_elbo,test_reconstruction_nll,test_kl,seconds\n"
                       : "epoch,train_loss,test_mse_per_pixel,test_bce_per_image,seconds\n");
      for (const auto& e : report["epochs"]) {
        table << e["epoch"].get<int>() << "," << e["train_loss"].get<double>() << ",";
        if (is_vae)
          table << e["test_elbo"].get<double>() << "," << e["test_reconstruction_nll"].get<double>() << ","
                << e["test_kl"].get<double>();
        else
          table << e["test_mse_per_pixel"].get<double>() << "," << e["test_bce_per_image"].get<double>();
        table << "," << e["seconds"].get<double>() << "\n";
      }
    }
    if (!csv || !table) throw std::runtime_error("cannot write the CSV files in " + o.out.string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nctnn_generative: %s\n", e.what());
    return 1;
  }
  std::printf("report: %s\n", (o.out / "report.json").c_str());
  return status;
}
