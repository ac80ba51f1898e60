/// @file picture.hpp
/// `ctnn::io::picture`: an 8-bit grayscale or RGB image in memory, and the
/// pictures built from float tensors: an image grid, a heat map over a
/// grayscale image, a mosaic of filters each scaled on its own, and a
/// nearest-neighbour enlargement. Writing one to a file is io/png.hpp's job;
/// nothing here needs libpng.
///
/// Float tensors are read in C order: N images [H, W] (channels = 1) or
/// [C, H, W] (C = 1 or 3). A mismatched size is a std::invalid_argument
/// naming the function and both sizes.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ctnn::io {

/// Rows of `width` pixels, `channels` bytes each (1: gray, 3: RGB), top row first.
struct picture {
  std::size_t height = 0;
  std::size_t width = 0;
  std::size_t channels = 1;
  std::vector<std::uint8_t> pixels;

  picture() = default;
  picture(std::size_t h, std::size_t w, std::size_t c, std::uint8_t fill = 0)
      : height(h), width(w), channels(c), pixels(h * w * c, fill) {
    if (c != 1 && c != 3)
      throw std::invalid_argument("ctnn::io::picture: " + std::to_string(c) +
                                  " channels; a picture has 1 (gray) or 3 (RGB)");
  }
  std::uint8_t* at(std::size_t row, std::size_t col) { return pixels.data() + (row * width + col) * channels; }
  const std::uint8_t* at(std::size_t row, std::size_t col) const {
    return pixels.data() + (row * width + col) * channels;
  }
};

/// The values mapped to 0 and 255 (clamped outside).
struct value_range {
  float low = 0.0f;
  float high = 1.0f;
};

/// The smallest and largest finite values (0..1 if there are none; a constant
/// maps to its value ± 0.5 so that it shows as mid-grey).
inline value_range range_of(std::span<const float> values) {
  float lo = INFINITY, hi = -INFINITY;
  for (float v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) return {};
  if (lo == hi) return {lo - 0.5f, hi + 0.5f};
  return {lo, hi};
}

inline std::uint8_t to_byte(float v, value_range r) {
  if (!std::isfinite(v)) return 0;
  const float t = (v - r.low) / (r.high - r.low);
  return static_cast<std::uint8_t>(std::lround(std::clamp(t, 0.0f, 1.0f) * 255.0f));
}

namespace detail {
inline void check_size(const char* what, std::size_t given, std::size_t expected, const std::string& shape) {
  if (given != expected)
    throw std::invalid_argument(std::string("ctnn::io::") + what + ": " + std::to_string(given) + " values given for " +
                                shape + " (" + std::to_string(expected) + " values)");
}
inline std::string shape_string(std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  return std::to_string(n) + " images [" + std::to_string(c) + ", " + std::to_string(h) + ", " + std::to_string(w) +
         "]";
}
}  // namespace detail

/// How image_grid lays its images out: `cols` per row (0: as close to a
/// square as possible), one gap pixel of `gap_value` between them, and the
/// range mapped to 0..255 (none: the smallest and largest value of all images).
struct grid_options {
  std::size_t cols = 0;
  std::optional<value_range> range;
  std::uint8_t gap_value = 255;
};

