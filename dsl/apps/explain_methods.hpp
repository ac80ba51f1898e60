// What ctnn_explain computes on a trained classifier (explain_network.hpp),
// each on a batch of the model's size B: saliency maps, occlusion
// sensitivity, FGSM adversarial examples, class model visualization and
// DeepDream-style amplification. Templates on the model, so that the tests
// run them in double on a small batch and the app in float on 64 images.
// Images are [1, 28, 28] floats in [0, 1], B of them in a row.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "explain_network.hpp"

namespace ctnn_explain {

/// The buffers a method needs beyond the model, allocated once.
template <class T>
struct scratch {
  std::size_t batch;
  std::vector<T> upstream, images, shifted;  // upstream: room for conv1, the largest output
  explicit scratch(std::size_t b) : batch(b), upstream(b * 20 * 24 * 24), images(b * pixels), shifted(b * pixels) {}
};

/// For each image b, d logits[b][classes[b]] / d image (B × pixels): the
/// gradient of the class score before the softmax.
template <class Model, class T = typename Model::value_type>
std::span<const T> class_score_gradient(Model& m, std::span<const T> images, std::span<const std::uint8_t> cls,
                                        scratch<T>& s) {
  constexpr std::size_t B = Model::batch_size;
  m.forward(ctnn::feed<"image">(images), ctnn::feed<"class">(cls));
  std::fill_n(s.upstream.begin(), B * classes, T(0));
  for (std::size_t b = 0; b < B; ++b) s.upstream[b * classes + cls[b]] = T(1);
  m.template backward_from<logits_output>(std::span<const T>(s.upstream.data(), B * classes));
  return m.template input_grad<"image">();
}

/// Saliency maps (Simonyan et al.): |d class score / d image|, the largest
/// over the channels, B × height × width.
template <class Model, class T = typename Model::value_type>
void saliency(Model& m, std::span<const T> images, std::span<const std::uint8_t> cls, std::span<T> maps,
              scratch<T>& s) {
  constexpr std::size_t B = Model::batch_size, plane = height * width;
  const std::span<const T> g = class_score_gradient(m, images, cls, s);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t p = 0; p < plane; ++p) {
      T most = 0;
      for (std::size_t c = 0; c < channels; ++c) most = std::max(most, std::abs(g[b * pixels + c * plane + p]));
      maps[b * plane + p] = most;
    }
}

/// How much more of a saliency map's mass lies on the image's non-zero
/// pixels than their share of the image: (mass on them / all mass) / (their
/// count / all pixels). 1: the map ignores the object; the object alone: up
/// to 1 / share. Not a number (skipped by averages) for a blank image or map.
template <class T>
double object_saliency_ratio(std::span<const T> image, std::span<const T> map) {
  double on = 0, all = 0;
  std::size_t nonzero = 0;
  for (std::size_t p = 0; p < map.size(); ++p) {
    all += double(map[p]);
    if (image[p] != T(0)) on += double(map[p]), ++nonzero;
  }
  if (all <= 0 || nonzero == 0) return NAN;
  return (on / all) / (double(nonzero) / double(map.size()));
}

/// The probability of class `cls` in each row of logits (a stable softmax).
template <class T>
T probability(std::span<const T> logits, std::size_t cls) {
  const T top = *std::max_element(logits.begin(), logits.end());
  T sum = 0;
  for (T v : logits) sum += std::exp(v - top);
  return std::exp(logits[cls] - top) / sum;
}

