/// @file idx.hpp
/// Reader for IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.
///
/// Every malformed input is reported as a ctnn::io::data_error whose message names the
/// file and says what was expected and what was found; nothing is returned unless the
/// whole file was read and matched its header exactly.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ctnn/io/data_error.hpp"

namespace ctnn::io {

/// Unsigned-byte images, row-major: pixels[(i * rows + r) * cols + c].
struct idx_images {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
};

struct idx_labels {
  std::size_t count = 0;
  std::vector<std::uint8_t> labels;
};

inline constexpr std::uint32_t idx_images_magic = 0x00000803;  // ubyte, 3 dims
inline constexpr std::uint32_t idx_labels_magic = 0x00000801;  // ubyte, 1 dim
/// Largest payload accepted; anything bigger is a corrupt header, not a data set.
inline constexpr std::uint64_t idx_max_payload_bytes = std::uint64_t{1} << 31;
/// How much data after the payload is read before the file is refused.
inline constexpr std::uint64_t idx_max_trailing_bytes = std::uint64_t{1} << 20;

namespace detail {

struct gz_closer {
  void operator()(gzFile f) const noexcept { gzclose(f); }
};
using gz_ptr = std::unique_ptr<gzFile_s, gz_closer>;

inline constexpr unsigned gz_chunk_bytes = 1u << 20;
/// The first payload buffer; it doubles as data arrives.
inline constexpr std::size_t first_payload_bytes = std::size_t{1} << 16;
/// zlib's input buffer (its output buffer is twice that): large for the data
/// sets, never larger than the file, so small files cost no large allocations.
inline constexpr std::uintmax_t gz_buffer_bytes = 1u << 17, gz_min_buffer_bytes = 1u << 12;

template <class... Args>
[[noreturn]] void fail(const std::filesystem::path& p, const Args&... parts) {
  std::ostringstream os;
  os << "ctnn::io: '" << p.string() << "' ";
  (os << ... << parts);
  throw data_error(os.str());
}

inline std::string hex32(std::uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

inline gz_ptr open_gz(const std::filesystem::path& p) {
  errno = 0;
#ifdef _WIN32
  gzFile f = gzopen_w(p.c_str(), "rb");
#else
  gzFile f = gzopen(p.c_str(), "rb");
#endif
  if (f == nullptr) {
    const char* why = errno != 0 ? std::strerror(errno) : "gzopen failed";
    throw data_error("ctnn::io: cannot open '" + p.string() + "': " + why);
  }
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(p, ec);
  gzbuffer(f, unsigned(ec ? gz_buffer_bytes : std::clamp(size, gz_min_buffer_bytes, gz_buffer_bytes)));
  return gz_ptr{f};
}

// gzread reports a stream that stops mid-way (e.g. a cut gzip trailer) as a soft
// Z_BUF_ERROR while still returning data, so the error state is checked after every read.
inline void check_stream(gzFile f, const std::filesystem::path& p) {
  int code = Z_OK;
  const char* msg = gzerror(f, &code);
  if (code == Z_OK) return;
  std::string_view why = msg != nullptr ? msg : "unknown error";
  // zlib prefixes its messages with the path, which the report already names.
  const std::string prefix = p.string() + ": ";
  if (why.substr(0, prefix.size()) == prefix) why.remove_prefix(prefix.size());
  if (code == Z_ERRNO) throw data_error("ctnn::io: cannot read '" + p.string() + "': " + std::string(why));
  if (code == Z_BUF_ERROR) fail(p, "is truncated: gzip stream ends unexpectedly (", why, ")");
  fail(p, "is corrupt: gzip stream error (", why, ")");
}

/// Reads up to n bytes into dst; returns how many were read (fewer only at end of file).
inline std::size_t read_some(gzFile f, const std::filesystem::path& p, std::uint8_t* dst, std::size_t n) {
  std::size_t total = 0;
  while (total < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, gz_chunk_bytes));
    const int got = gzread(f, dst + total, chunk);
    if (got <= 0) break;
    total += static_cast<std::size_t>(got);
  }
  check_stream(f, p);
  return total;
}

inline std::uint32_t be32(const std::uint8_t* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

/// Reads an IDX file with N dimensions into dims and returns its payload.
/// `describe(dims, what)` writes a description such as "3 images of 2x3" to `what` and
/// returns the payload size, or 0 if the header is absurd. The payload must fill the rest
/// of the file exactly.
template <std::size_t N, class Describe>
std::vector<std::uint8_t> read_idx(const std::filesystem::path& p, std::uint32_t magic, const char* kind,
                                   std::array<std::uint32_t, N>& dims, Describe describe) {
  const gz_ptr f = open_gz(p);
  std::array<std::uint8_t, 4 + 4 * N> h{};
  const std::size_t got_header = read_some(f.get(), p, h.data(), h.size());
  if (got_header >= 4 && be32(h.data()) != magic) {
    fail(p, "is not an IDX ", kind, " file: magic number ", hex32(be32(h.data())), ", expected ",
         hex32(magic), (be32(h.data()) >> 16) == 0x1f8b ? " (it is gzip-compressed twice)" : "");
  }
  if (got_header < h.size()) {
    fail(p, "is truncated: expected a ", h.size(), "-byte IDX header, found ", got_header, " bytes");
  }
  for (std::size_t i = 0; i < N; ++i) dims[i] = be32(h.data() + 4 + 4 * i);
  std::ostringstream what;
  const std::uint64_t bytes = describe(dims, what);
  if (bytes == 0 || bytes > idx_max_payload_bytes) {
    fail(p, "has an invalid header: ", what.str(), ", expected non-zero sizes of at most ",
         idx_max_payload_bytes, " bytes in total");
  }
  // Grow the buffer as data arrives, so a header that overstates the size cannot force
  // a large allocation.
  std::vector<std::uint8_t> out;
  std::size_t got = 0;
  while (got < bytes) {
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>(bytes, std::max<std::size_t>(2 * got, first_payload_bytes)));
    out.resize(want);
    got += read_some(f.get(), p, out.data() + got, want - got);
    if (got < want) break;
  }
  if (got < bytes) {
    fail(p, "is truncated: header says ", what.str(), " (", bytes, " bytes) but only ", got,
         " bytes follow the header");
  }
  // Read to the end of the stream, so neither trailing data nor a bad gzip checksum
  // (only checked at the end) goes unnoticed. Trailing data is counted up to a
  // bound only: a small gzip file can inflate to gigabytes of it.
  std::array<std::uint8_t, 1u << 14> sink{};
  std::uint64_t extra = 0;
  for (std::size_t n = 0;
       extra <= idx_max_trailing_bytes && (n = read_some(f.get(), p, sink.data(), sink.size())) > 0;) {
    extra += n;
  }
  if (extra > 0) {
    fail(p, "has ", extra > idx_max_trailing_bytes ? "more than " : "", std::min(extra, idx_max_trailing_bytes),
         extra == 1 ? " extra byte" : " extra bytes", " after the ", what.str(), " declared in its header");
  }
  return out;
}

}  // namespace detail

