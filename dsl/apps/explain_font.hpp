// A 3×5 pixel capital font for the class names under ctnn_explain's
// pictures: the letters, '-', '/' and space that Fashion-MNIST's names use
// (any other character draws as a blank).
#pragma once

#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <ctnn/io/picture.hpp>

namespace ctnn_explain {

struct glyph {
  char c;
  std::array<std::uint8_t, 5> rows;  // 3 bits each, the leftmost pixel the highest
};

inline constexpr std::array<glyph, 21> font{{
    {'A', {0b010, 0b101, 0b111, 0b101, 0b101}}, {'B', {0b110, 0b101, 0b110, 0b101, 0b110}},
    {'C', {0b011, 0b100, 0b100, 0b100, 0b011}}, {'D', {0b110, 0b101, 0b101, 0b101, 0b110}},
    {'E', {0b111, 0b100, 0b110, 0b100, 0b111}}, {'G', {0b011, 0b100, 0b101, 0b101, 0b011}},
    {'H', {0b101, 0b101, 0b111, 0b101, 0b101}}, {'I', {0b111, 0b010, 0b010, 0b010, 0b111}},
    {'K', {0b101, 0b101, 0b110, 0b101, 0b101}}, {'L', {0b100, 0b100, 0b100, 0b100, 0b111}},
    {'N', {0b110, 0b101, 0b101, 0b101, 0b101}}, {'O', {0b010, 0b101, 0b101, 0b101, 0b010}},
    {'P', {0b110, 0b101, 0b110, 0b100, 0b100}}, {'R', {0b110, 0b101, 0b110, 0b101, 0b101}},
    {'S', {0b011, 0b100, 0b010, 0b001, 0b110}}, {'T', {0b111, 0b010, 0b010, 0b010, 0b010}},
    {'U', {0b101, 0b101, 0b101, 0b101, 0b111}}, {'V', {0b101, 0b101, 0b101, 0b101, 0b010}},
    {'-', {0b000, 0b000, 0b111, 0b000, 0b000}}, {'/', {0b001, 0b001, 0b010, 0b100, 0b100}},
    {' ', {0, 0, 0, 0, 0}},
}};

/// `text` in capitals, dark on white, each font pixel a `scale` × `scale`
/// block, centred in a strip `width` pixels wide (clipped if longer).
inline ctnn::io::picture text_strip(std::string_view text, std::size_t width, std::size_t scale = 2) {
  const std::size_t advance = 4 * scale, h = 5 * scale;
  ctnn::io::picture out(h + 2 * scale, width, 1, 255);
  const std::size_t length = text.size() * advance;
  std::size_t left = length < width ? (width - length) / 2 : 0;
  for (char ch : text) {
    const char up = char(std::toupper(static_cast<unsigned char>(ch)));
    for (const glyph& g : font) {
      if (g.c != up) continue;
      for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t c = 0; c < 3; ++c)
          if (g.rows[r] >> (2 - c) & 1)
            for (std::size_t dy = 0; dy < scale; ++dy)
              for (std::size_t dx = 0; dx < scale; ++dx) {
                const std::size_t x = left + c * scale + dx;
                if (x < width) out.at(scale + r * scale + dy, x)[0] = 40;
              }
    }
    left += advance;
  }
  return out;
}

}  // namespace ctnn_explain
