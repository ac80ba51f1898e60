/// @file png.hpp
/// Writing and reading 8-bit grayscale and RGB PNG files through libpng
/// (Debian: libpng-dev; CMake: find_package(PNG), link PNG::PNG). This is the
/// only header of ctnn that needs libpng: the rest of the library builds
/// without it.
///
/// Uses libpng 1.6's simplified API, which reports errors through its
/// return value and a message instead of longjmp. Every failure is a
/// ctnn::io::data_error naming the file and the reason.
#pragma once

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "ctnn/io/data_error.hpp"
#include "ctnn/io/picture.hpp"

namespace ctnn::io {

namespace detail {
struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using file_handle = std::unique_ptr<std::FILE, file_closer>;
}  // namespace detail

/// Writes `p` (gray or RGB, 8 bits per channel) to `path`, replacing it.
inline void write_png(const std::filesystem::path& path, const picture& p) {
  const std::string name = path.string();
  if (p.channels != 1 && p.channels != 3)
    throw data_error("ctnn::io::write_png: '" + name + "': " + std::to_string(p.channels) +
                     " channels; a PNG is written as 1 (gray) or 3 (RGB)");
  if (p.height == 0 || p.width == 0 || p.pixels.size() != p.height * p.width * p.channels)
    throw data_error("ctnn::io::write_png: '" + name + "': the picture is " + std::to_string(p.height) + " × " +
                     std::to_string(p.width) + " × " + std::to_string(p.channels) + " but holds " +
                     std::to_string(p.pixels.size()) + " bytes");
  detail::file_handle file(std::fopen(name.c_str(), "wb"));
  if (!file) throw data_error("ctnn::io::write_png: cannot create '" + name + "': " + std::strerror(errno));
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(p.width);
  image.height = static_cast<png_uint_32>(p.height);
  image.format = p.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  const bool ok = png_image_write_to_stdio(&image, file.get(), 0, p.pixels.data(),
                                           static_cast<png_int_32>(p.width * p.channels), nullptr) != 0;
  const std::string reason = image.message;
  png_image_free(&image);
  if (!ok) throw data_error("ctnn::io::write_png: cannot write '" + name + "': " + reason);
  if (std::fflush(file.get()) != 0 || std::ferror(file.get()))
    throw data_error("ctnn::io::write_png: cannot write '" + name + "': " + std::strerror(errno));
}

/// Reads a PNG as 8-bit gray (if it has no colour) or RGB; alpha is
/// composited on black, 16-bit samples reduced to 8.
inline picture read_png(const std::filesystem::path& path) {
  const std::string name = path.string();
  detail::file_handle file(std::fopen(name.c_str(), "rb"));
  if (!file) throw data_error("ctnn::io::read_png: cannot open '" + name + "': " + std::strerror(errno));
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_stdio(&image, file.get())) {
    const std::string reason = image.message;
    png_image_free(&image);
    throw data_error("ctnn::io::read_png: '" + name + "' is not a readable PNG: " + reason);
  }
  const bool gray = (image.format & PNG_FORMAT_FLAG_COLOR) == 0;
  image.format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  picture p(image.height, image.width, gray ? 1 : 3);
  const png_color black{0, 0, 0};
  if (!png_image_finish_read(&image, &black, p.pixels.data(), static_cast<png_int_32>(p.width * p.channels), nullptr)) {
    const std::string reason = image.message;
    png_image_free(&image);
    throw data_error("ctnn::io::read_png: '" + name + "' is not a readable PNG: " + reason);
  }
  return p;
}

}  // namespace ctnn::io
