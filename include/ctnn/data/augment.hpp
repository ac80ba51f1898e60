/// @file augment.hpp
/// Data augmentation (seed 003, ch. 2.1): random horizontal flips, random
/// crops of the zero-padded image (the CIFAR-style "pad p, crop back"), and
/// brightness/contrast jitter, for images stored [C, H, W] (or [H, W], C = 1)
/// with the geometry known at compile time (`fixed_image<1, 28, 28>`,
/// `image_of<ctnn::shape<1, 28, 28>>`) or at run time (`image_size{1, 28, 28}`).
///
/// Nothing here allocates: the single-image functions work in place or into a
/// caller's buffer, and `augmenter` keeps its random generator as a member.
/// Randomness is reproducible: the same seed gives the same batches, on every
/// platform (xoshiro256** seeded through splitmix64; no <random> distributions,
/// whose output differs between standard libraries).
///
///   ctnn::data::augmenter aug(ctnn::data::fixed_image<1, 28, 28>{},
///                             {.flip_probability = 0.5, .pad = 2, .contrast = {0.8, 1.2}}, /*seed=*/1);
///   aug(batch, 64);                  // in place, 64 images of 784 floats
///   aug(clean, 64, augmented);       // or into another buffer
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "ctnn/core/shape.hpp"

namespace ctnn::data {

// ---------------------------------------------------------------------------------------
// Random numbers

/// xoshiro256** (Blackman & Vigna), its state filled from the seed by
/// splitmix64. A UniformRandomBitGenerator, plus the few draws augmentation
/// needs, each defined bit for bit here.
class xoshiro256ss {
 public:
  using result_type = std::uint64_t;

  explicit xoshiro256ss(std::uint64_t seed = 0) { this->seed(seed); }