/// Occlusion sensitivity (Zeiler and Fergus): a `patch` × `patch` square of
/// `fill` slid over the image with `stride`; `drops` gets, for each position
/// (row-major, positions × positions), the true class's probability without
/// the patch minus with it, and `map` (height × width) at each pixel the
/// mean drop of the positions covering it. Returns the positions per side.
/// The unoccluded image is evaluated in the same batches as the occluded ones.
template <class Model, class T = typename Model::value_type>
std::size_t occlusion(Model& m, std::span<const T> image, std::size_t cls, std::size_t patch, std::size_t stride,
                      T fill, std::vector<T>& drops, std::span<T> map, scratch<T>& s) {
  constexpr std::size_t B = Model::batch_size;
  static_assert(B >= 2, "occlusion: a batch holds the image and at least one occluded copy");
  if (patch == 0 || patch > height || stride == 0)
    throw std::invalid_argument("occlusion: the patch must be 1 to " + std::to_string(height) +
                                " pixels and the stride at least 1, not " + std::to_string(patch) + " and " +
                                std::to_string(stride));
  const std::size_t per_side = (height - patch) / stride + 1, positions = per_side * per_side;
  drops.assign(positions, T(0));
  T base = 0;
  for (std::size_t first = 0; first < positions; first += B - 1) {
    const std::size_t n = std::min(B - 1, positions - first);
    for (std::size_t b = 0; b < B; ++b) std::copy(image.begin(), image.end(), s.images.begin() + b * pixels);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t top = (first + k) / per_side * stride, left = (first + k) % per_side * stride;
      for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t y = top; y < top + patch; ++y)
          std::fill_n(s.images.begin() + (k + 1) * pixels + c * height * width + y * width + left, patch, fill);
    }
    const std::span<const T> out =
        m.template predict<logits_output>(ctnn::feed<"image">(std::span<const T>(s.images.data(), B * pixels)));
    base = probability(out.subspan(0, classes), cls);
    for (std::size_t k = 0; k < n; ++k)
      drops[first + k] = base - probability(out.subspan((k + 1) * classes, classes), cls);
  }
  std::vector<T> cover(height * width, T(0));
  std::fill(map.begin(), map.end(), T(0));
  for (std::size_t q = 0; q < positions; ++q) {
    const std::size_t top = q / per_side * stride, left = q % per_side * stride;
    for (std::size_t y = top; y < top + patch; ++y)
      for (std::size_t x = left; x < left + patch; ++x) map[y * width + x] += drops[q], cover[y * width + x] += 1;
  }
  for (std::size_t p = 0; p < height * width; ++p)
    if (cover[p] > 0) map[p] /= cover[p];
  return per_side;
}

/// FGSM (Goodfellow et al.): x' = clip(x + ε·sign(∇x loss), 0, 1) for each
/// image, with the loss of its true class, into `adversarial` (B × pixels).
/// The sign is taken once; `epsilons` adversarial batches share one gradient.
template <class Model, class T = typename Model::value_type>
void fgsm_signs(Model& m, std::span<const T> images, std::span<const std::uint8_t> cls, std::span<T> signs) {
  m.forward(ctnn::feed<"image">(images), ctnn::feed<"class">(cls));
  m.backward();
  const std::span<const T> g = m.template input_grad<"image">();
  for (std::size_t i = 0; i < g.size(); ++i) signs[i] = T((g[i] > 0) - (g[i] < 0));
}

template <class T>
void fgsm_step(std::span<const T> images, std::span<const T> signs, T epsilon, std::span<T> adversarial) {
  for (std::size_t i = 0; i < images.size(); ++i)
    adversarial[i] = std::clamp(images[i] + epsilon * signs[i], T(0), T(1));
}

/// The predicted class of each of the B rows of logits.
template <class T>
void predicted(std::span<const T> logits, std::span<std::uint8_t> out) {
  for (std::size_t b = 0; b < out.size(); ++b) {
    const auto row = logits.subspan(b * classes, classes);
    out[b] = std::uint8_t(std::max_element(row.begin(), row.end()) - row.begin());
  }
}

/// Gradient ascent on the images themselves, the common loop of class model
/// visualization and DeepDream: each step shifts the batch by a random
/// jitter, takes the objective's gradient (`gradient(shifted) -> B × pixels`),
/// shifts it back, moves by `rate` along it normalized to a mean |step| of
/// `rate`, minus `l2`·x, and clips to [0, 1]; every `blur_every` steps a 3×3
/// blur smooths the high frequencies the ascent favours.
struct ascent_options {
  int steps = 200;
  double rate = 0.01;
  double l2 = 1e-3;
  int jitter = 2;
  int blur_every = 10;
  std::uint64_t seed = 1;
};

