// ctnn_explain's methods (dsl/apps/explain_methods.hpp) on LeNet with fixed
// random weights, in double: the saliency map against central differences
// of the class score, FGSM's bounds, occlusion over a blank region, the
// object ratio on a hand-made case, and gradient ascent raising its score.
#include <catch2/catch.hpp>

#include <apps/explain_font.hpp>
#include <apps/explain_methods.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

namespace ex = ctnn_explain;
constexpr std::size_t B = 2;
using model_type = ctnn::model<ex::network, B, double>;

std::vector<double> random_images(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x(B * ex::pixels);
  for (double& v : x) v = u(rng);
  return x;
}

double class_score(model_type& m, const std::vector<double>& x, std::size_t sample, std::size_t cls) {
  const auto logits = m.predict<ex::logits_output>(ctnn::feed<"image">(std::span<const double>(x)));
  return logits[sample * ex::classes + cls];
}

}  // namespace

TEST_CASE("the saliency map is |d score / d image| by central differences", "[explain]") {
  model_type m(7);
  const std::vector<double> x = random_images(1);
  const std::vector<std::uint8_t> cls{3, 8};
  ex::scratch<double> s(B);
  std::vector<double> maps(B * ex::height * ex::width);
  ex::saliency(m, std::span<const double>(x), std::span<const std::uint8_t>(cls), std::span<double>(maps), s);
  const double h = 1e-6;
  for (std::size_t sample = 0; sample < B; ++sample)
    for (std::size_t p : {0ul, 100ul, 377ul, 405ul, 783ul}) {
      std::vector<double> plus = x, minus = x;
      plus[sample * ex::pixels + p] += h;
      minus[sample * ex::pixels + p] -= h;
      const double fd =
          (class_score(m, plus, sample, cls[sample]) - class_score(m, minus, sample, cls[sample])) / (2 * h);
      INFO("sample " << sample << ", pixel " << p << ": map " << maps[sample * ex::pixels + p] << ", |fd| "
                     << std::abs(fd));
      CHECK(maps[sample * ex::pixels + p] == Approx(std::abs(fd)).epsilon(1e-5).margin(1e-9));
    }
  // Not all zero: the check above compares something.
  CHECK(*std::max_element(maps.begin(), maps.end()) > 1e-3);
}

TEST_CASE("FGSM with epsilon 0 changes nothing; otherwise a step of epsilon, kept in [0, 1]", "[explain]") {
  model_type m(7);
  const std::vector<double> x = random_images(2);
  const std::vector<std::uint8_t> cls{1, 9};
  std::vector<double> signs(x.size()), adv(x.size());
  ex::fgsm_signs(m, std::span<const double>(x), std::span<const std::uint8_t>(cls), std::span<double>(signs));
  ex::fgsm_step<double>(x, signs, 0.0, adv);
  CHECK(adv == x);
  ex::fgsm_step<double>(x, signs, 0.3, adv);
  std::size_t moved = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    REQUIRE(adv[i] >= 0.0);
    REQUIRE(adv[i] <= 1.0);
    CHECK(adv[i] == std::clamp(x[i] + 0.3 * signs[i], 0.0, 1.0));
    moved += adv[i] != x[i];
  }
  CHECK(moved > x.size() / 2);
  // The step raises the loss of the true class.
  const double before = m.forward(ctnn::feed<"image">(std::span<const double>(x)), ctnn::feed<"class">(cls));
  const double after = m.forward(ctnn::feed<"image">(std::span<const double>(adv)), ctnn::feed<"class">(cls));
  CHECK(after > before);
}

TEST_CASE("a zero patch over a zero region changes nothing; over the object it does", "[explain]") {
  model_type m(7);
  std::vector<double> x = random_images(3);
  const std::span<const double> image(x.data(), ex::pixels);
  for (std::size_t y = 0; y < 10; ++y) std::fill_n(x.begin() + long(y * ex::width), 10, 0.0);  // top-left 10×10 blank
  ex::scratch<double> s(B);
  std::vector<double> drops, map(ex::height * ex::width);
  const std::size_t per_side = ex::occlusion(m, image, 4, 4, 2, 0.0, drops, std::span<double>(map), s);
  REQUIRE(per_side == 13);
  for (std::size_t top = 0; top + 4 <= 10; top += 2)
    for (std::size_t left = 0; left + 4 <= 10; left += 2) CHECK(drops[top / 2 * per_side + left / 2] == 0.0);
  CHECK(map[0] == 0.0);
  const double most = *std::max_element(drops.begin(), drops.end()),
               least = *std::min_element(drops.begin(), drops.end());
  CHECK(std::max(most, -least) > 1e-4);
}

TEST_CASE("the object ratio: the map's share on the object over the object's share of the image", "[explain]") {
  const std::vector<double> image{0, 1, 1, 0}, map{1, 3, 3, 1};
  CHECK(ex::object_saliency_ratio<double>(image, map) == Approx(1.5));  // (6/8) / (2/4)
  const std::vector<double> blank(4, 0.0);
  CHECK(std::isnan(ex::object_saliency_ratio<double>(blank, map)));
}

TEST_CASE("class model visualization raises the class score", "[explain]") {
  model_type m(7);
  std::vector<double> x(B * ex::pixels, 0.2);
  const std::vector<std::uint8_t> cls{5, 5};
  const double before = class_score(m, x, 0, 5);
  ex::scratch<double> s(B);
  ex::ascent_options o;
  o.steps = 20;
  ex::class_model(m, std::span<double>(x), std::span<const std::uint8_t>(cls), 1, o, s);
  CHECK(class_score(m, x, 0, 5) > before + 0.5);  // 0.50 → 1.35 with these weights
  CHECK(std::all_of(x.begin(), x.end(), [](double v) { return v >= 0.0 && v <= 1.0; }));
  // Slot 1 was not asked for: untouched.
  CHECK(std::all_of(x.begin() + long(ex::pixels), x.end(), [](double v) { return std::abs(v - 0.2) < 1e-12; }));
}

TEST_CASE("text_strip draws the 3×5 capitals centred, dark on white", "[explain]") {
  // "i" is drawn as 'I' (a bar, a stem, a bar), 4 pixels wide with its space,
  // centred in 8: from column 2; one pixel of margin above.
  const ctnn::io::picture p = ex::text_strip("i", 8, 1);
  REQUIRE(p.height == 7);
  REQUIRE(p.width == 8);
  CHECK(p.at(0, 3)[0] == 255);
  CHECK(p.at(1, 2)[0] == 40);
  CHECK(p.at(1, 4)[0] == 40);
  CHECK(p.at(2, 2)[0] == 255);
  CHECK(p.at(2, 3)[0] == 40);
  CHECK(p.at(5, 3)[0] == 40);
  CHECK(p.at(3, 1)[0] == 255);
  // An unknown character is a blank.
  const ctnn::io::picture q = ex::text_strip("?", 8, 1);
  CHECK(std::all_of(q.pixels.begin(), q.pixels.end(), [](std::uint8_t v) { return v == 255; }));
}