inline idx_images read_idx_images(const std::filesystem::path& p) {
  std::array<std::uint32_t, 3> dims{};
  auto pixels = detail::read_idx(p, idx_images_magic, "image", dims, [](const auto& d, auto& what) {
    what << d[0] << " images of " << d[1] << 'x' << d[2];
    // Bound the first product before forming the second, so nothing can overflow.
    const std::uint64_t plane = std::uint64_t{d[1]} * d[2];
    return plane > idx_max_payload_bytes ? 0 : d[0] * plane;
  });
  return {dims[0], dims[1], dims[2], std::move(pixels)};
}

inline idx_labels read_idx_labels(const std::filesystem::path& p) {
  std::array<std::uint32_t, 1> dims{};
  auto labels = detail::read_idx(p, idx_labels_magic, "label", dims, [](const auto& d, auto& what) {
    what << d[0] << " labels";
    return std::uint64_t{d[0]};
  });
  return {dims[0], std::move(labels)};
}

// ---------------------------------------------------------------------------------------
// Fashion-MNIST

enum class split { train, test };

inline constexpr std::size_t fashion_mnist_side = 28;
inline constexpr std::size_t fashion_mnist_classes = 10;
inline constexpr std::array<std::string_view, fashion_mnist_classes> fashion_mnist_class_names{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/// Where the Debian package dataset-fashion-mnist installs the files.
inline const std::filesystem::path default_fashion_mnist_dir{"/usr/share/datasets/fashion-mnist"};

/// $CTNN_FASHION_MNIST_DIR if set and non-empty, else default_fashion_mnist_dir.
inline std::filesystem::path fashion_mnist_dir() {
  const char* env = std::getenv("CTNN_FASHION_MNIST_DIR");
  return env != nullptr && *env != '\0' ? std::filesystem::path{env} : default_fashion_mnist_dir;
}

struct dataset {
  std::size_t count = 0;             // number of examples
  std::size_t features = 0;          // values per example (28 * 28)
  std::vector<float> images;         // count * features, row-major, scaled to [0, 1]
  std::vector<std::uint8_t> labels;  // count class indices, each < fashion_mnist_classes
};

inline dataset load_fashion_mnist(const std::filesystem::path& dir, split s) {
  const std::string prefix = s == split::train ? "train" : "t10k";
  const auto images_path = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto labels_path = dir / (prefix + "-labels-idx1-ubyte.gz");
  idx_labels lab = read_idx_labels(labels_path);
  for (std::size_t i = 0; i < lab.count; ++i) {
    if (lab.labels[i] >= fashion_mnist_classes) {
      detail::fail(labels_path, "has label ", int{lab.labels[i]}, " at index ", i, ", expected 0..",
                   fashion_mnist_classes - 1);
    }
  }
  const idx_images img = read_idx_images(images_path);
  if (img.rows != fashion_mnist_side || img.cols != fashion_mnist_side) {
    detail::fail(images_path, "holds ", img.rows, 'x', img.cols, " images, expected ", fashion_mnist_side,
                 'x', fashion_mnist_side, " for Fashion-MNIST");
  }
  if (img.count != lab.count) {
    detail::fail(images_path, "has ", img.count, " images but '", labels_path.string(), "' has ", lab.count,
                 " labels");
  }
  dataset out;
  out.count = img.count;
  out.features = img.rows * img.cols;
  out.images.resize(img.pixels.size());
  // Divide rather than multiply by 1/255: every value is then the correctly rounded v / 255.
  std::transform(img.pixels.begin(), img.pixels.end(), out.images.begin(),
                 [](std::uint8_t v) { return static_cast<float>(v) / 255.0f; });
  out.labels = std::move(lab.labels);
  return out;
}

/// Loads a split from fashion_mnist_dir().
inline dataset load_fashion_mnist(split s) { return load_fashion_mnist(fashion_mnist_dir(), s); }

}  // namespace ctnn::io