namespace detail {
// Rolls each image by (dy, dx) (wrapping around): the jitter and its undoing.
template <class T>
void roll(std::span<const T> in, std::span<T> out, int dy, int dx) {
  const int h = int(height), w = int(width);
  for (std::size_t n = 0; n < in.size() / (height * width); ++n)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        out[n * height * width + std::size_t((y + dy + h) % h * w + (x + dx + w) % w)] =
            in[n * height * width + std::size_t(y * w + x)];
}

template <class T>
void blur3(std::span<T> images, std::vector<T>& tmp) {
  tmp.assign(images.begin(), images.end());
  static constexpr double k[3] = {0.25, 0.5, 0.25};
  for (std::size_t n = 0; n < images.size() / (height * width); ++n)
    for (std::size_t y = 0; y < height; ++y)
      for (std::size_t x = 0; x < width; ++x) {
        double sum = 0, weight = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const long yy = long(y) + dy, xx = long(x) + dx;
            if (yy < 0 || xx < 0 || yy >= long(height) || xx >= long(width)) continue;
            const double kk = k[dy + 1] * k[dx + 1];
            sum += kk * double(tmp[n * height * width + std::size_t(yy) * width + std::size_t(xx)]);
            weight += kk;
          }
        images[n * height * width + y * width + x] = T(sum / weight);
      }
}
}  // namespace detail

template <class T, class Gradient>
void gradient_ascent(std::span<T> images, const ascent_options& o, Gradient gradient, std::vector<T>& shifted,
                     std::vector<T>& back) {
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> shift(-o.jitter, o.jitter);
  shifted.resize(images.size());
  back.resize(images.size());
  for (int step = 0; step < o.steps; ++step) {
    const int dy = shift(rng), dx = shift(rng);
    detail::roll<T>(images, shifted, dy, dx);
    const std::span<const T> g = gradient(std::span<const T>(shifted));
    detail::roll<T>(g, back, -dy, -dx);
    for (std::size_t n = 0; n < images.size() / pixels; ++n) {
      double mean = 0;
      for (std::size_t p = 0; p < pixels; ++p) mean += std::abs(double(back[n * pixels + p]));
      mean /= double(pixels);
      if (mean == 0) continue;  // a slot the objective does not reach
      for (std::size_t p = 0; p < pixels; ++p) {
        T& x = images[n * pixels + p];
        x = std::clamp(T(double(x) + o.rate * (double(back[n * pixels + p]) / mean) - o.l2 * double(x)), T(0), T(1));
      }
    }
    if (o.blur_every > 0 && (step + 1) % o.blur_every == 0 && step + 1 < o.steps) detail::blur3(images, back);
  }
}

/// Class model visualization: for slot b < count, an image that maximizes
/// the score of class `cls[b]` (before the softmax) less an L2 penalty,
/// starting from `images` as given (a grey start shows the most).
template <class Model, class T = typename Model::value_type>
void class_model(Model& m, std::span<T> images, std::span<const std::uint8_t> cls, std::size_t count,
                 const ascent_options& o, scratch<T>& s) {
  constexpr std::size_t B = Model::batch_size;
  gradient_ascent<T>(
      images, o,
      [&](std::span<const T> x) {
        m.forward(ctnn::feed<"image">(x), ctnn::feed<"class">(cls));
        std::fill_n(s.upstream.begin(), B * classes, T(0));
        for (std::size_t b = 0; b < count; ++b) s.upstream[b * classes + cls[b]] = T(1);
        m.template backward_from<logits_output>(std::span<const T>(s.upstream.data(), B * classes));
        return m.template input_grad<"image">();
      },
      s.shifted, s.images);
}

/// DeepDream: ascent on ½‖a‖² of output K's activations (conv1 or conv2),
/// whose gradient with respect to the activations is a itself.
template <std::size_t K, class Model, class T = typename Model::value_type>
void deep_dream(Model& m, std::span<T> images, std::span<const std::uint8_t> cls, const ascent_options& o,
                scratch<T>& s) {
  gradient_ascent<T>(
      images, o,
      [&](std::span<const T> x) {
        m.forward(ctnn::feed<"image">(x), ctnn::feed<"class">(cls));
        const std::span<const T> a = m.value(network::output_ids[K]);
        std::copy(a.begin(), a.end(), s.upstream.begin());
        m.template backward_from<K>(std::span<const T>(s.upstream.data(), a.size()));
        return m.template input_grad<"image">();
      },
      s.shifted, s.images);
}

}  // namespace ctnn_explain