  /// The state: four successive outputs of splitmix64 started at `seed`.
  void seed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
  }
  /// A generator with this exact state (not all zero).
  static xoshiro256ss from_state(const std::array<std::uint64_t, 4>& s) {
    xoshiro256ss g;
    g.s_ = s;
    return g;
  }
  const std::array<std::uint64_t, 4>& state() const { return s_; }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return double((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi) (lo when lo == hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n), n > 0, without modulo bias (rejection).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = max() - max() % n;  // a multiple of n: [0, limit) maps evenly
    for (;;) {
      const std::uint64_t r = (*this)();
      if (r < limit) return r % n;
    }
  }
  /// True with probability p (exactly never for p ≤ 0, always for p ≥ 1).
  bool bernoulli(double p) { return uniform() < p; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static constexpr std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::array<std::uint64_t, 4> s_{};
};

// ---------------------------------------------------------------------------------------
// Image geometry

/// Something with channels(), height() and width(): an image stored [C, H, W].
template <class G>
concept image_geometry = requires(const G g) {
  { g.channels() } -> std::convertible_to<std::size_t>;
  { g.height() } -> std::convertible_to<std::size_t>;
  { g.width() } -> std::convertible_to<std::size_t>;
};

/// A geometry known at run time.
struct image_size {
  std::size_t c = 1, h = 0, w = 0;
  constexpr std::size_t channels() const { return c; }
  constexpr std::size_t height() const { return h; }
  constexpr std::size_t width() const { return w; }
};

/// A geometry known at compile time (the loops get constant bounds).
template <std::size_t C, std::size_t H, std::size_t W>
struct fixed_image {
  static_assert(C > 0 && H > 0 && W > 0, "ctnn::data::fixed_image: every dimension must be positive");
  static constexpr std::size_t channels() { return C; }
  static constexpr std::size_t height() { return H; }
  static constexpr std::size_t width() { return W; }
};

namespace detail::aug {
template <class S>
struct image_of_shape {
  static_assert(is_shape_v<S> && (S::rank == 2 || S::rank == 3),
                "ctnn::data::image_of: an image shape is shape<H, W> or shape<C, H, W>");
};
template <std::size_t H, std::size_t W>
struct image_of_shape<shape<H, W>> {
  using type = fixed_image<1, H, W>;
};
template <std::size_t C, std::size_t H, std::size_t W>
struct image_of_shape<shape<C, H, W>> {
  using type = fixed_image<C, H, W>;
};
}  // namespace detail::aug

/// fixed_image for a ctnn::shape<H, W> or shape<C, H, W>.
template <class Shape>
using image_of = typename detail::aug::image_of_shape<Shape>::type;

/// Values per image.
template <image_geometry G>
constexpr std::size_t image_values(const G& g) {
  return std::size_t(g.channels()) * std::size_t(g.height()) * std::size_t(g.width());
}

// ---------------------------------------------------------------------------------------
// One image

/// Mirrors every row (x ↦ W − 1 − x) of every channel, in place.
template <class T, image_geometry G>
void hflip(T* img, const G& g) {
  const std::size_t rows = std::size_t(g.channels()) * std::size_t(g.height()), w = g.width();
  for (std::size_t r = 0; r < rows; ++r) std::reverse(img + r * w, img + (r + 1) * w);
}

/// out = the mirror of in (out must not overlap in; use the in-place form for that).
template <class T, image_geometry G>
void hflip(const T* in, T* out, const G& g) {
  const std::size_t rows = std::size_t(g.channels()) * std::size_t(g.height()), w = g.width();
  for (std::size_t r = 0; r < rows; ++r) std::reverse_copy(in + r * w, in + (r + 1) * w, out + r * w);
}

/// The H×W window at offset (dy, dx) of the image zero-padded by `pad`
/// pixels on each side: out(c, y, x) = in(c, y + dy − pad, x + dx − pad), or 0
/// where that falls outside the image. dy, dx ∈ [0, 2·pad]; pad = dy = dx = 0
/// is a copy, and dy = dx = pad too. out may be in (the rows are moved in
/// the order that reads each before it is overwritten); otherwise they must
/// not overlap.
template <class T, image_geometry G>
void padded_crop(const T* in, T* out, const G& g, std::size_t pad, std::size_t dy, std::size_t dx) {
  static_assert(std::is_trivially_copyable_v<T>, "ctnn::data::padded_crop: needs a trivially copyable value type");
  if (dy > 2 * pad || dx > 2 * pad)
    throw std::invalid_argument("ctnn::data::padded_crop: offset (" + std::to_string(dy) + ", " + std::to_string(dx) +
                                ") outside [0, " + std::to_string(2 * pad) + "] for pad " + std::to_string(pad));
  const std::size_t C = g.channels(), H = g.height(), W = g.width();
  const auto sy = static_cast<std::ptrdiff_t>(dy) - static_cast<std::ptrdiff_t>(pad);
  const auto sx = static_cast<std::ptrdiff_t>(dx) - static_cast<std::ptrdiff_t>(pad);
  const auto iH = static_cast<std::ptrdiff_t>(H), iW = static_cast<std::ptrdiff_t>(W);
  // Columns x ∈ [x0, x1) read in(x + sx); the others are zero.
  const std::ptrdiff_t x0 = std::clamp<std::ptrdiff_t>(-sx, 0, iW), x1 = std::clamp<std::ptrdiff_t>(iW - sx, 0, iW);
  for (std::size_t c = 0; c < C; ++c) {
    const T* src = in + c * H * W;
    T* dst = out + c * H * W;
    auto row = [&](std::ptrdiff_t y) {
      T* d = dst + y * iW;
      const std::ptrdiff_t ys = y + sy;
      if (ys < 0 || ys >= iH || x0 >= x1) {
        std::fill(d, d + W, T(0));
        return;
      }
      std::memmove(d + x0, src + ys * iW + x0 + sx, std::size_t(x1 - x0) * sizeof(T));
      std::fill(d, d + x0, T(0));
      std::fill(d + x1, d + W, T(0));
    };
    // In place, row y reads row y + sy: ascending when reading below, descending when above.
    if (sy >= 0)
      for (std::ptrdiff_t y = 0; y < iH; ++y) row(y);
    else
      for (std::ptrdiff_t y = iH; y-- > 0;) row(y);
  }
}

/// Pixel values are clamped to [lo, hi] after a jitter.
struct value_range {
  double lo = 0, hi = 1;
};

/// Brightness and contrast: x' = (x − m)·contrast + m + brightness, with m
/// the mean of the image (all channels), computed as contrast·x + offset
/// with offset = m·(1 − contrast) + brightness, so contrast 1 and brightness
/// 0 leave every value exactly as it was. Then clamped to *clamp_to if given.
template <class T, image_geometry G>
void brightness_contrast(T* img, const G& g, double contrast, double brightness,
                         std::optional<value_range> clamp_to = value_range{}) {
  static_assert(std::is_floating_point_v<T>, "ctnn::data::brightness_contrast: needs floating-point pixels");
  const std::size_t n = image_values(g);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += double(img[i]);
  const double offset = sum / double(n) * (1.0 - contrast) + brightness;
  if (clamp_to) {
    const double lo = clamp_to->lo, hi = clamp_to->hi;
    for (std::size_t i = 0; i < n; ++i) img[i] = T(std::clamp(contrast * double(img[i]) + offset, lo, hi));
  } else {
    for (std::size_t i = 0; i < n; ++i) img[i] = T(contrast * double(img[i]) + offset);
  }
}

// ---------------------------------------------------------------------------------------
// A pipeline over a batch

/// A closed interval to draw from uniformly.
struct uniform_range {
  double lo = 0, hi = 0;
};

/// What augmenter does to each image, in this order:
/// 1. crop: if pad > 0, padded_crop with dy, dx uniform in [0, 2·pad];
/// 2. flip: hflip with probability flip_probability;
/// 3. jitter: if contrast ≠ {1, 1} or brightness ≠ {0, 0}, brightness_contrast
///    with c ~ U[contrast.lo, contrast.hi), b ~ U[brightness.lo, brightness.hi),
///    clamped to *clamp_to if set.
/// Only the enabled steps draw random numbers (in the order dy, dx, flip, c, b).
struct augment_options {
  double flip_probability = 0;
  std::size_t pad = 0;
  uniform_range contrast{1, 1};
  uniform_range brightness{0, 0};
  std::optional<value_range> clamp_to = value_range{};
};

/// Applies augment_options to batches of n images stored one after another.
/// Holds its generator: successive calls continue the random stream, and two
/// augmenters with the same options and seed produce the same batches.
template <image_geometry G = image_size>
class augmenter {
 public:
  augmenter(G geometry, augment_options options, std::uint64_t seed)
      : g_(geometry), o_(options), rng_(seed) {
    if (g_.channels() == 0 || g_.height() == 0 || g_.width() == 0)
      throw std::invalid_argument("ctnn::data::augmenter: the image geometry has a zero dimension");
    if (!(o_.flip_probability >= 0 && o_.flip_probability <= 1))
      throw std::invalid_argument("ctnn::data::augmenter: flip_probability must be in [0, 1]");
    if (!(o_.contrast.lo <= o_.contrast.hi) || !(o_.brightness.lo <= o_.brightness.hi))
      throw std::invalid_argument("ctnn::data::augmenter: a jitter range has lo > hi");
    if (o_.clamp_to && !(o_.clamp_to->lo <= o_.clamp_to->hi))
      throw std::invalid_argument("ctnn::data::augmenter: clamp_to has lo > hi");
  }