/// `count` images of [channels, height, width] floats in a grid of
/// ceil(count / cols) rows, one pixel apart.
inline picture image_grid(std::span<const float> images, std::size_t count, std::size_t channels, std::size_t height,
                          std::size_t width, grid_options options = {}) {
  detail::check_size("image_grid", images.size(), count * channels * height * width,
                     detail::shape_string(count, channels, height, width));
  if (channels != 1 && channels != 3)
    throw std::invalid_argument("ctnn::io::image_grid: images of " + std::to_string(channels) +
                                " channels; a grid shows 1 (gray) or 3 (RGB)");
  if (count == 0) throw std::invalid_argument("ctnn::io::image_grid: no images to show");
  std::size_t cols = options.cols;
  if (cols == 0) cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(count))));
  cols = std::min(cols, count);
  const std::size_t rows = (count + cols - 1) / cols;
  const value_range r = options.range ? *options.range : range_of(images);
  picture out(rows * height + rows - 1, cols * width + cols - 1, channels, options.gap_value);
  const std::size_t plane = height * width;
  for (std::size_t n = 0; n < count; ++n) {
    const std::size_t top = (n / cols) * (height + 1), left = (n % cols) * (width + 1);
    const float* img = images.data() + n * channels * plane;
    for (std::size_t y = 0; y < height; ++y)
      for (std::size_t x = 0; x < width; ++x)
        for (std::size_t c = 0; c < channels; ++c)
          out.at(top + y, left + x)[c] = to_byte(img[c * plane + y * width + x], r);
  }
  return out;
}

/// Colour maps for heat maps: `sequential` runs black → red → yellow → white
/// (for magnitudes such as saliency); `diverging` runs blue → white → red
/// with white at the middle of the range (for signed values).
enum class colour_map { sequential, diverging };

/// The RGB colour of t in [0, 1] on a map.
inline std::array<std::uint8_t, 3> colour_of(float t, colour_map map) {
  using stop = std::array<float, 3>;
  static constexpr std::array<stop, 4> hot{{{0, 0, 0}, {0.85f, 0.1f, 0}, {1, 0.85f, 0}, {1, 1, 1}}};
  static constexpr std::array<stop, 3> cool_warm{{{0.23f, 0.3f, 0.75f}, {0.97f, 0.97f, 0.97f}, {0.71f, 0.02f, 0.15f}}};
  t = std::isfinite(t) ? std::clamp(t, 0.0f, 1.0f) : 0.0f;
  const std::span<const stop> stops =
      map == colour_map::sequential ? std::span<const stop>(hot) : std::span<const stop>(cool_warm);
  const float pos = t * static_cast<float>(stops.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(pos), stops.size() - 2);
  const float f = pos - static_cast<float>(i);
  std::array<std::uint8_t, 3> rgb{};
  for (std::size_t c = 0; c < 3; ++c)
    rgb[c] = static_cast<std::uint8_t>(std::lround(255.0f * (stops[i][c] + f * (stops[i + 1][c] - stops[i][c]))));
  return rgb;
}

/// How heat_map lays the colours over the image: the map, its opacity (0:
/// only the image, 1: only the heat), and the heat's range (none: 0..max |heat|
/// for sequential, ±max |heat| for diverging).
struct heat_options {
  colour_map map = colour_map::sequential;
  float opacity = 0.6f;
  std::optional<value_range> range;
  std::optional<value_range> image_range;  ///< none: 0..1
};

/// An RGB picture: the grayscale `image` [height, width] with `heat` (same
/// shape) in colour over it.
inline picture heat_map(std::span<const float> image, std::span<const float> heat, std::size_t height,
                        std::size_t width, heat_options options = {}) {
  std::string shape = "[";  // appended: g++ 12 misreads "literal" + string here (-Wrestrict)
  shape.append(std::to_string(height)).append(", ").append(std::to_string(width)).append("]");
  detail::check_size("heat_map (the image)", image.size(), height * width, "an image " + shape);
  detail::check_size("heat_map (the heat)", heat.size(), height * width, "a heat map " + shape);
  if (!(options.opacity >= 0.0f && options.opacity <= 1.0f))
    throw std::invalid_argument("ctnn::io::heat_map: the opacity must lie in [0, 1], not " +
                                std::to_string(options.opacity));
  value_range r{};
  if (options.range) {
    r = *options.range;
  } else {
    float m = 0.0f;
    for (float v : heat)
      if (std::isfinite(v)) m = std::max(m, std::abs(v));
    if (m == 0.0f) m = 1.0f;
    r = options.map == colour_map::sequential ? value_range{0.0f, m} : value_range{-m, m};
  }
  const value_range ir = options.image_range.value_or(value_range{});
  picture out(height, width, 3);
  for (std::size_t i = 0; i < height * width; ++i) {
    const float grey = static_cast<float>(to_byte(image[i], ir));
    const auto c = colour_of((heat[i] - r.low) / (r.high - r.low), options.map);
    for (std::size_t k = 0; k < 3; ++k)
      out.pixels[i * 3 + k] = static_cast<std::uint8_t>(
          std::lround((1.0f - options.opacity) * grey + options.opacity * static_cast<float>(c[k])));
  }
  return out;
}

