// ctnn_explain: what a trained LeNet (a checkpoint of ctnn_train --model
// lenet) looks at, as pictures and numbers: saliency maps and how much of
// their mass falls on the garment, occlusion sensitivity, one image per class
// by gradient ascent on its score, DeepDream on conv1 or conv2, the first
// layer's filters and the activation maps, and FGSM adversarial examples with
// their success rate. Writes PNGs and report.json into --out.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/idx.hpp>
#include <ctnn/io/png.hpp>
#include <ctnn/train/checkpoint.hpp>

#include "command_line.hpp"
#include "output_directory.hpp"
#include "explain_font.hpp"
#include "explain_methods.hpp"

namespace fs = std::filesystem;
using namespace ctnn_explain;
using json_value = nlohmann::ordered_json;

namespace {

constexpr std::size_t batch = 64;
using model_type = ctnn::model<network, batch, float>;
const std::vector<std::string> all_methods{"saliency", "occlusion", "class_model", "dream", "filters", "fgsm"};

struct options {
  fs::path checkpoint;
  fs::path data = ctnn::io::fashion_mnist_dir();
  fs::path out = "explain_out";
  std::set<std::string> methods{all_methods.begin(), all_methods.end()};
  std::size_t count = 10'000;  // test images for the scores
  std::size_t shown = 8;       // images in each picture
  std::string layer = "conv2";
  int steps = 200;
  std::uint64_t seed = 1;
  bool quiet = false;
};

// One line per stage, redrawn in place on a terminal: what runs, how far.
class progress {
 public:
  progress(bool quiet, std::string stage, std::size_t total)
      : enabled_(!quiet), tty_(isatty(fileno(stderr)) != 0), stage_(std::move(stage)), total_(total) {}
  void update(std::size_t done) {
    if (!enabled_ || total_ == 0) return;
    const bool last = done >= total_;
    const auto now = std::chrono::steady_clock::now();
    if (tty_ ? (now - drawn_ < std::chrono::milliseconds(100) && !last)
             : (done * 4 / total_ == (done - 1) * 4 / total_))
      return;
    drawn_ = now;
    const int filled = int(30 * std::min(done, total_) / total_);
    std::fprintf(stderr, "%s%-12s [%.*s%*s] %zu/%zu%s", tty_ ? "\r" : "", stage_.c_str(), filled,
                 "##############################", 30 - filled, "", std::min(done, total_), total_,
                 tty_ ? (last ? "\033[K\n" : "\033[K") : "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_, tty_;
  std::string stage_;
  std::size_t total_;
  std::chrono::steady_clock::time_point drawn_{};
};

// The first `n` test images as a batch (padded with blank images), and their labels.
struct batch_data {
  std::vector<float> images = std::vector<float>(batch * pixels, 0.0f);
  std::vector<std::uint8_t> labels = std::vector<std::uint8_t>(batch, 0);
  std::size_t fill(const ctnn::io::dataset& d, std::size_t first) {
    const std::size_t n = std::min(batch, d.count - first);
    std::fill(images.begin(), images.end(), 0.0f);
    std::fill(labels.begin(), labels.end(), std::uint8_t(0));
    std::copy_n(d.images.begin() + long(first * pixels), n * pixels, images.begin());
    std::copy_n(d.labels.begin() + long(first), n, labels.begin());
    return n;
  }
};

std::string class_name(std::size_t c) { return std::string(ctnn::io::fashion_mnist_class_names[c]); }

ctnn::io::picture grid(std::span<const float> images, std::size_t n, std::size_t cols, std::size_t zoom,
                       std::optional<ctnn::io::value_range> range = ctnn::io::value_range{0, 1}) {
  ctnn::io::grid_options g;
  g.cols = cols;
  g.range = range;
  return ctnn::io::enlarge(ctnn::io::image_grid(images.subspan(0, n * pixels), n, 1, height, width, g), zoom);
}

// Heat maps of `heat` over `images`, side by side with the images above them.
ctnn::io::picture heat_row(std::span<const float> images, std::span<const float> heat, std::size_t n,
                           ctnn::io::colour_map map, std::size_t zoom) {
  std::vector<ctnn::io::picture> originals, heats;
  for (std::size_t i = 0; i < n; ++i) {
    const auto img = images.subspan(i * pixels, pixels);
    ctnn::io::heat_options h;
    h.map = map;
    h.opacity = 0.7f;
    originals.push_back(grid(img, 1, 1, zoom));
    heats.push_back(ctnn::io::enlarge(
        ctnn::io::heat_map(img, heat.subspan(i * height * width, height * width), height, width, h), zoom));
  }
  const std::vector<ctnn::io::picture> rows{ctnn::io::stack(originals), ctnn::io::stack(heats)};
  return ctnn::io::stack(rows, true);
}

json_value saliency_part(model_type& m, const ctnn::io::dataset& test, const options& o, scratch<float>& s) {
  batch_data b;
  std::vector<float> maps(batch * height * width);
  double sum = 0;
  std::size_t counted = 0;
  progress bar(o.quiet, "saliency", o.count);
  for (std::size_t first = 0; first < o.count; first += batch) {
    const std::size_t n = b.fill(test, first);
    saliency(m, std::span<const float>(b.images), std::span<const std::uint8_t>(b.labels), std::span<float>(maps), s);
    for (std::size_t k = 0; k < std::min(n, o.count - first); ++k) {
      const double r =
          object_saliency_ratio<float>(std::span<const float>(b.images).subspan(k * pixels, pixels),
                                       std::span<const float>(maps).subspan(k * height * width, height * width));
      if (std::isfinite(r)) sum += r, ++counted;
    }
    if (first == 0)
      ctnn::io::write_png(o.out / "saliency.png",
                          heat_row(b.images, maps, std::min(o.shown, n), ctnn::io::colour_map::sequential, 4));
    bar.update(first + n);
  }
  const double ratio = counted ? sum / double(counted) : NAN;
  std::printf("saliency: mass on the garment / its share of the image, mean over %zu images: %.3f\n", counted, ratio);
  return {{"images", counted}, {"object_ratio", ratio}, {"picture", "saliency.png"}};
}

json_value occlusion_part(model_type& m, const ctnn::io::dataset& test, const options& o, scratch<float>& s) {
  const std::size_t n = std::min(o.shown, test.count), patch = 6, stride = 2;
  std::vector<float> maps(n * height * width), drops;
  progress bar(o.quiet, "occlusion", n);
  json_value largest = json_value::array();
  for (std::size_t i = 0; i < n; ++i) {
    occlusion(m, std::span<const float>(test.images).subspan(i * pixels, pixels), test.labels[i], patch, stride, 0.0f,
              drops, std::span<float>(maps).subspan(i * height * width, height * width), s);
    largest.push_back(*std::max_element(drops.begin(), drops.end()));
    bar.update(i + 1);
  }
  ctnn::io::write_png(o.out / "occlusion.png", heat_row(test.images, maps, n, ctnn::io::colour_map::diverging, 4));
  return {{"patch", patch}, {"stride", stride}, {"fill", 0.0}, {"largest_drop", largest}, {"picture", "occlusion.png"}};
}

ascent_options ascent(const options& o, double rate, double l2) {
  ascent_options a;
  a.steps = o.steps;
  a.rate = rate;
  a.l2 = l2;
  a.seed = o.seed;
  return a;
}

json_value class_model_part(model_type& m, const ctnn::io::dataset& test, const options& o, scratch<float>& s) {
  std::vector<float> images(batch * pixels, 0.0f);
  std::vector<std::uint8_t> cls(batch, 0);
  for (std::size_t c = 0; c < classes; ++c) cls[c] = std::uint8_t(c);
  // Every class starts from the mean test image, a blurred garment of no class:
  // what the ascent adds and removes is what the class needs.
  std::vector<double> mean(pixels, 0.0);
  for (std::size_t i = 0; i < test.count; ++i)
    for (std::size_t p = 0; p < pixels; ++p) mean[p] += double(test.images[i * pixels + p]);
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t p = 0; p < pixels; ++p) images[c * pixels + p] = float(mean[p] / double(test.count));
  // Decay keeps the background dark, as in the data; frequent blurs keep the shapes smooth.
  ascent_options a = ascent(o, 0.005, 3e-3);
  a.steps = std::max(1, o.steps / 2);
  a.blur_every = 4;
  class_model(m, std::span<float>(images), std::span<const std::uint8_t>(cls), classes, a, s);
  const auto logits = m.predict<logits_output>(ctnn::feed<"image">(std::span<const float>(images)));
  json_value per_class = json_value::array();
  for (std::size_t c = 0; c < classes; ++c)
    per_class.push_back(
        {{"class", class_name(c)}, {"probability", probability<float>(logits.subspan(c * classes, classes), c)}});
  ctnn::io::write_png(o.out / "class_model.png", grid(images, classes, 5, 4, std::nullopt));
  return {{"steps", a.steps},
          {"rate", a.rate},
          {"l2", a.l2},
          {"jitter", a.jitter},
          {"blur_every", a.blur_every},
          {"classes", per_class},
          {"picture", "class_model.png"}};
}

json_value dream_part(model_type& m, const ctnn::io::dataset& test, const options& o, scratch<float>& s) {
  const std::size_t n = std::min(o.shown, test.count);
  std::vector<float> images(batch * pixels, 0.0f);
  std::vector<std::uint8_t> cls(batch, 0);
  std::copy_n(test.images.begin(), n * pixels, images.begin());
  const std::vector<float> before(images.begin(), images.begin() + long(n * pixels));
  // A few steps without blur: the image stays, with what the layer sees in it amplified.
  ascent_options a = ascent(o, 0.01, 0.0);
  a.steps = std::max(1, o.steps / 5);
  a.blur_every = 0;
  if (o.layer == "conv1")
    deep_dream<conv1_output>(m, std::span<float>(images), std::span<const std::uint8_t>(cls), a, s);
  else
    deep_dream<conv2_output>(m, std::span<float>(images), std::span<const std::uint8_t>(cls), a, s);
  const std::vector<ctnn::io::picture> rows{grid(before, n, n, 4), grid(images, n, n, 4)};
  ctnn::io::write_png(o.out / "dream.png", ctnn::io::stack(rows, true));
  return {{"layer", o.layer}, {"steps", a.steps}, {"rate", a.rate}, {"picture", "dream.png"}};
}

json_value filters_part(model_type& m, const ctnn::io::dataset& test, const options& o) {
  const auto w = m.param<"conv1.weight">();
  ctnn::io::write_png(
      o.out / "conv1_filters.png",
      ctnn::io::enlarge(ctnn::io::filter_mosaic(std::span<const float>(w.data(), w.size()), 20, 1, 5, 5, 10), 8));
  std::vector<float> image(batch * pixels, 0.0f);
  std::copy_n(test.images.begin(), pixels, image.begin());
  const auto a1 = m.predict<conv1_output>(ctnn::feed<"image">(std::span<const float>(image)));
  ctnn::io::grid_options g;
  g.cols = 10;
  ctnn::io::write_png(o.out / "conv1_maps.png",
                      ctnn::io::enlarge(ctnn::io::image_grid(a1.subspan(0, 20 * 24 * 24), 20, 1, 24, 24, g), 3));
  const auto a2 = m.predict<conv2_output>(ctnn::feed<"image">(std::span<const float>(image)));
  ctnn::io::write_png(o.out / "conv2_maps.png",
                      ctnn::io::enlarge(ctnn::io::image_grid(a2.subspan(0, 50 * 8 * 8), 50, 1, 8, 8, g), 6));
  return {{"image_class", class_name(test.labels[0])},
          {"pictures", {"conv1_filters.png", "conv1_maps.png", "conv2_maps.png"}}};
}

json_value fgsm_part(model_type& m, const ctnn::io::dataset& test, const options& o) {
  const std::vector<float> epsilons{0.0f, 0.02f, 0.05f, 0.1f, 0.15f, 0.2f};
  std::vector<std::size_t> changed(epsilons.size(), 0);
  std::size_t correct = 0;
  batch_data b;
  std::vector<float> signs(batch * pixels), adversarial(batch * pixels);
  std::array<std::uint8_t, batch> before{}, after{};
  const std::size_t shown = std::min<std::size_t>(o.shown, batch);
  std::vector<ctnn::io::picture> columns;  // each: the image, its prediction, the adversarial, its prediction
  json_value examples = json_value::array();
  progress bar(o.quiet, "fgsm", o.count);
  for (std::size_t first = 0; first < o.count; first += batch) {
    const std::size_t n = std::min(b.fill(test, first), o.count - first);
    predicted<float>(m.predict<logits_output>(ctnn::feed<"image">(std::span<const float>(b.images))), before);
    fgsm_signs(m, std::span<const float>(b.images), std::span<const std::uint8_t>(b.labels), std::span<float>(signs));
    for (std::size_t k = 0; k < n; ++k) correct += before[k] == b.labels[k];
    for (std::size_t e = 0; e < epsilons.size(); ++e) {
      fgsm_step<float>(b.images, signs, epsilons[e], adversarial);
      predicted<float>(m.predict<logits_output>(ctnn::feed<"image">(std::span<const float>(adversarial))), after);
      for (std::size_t k = 0; k < n; ++k) changed[e] += before[k] == b.labels[k] && after[k] != before[k];
      if (first == 0 && epsilons[e] == 0.1f) {
        for (std::size_t k = 0; k < std::min(shown, n); ++k) {
          examples.push_back({{"true", class_name(b.labels[k])},
                              {"original", class_name(before[k])},
                              {"adversarial", class_name(after[k])}});
          const std::size_t zoom = 4, side = zoom * width;
          const std::vector<ctnn::io::picture> parts{
              grid(std::span<const float>(b.images).subspan(k * pixels), 1, 1, zoom),
              text_strip(class_name(before[k]), side),
              grid(std::span<const float>(adversarial).subspan(k * pixels), 1, 1, zoom),
              text_strip(class_name(after[k]), side)};
          columns.push_back(ctnn::io::stack(parts, true, 1));
        }
      }
    }
    bar.update(first + n);
  }
  json_value rates = json_value::array();
  std::printf("fgsm: %zu of %zu images classified correctly; share changed by the attack:", correct, o.count);
  for (std::size_t e = 0; e < epsilons.size(); ++e) {
    const double rate = correct ? double(changed[e]) / double(correct) : NAN;
    rates.push_back({{"epsilon", epsilons[e]}, {"success_rate", rate}});
    std::printf("  eps %.2f: %.3f", double(epsilons[e]), rate);
  }
  std::printf("\n");
  if (!columns.empty()) ctnn::io::write_png(o.out / "fgsm.png", ctnn::io::stack(columns, false, 4));
  return {{"images", o.count},      {"correct", correct},   {"rates", rates},
          {"picture_epsilon", 0.1}, {"examples", examples}, {"picture", "fgsm.png"}};
}

std::optional<int> read_command_line(int argc, char** argv, options& o) {
  CLI::App app(
      "Shows what a trained LeNet looks at: saliency, occlusion, class models, DeepDream,\n"
      "filters and activations, FGSM adversarial examples (PNGs and report.json in --out).",
      "ctnn_explain");
  using ctnn_apps::add_flag_with_value;
  using ctnn_apps::usage_error;
  add_flag_with_value(app, "--checkpoint", "FILE", "a checkpoint of ctnn_train --model lenet (required)",
                      [&](const std::string& v) { o.checkpoint = v; });
  add_flag_with_value(app, "--data", "DIR", "the Fashion-MNIST directory (default: Debian's)",
                      [&](const std::string& v) { o.data = v; });
  add_flag_with_value(app, "--out", "DIR", "where the PNGs and report.json go (default explain_out)",
                      [&](const std::string& v) { o.out = v; });
  add_flag_with_value(app, "--only", "LIST",
                      "comma-separated: saliency, occlusion, class_model, dream, filters, fgsm (default all)",
                      [&](const std::string& v) {
                        o.methods.clear();
                        std::stringstream in(v);
                        for (std::string name; std::getline(in, name, ',');) {
                          if (std::find(all_methods.begin(), all_methods.end(), name) == all_methods.end())
                            throw usage_error("--only: '" + name +
                                              "' is not one of saliency, occlusion, class_model, dream, filters, fgsm");
                          o.methods.insert(name);
                        }
                      });
  add_flag_with_value(app, "--count", "N", "test images for the saliency ratio and FGSM (default all 10000)",
                      [&](const std::string& v) { o.count = ctnn_apps::parse_number<std::size_t>("--count", v); });
  add_flag_with_value(app, "--shown", "N", "images in each picture (default 8)", [&](const std::string& v) {
    o.shown = ctnn_apps::parse_number<std::size_t>("--shown", v);
    if (o.shown == 0 || o.shown > batch) throw usage_error("--shown must lie between 1 and 64");
  });
  add_flag_with_value(app, "--layer", "NAME", "DeepDream's layer: conv1 or conv2 (default conv2)",
                      [&](const std::string& v) {
                        if (v != "conv1" && v != "conv2")
                          throw usage_error("--layer: '" + v + "' is not conv1 or conv2");
                        o.layer = v;
                      });
  add_flag_with_value(app, "--steps", "N", "gradient ascent steps of class_model and dream (default 200)",
                      [&](const std::string& v) {
                        o.steps = ctnn_apps::parse_number<int>("--steps", v);
                        if (o.steps < 1) throw usage_error("--steps must be at least 1");
                      });
  add_flag_with_value(app, "--seed", "S", "the jitter's seed (default 1)",
                      [&](const std::string& v) { o.seed = ctnn_apps::parse_number<std::uint64_t>("--seed", v); });
  ctnn_apps::add_switch(app, "--quiet", "no progress bars", o.quiet);
  return ctnn_apps::parse_command_line(app, argc, argv, [&] {
    if (o.checkpoint.empty()) throw usage_error("--checkpoint is required: a checkpoint of ctnn_train --model lenet");
  });
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const auto status = read_command_line(argc, argv, o)) return *status;
  model_type m;
  ctnn::io::dataset test;
  try {
    ctnn::load_checkpoint(o.checkpoint, m);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_explain: --checkpoint: %s\n", e.what());
    return 1;
  }
  try {
    test = ctnn::io::load_fashion_mnist(o.data, ctnn::io::split::test);
  } catch (const ctnn::io::data_error& e) {
    std::fprintf(stderr,
                 "ctnn_explain: %s\nhint: install the Debian package dataset-fashion-mnist, or pass --data DIR\n",
                 e.what());
    return 1;
  }
  o.count = std::min(o.count, test.count);
  if (!ctnn_apps::make_output_directory("ctnn_explain", o.out)) return 1;
  std::printf("checkpoint: %s, test images: %zu, out: %s\n", o.checkpoint.c_str(), o.count, o.out.c_str());
  json_value report;
  report["checkpoint"] = o.checkpoint.string();
  report["data"] = o.data.string();
  report["test_images"] = o.count;
  scratch<float> s(batch);
  const auto start = std::chrono::steady_clock::now();
  try {
    if (o.methods.count("saliency")) report["saliency"] = saliency_part(m, test, o, s);
    if (o.methods.count("occlusion")) report["occlusion"] = occlusion_part(m, test, o, s);
    if (o.methods.count("class_model")) report["class_model"] = class_model_part(m, test, o, s);
    if (o.methods.count("dream")) report["dream"] = dream_part(m, test, o, s);
    if (o.methods.count("filters")) report["filters"] = filters_part(m, test, o);
    if (o.methods.count("fgsm")) report["fgsm"] = fgsm_part(m, test, o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctnn_explain: %s\n", e.what());
    return 1;
  }
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const fs::path report_path = o.out / "report.json";
  std::ofstream file(report_path);
  file << report.dump(2) << "\n";
  if (!file.flush()) {
    std::fprintf(stderr, "ctnn_explain: cannot write '%s'\n", report_path.c_str());
    return 1;
  }
  std::printf("report: %s\n", report_path.c_str());
  return 0;
}