  /// Augments n images in place.
  template <class T>
  void operator()(T* batch, std::size_t n) {
    const std::size_t size = image_values(g_);
    for (std::size_t i = 0; i < n; ++i) one(batch + i * size, batch + i * size);
  }
  /// Writes the augmented images to out (n images; out must not overlap in).
  template <class T>
  void operator()(const T* in, std::size_t n, T* out) {
    const std::size_t size = image_values(g_);
    for (std::size_t i = 0; i < n; ++i) one(in + i * size, out + i * size);
  }

  const G& geometry() const { return g_; }
  const augment_options& options() const { return o_; }
  /// Restarts the random stream.
  void seed(std::uint64_t s) { rng_.seed(s); }
  xoshiro256ss& generator() { return rng_; }

 private:
  bool jitters() const {
    return o_.contrast.lo != 1 || o_.contrast.hi != 1 || o_.brightness.lo != 0 || o_.brightness.hi != 0;
  }
  double draw(uniform_range r) { return r.lo == r.hi ? r.lo : rng_.uniform(r.lo, r.hi); }

  template <class T>
  void one(const T* in, T* out) {
    if (o_.pad > 0) {
      const std::size_t dy = rng_.below(2 * o_.pad + 1);
      const std::size_t dx = rng_.below(2 * o_.pad + 1);
      padded_crop(in, out, g_, o_.pad, dy, dx);
    } else if (in != out) {
      std::copy_n(in, image_values(g_), out);
    }
    if (o_.flip_probability > 0 && rng_.bernoulli(o_.flip_probability)) hflip(out, g_);
    if (jitters()) {
      const double c = draw(o_.contrast);
      const double b = draw(o_.brightness);
      brightness_contrast(out, g_, c, b, o_.clamp_to);
    }
  }

  G g_;
  augment_options o_;
  xoshiro256ss rng_;
};

}  // namespace ctnn::data
