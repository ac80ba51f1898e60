// Test helper: writes a tiny but valid Fashion-MNIST data set, the four
// gzip-compressed IDX files ctnn_train reads, so that the app's tests can try
// data sets of any size.
//
//   write_tiny_fashion_mnist DIR TRAIN_IMAGES TEST_IMAGES
//
// The images are 28x28 gradients and the labels cycle through the ten classes.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

bool write_gz(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool written = gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size());
  return gzclose(f) == Z_OK && written;
}

bool write_split(const std::filesystem::path& dir, const std::string& prefix, std::uint32_t count) {
  constexpr std::uint32_t side = 28;
  std::vector<std::uint8_t> images, labels;
  put_be32(images, 0x00000803);  // unsigned bytes, three dimensions
  put_be32(images, count);
  put_be32(images, side);
  put_be32(images, side);
  put_be32(labels, 0x00000801);  // unsigned bytes, one dimension
  put_be32(labels, count);
  for (std::uint32_t i = 0; i < count; ++i) {
    for (std::uint32_t p = 0; p < side * side; ++p) images.push_back(std::uint8_t((p + 7 * i) % 256));
    labels.push_back(std::uint8_t(i % 10));
  }
  return write_gz(dir / (prefix + "-images-idx3-ubyte.gz"), images) &&
         write_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), labels);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: write_tiny_fashion_mnist DIR TRAIN_IMAGES TEST_IMAGES\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const auto train = std::uint32_t(std::strtoul(argv[2], nullptr, 10));
  const auto test = std::uint32_t(std::strtoul(argv[3], nullptr, 10));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !write_split(dir, "train", train) || !write_split(dir, "t10k", test)) {
    std::fprintf(stderr, "write_tiny_fashion_mnist: cannot write the data set to '%s'\n", dir.c_str());
    return 1;
  }
  std::printf("wrote %u training and %u test images to %s\n", train, test, dir.c_str());
  return 0;
}