/// A mosaic of convolution filters [filters, channels, kh, kw]: each filter
/// scaled to 0..255 on its own (its smallest weight black, its largest
/// white), `cols` per row (0: near square), one gap pixel apart. Three
/// channels show as RGB; any other count shows each channel as its own
/// gray tile, a filter's channels side by side.
inline picture filter_mosaic(std::span<const float> weights, std::size_t filters, std::size_t channels, std::size_t kh,
                             std::size_t kw, std::size_t cols = 0) {
  detail::check_size("filter_mosaic", weights.size(), filters * channels * kh * kw,
                     std::to_string(filters) + " filters [" + std::to_string(channels) + ", " + std::to_string(kh) +
                         ", " + std::to_string(kw) + "]");
  const bool rgb = channels == 3;
  const std::size_t tiles_per_filter = rgb ? 1 : channels;
  std::vector<float> scaled(weights.size());
  for (std::size_t f = 0; f < filters; ++f) {
    const auto w = weights.subspan(f * channels * kh * kw, channels * kh * kw);
    const value_range r = range_of(w);
    for (std::size_t i = 0; i < w.size(); ++i) scaled[f * w.size() + i] = (w[i] - r.low) / (r.high - r.low);
  }
  grid_options o;
  o.cols = cols == 0 ? 0 : cols * tiles_per_filter;
  if (cols == 0 && tiles_per_filter > 1) o.cols = tiles_per_filter;  // one filter per row
  o.range = value_range{0.0f, 1.0f};
  return image_grid(scaled, filters * tiles_per_filter, rgb ? 3 : 1, kh, kw, o);
}

/// Each pixel as a `factor` × `factor` block: small images made visible.
inline picture enlarge(const picture& in, std::size_t factor) {
  if (factor == 0) throw std::invalid_argument("ctnn::io::enlarge: the factor must be at least 1");
  picture out(in.height * factor, in.width * factor, in.channels);
  for (std::size_t y = 0; y < out.height; ++y)
    for (std::size_t x = 0; x < out.width; ++x) std::copy_n(in.at(y / factor, x / factor), in.channels, out.at(y, x));
  return out;
}

/// Pictures side by side (`vertical`: one above the other), `gap` pixels of
/// `gap_value` apart, on a background of that value; gray ones become RGB
/// when any is RGB.
inline picture stack(std::span<const picture> parts, bool vertical = false, std::size_t gap = 2,
                     std::uint8_t gap_value = 255) {
  if (parts.empty()) throw std::invalid_argument("ctnn::io::stack: no pictures to stack");
  std::size_t channels = 1, along = 0, across = 0;
  for (const picture& p : parts) {
    channels = std::max(channels, p.channels);
    along += (vertical ? p.height : p.width);
    across = std::max(across, vertical ? p.width : p.height);
  }
  along += gap * (parts.size() - 1);
  picture out(vertical ? along : across, vertical ? across : along, channels, gap_value);
  std::size_t offset = 0;
  for (const picture& p : parts) {
    for (std::size_t y = 0; y < p.height; ++y)
      for (std::size_t x = 0; x < p.width; ++x) {
        std::uint8_t* dst = vertical ? out.at(offset + y, x) : out.at(y, offset + x);
        for (std::size_t c = 0; c < channels; ++c) dst[c] = p.at(y, x)[p.channels == 1 ? 0 : c];
      }
    offset += (vertical ? p.height : p.width) + gap;
  }
  return out;
}

}  // namespace ctnn::io
