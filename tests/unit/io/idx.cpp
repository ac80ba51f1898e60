// Tests for the IDX / Fashion-MNIST reader. Every case writes its own small files into a
// fresh temporary directory; only the last one reads the installed data set, if present.
#include <catch2/catch.hpp>

#include <ctnn/io/idx.hpp>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "../../support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;
using Catch::Matchers::Contains;
using ctnn::io::data_error;

// Each test's files in a directory of its own.
struct temp_dir : ctnn_test::temp_dir {
  temp_dir() : ctnn_test::temp_dir("ctnn_idx_test_") {}
};

void put_be32(bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

bytes images_file(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, const bytes& pixels) {
  bytes b;
  put_be32(b, 0x00000803);
  put_be32(b, n);
  put_be32(b, rows);
  put_be32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

bytes labels_file(const bytes& labels) {
  bytes b;
  put_be32(b, 0x00000801);
  put_be32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

void write_raw(const fs::path& p, const bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(out.good());
}

void write_gz(const fs::path& p, const bytes& b) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f != nullptr);
  const int written = gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  const int closed = gzclose(f);
  REQUIRE(written == static_cast<int>(b.size()));
  REQUIRE(closed == Z_OK);
}

bytes read_raw(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// 3 images of 2x3 whose pixel (i, r, c) is 100*i + 10*r + c.
bytes sample_pixels() {
  bytes px;
  for (int i = 0; i < 3; ++i)
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) px.push_back(static_cast<std::uint8_t>(100 * i + 10 * r + c));
  return px;
}

// Pseudo-random pixels, enough that the deflate stream has a substantial middle.
bytes noisy_pixels(std::size_t n) {
  std::mt19937 gen(42);
  bytes px(n);
  for (auto& v : px) v = static_cast<std::uint8_t>(gen() % 16);
  return px;
}

}  // namespace

TEST_CASE("idx: reads gzip-compressed images exactly", "[io][idx]") {
  temp_dir dir;
  const auto p = dir.path / "images.gz";
  write_gz(p, images_file(3, 2, 3, sample_pixels()));
  const auto img = ctnn::io::read_idx_images(p);
  CHECK(img.count == 3);
  CHECK(img.rows == 2);
  CHECK(img.cols == 3);
  CHECK(img.pixels == sample_pixels());
  CHECK(img.pixels[(2 * 2 + 1) * 3 + 2] == 212);
}

TEST_CASE("idx: reads uncompressed images too", "[io][idx]") {
  temp_dir dir;
  const auto p = dir.path / "images-idx3-ubyte";
  write_raw(p, images_file(3, 2, 3, sample_pixels()));
  const auto img = ctnn::io::read_idx_images(p);
  CHECK(img.count == 3);
  CHECK(img.rows == 2);
  CHECK(img.cols == 3);
  CHECK(img.pixels == sample_pixels());
}

TEST_CASE("idx: reads labels", "[io][idx]") {
  temp_dir dir;
  const bytes labels{9, 0, 0, 3, 255};
  write_gz(dir.path / "labels.gz", labels_file(labels));
  write_raw(dir.path / "labels.raw", labels_file(labels));
  for (const char* name : {"labels.gz", "labels.raw"}) {
    const auto lab = ctnn::io::read_idx_labels(dir.path / name);
    CHECK(lab.count == 5);
    CHECK(lab.labels == labels);
  }
}

TEST_CASE("idx: missing file names the path", "[io][idx]") {
  temp_dir dir;
  const auto p = dir.path / "train-images-idx3-ubyte.gz";
  REQUIRE_THROWS_AS(ctnn::io::read_idx_images(p), data_error);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("cannot open") &&
                                                        Contains("'" + p.string() + "'") &&
                                                        Contains("No such file"));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(p), Contains("cannot open"));
}

TEST_CASE("idx: a directory is not readable as a file", "[io][idx]") {
  temp_dir dir;
  REQUIRE_THROWS_AS(ctnn::io::read_idx_images(dir.path), data_error);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(dir.path), Contains(dir.path.string()));
}

TEST_CASE("idx: wrong magic number reports both values", "[io][idx]") {
  temp_dir dir;
  const auto labels = dir.path / "labels.gz";
  const auto images = dir.path / "images.gz";
  write_gz(labels, labels_file({1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2}));
  write_gz(images, images_file(3, 2, 3, sample_pixels()));
  REQUIRE_THROWS_AS(ctnn::io::read_idx_images(labels), data_error);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(labels),
                      Contains("not an IDX image file") && Contains("magic") && Contains("0x00000801") &&
                          Contains("0x00000803") && Contains(labels.string()));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(images),
                      Contains("not an IDX label file") && Contains("0x00000803") && Contains("0x00000801"));

  const auto text = dir.path / "notes.txt";
  write_raw(text, bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'});
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(text), Contains("0x68656c6c"));

  const auto twice = dir.path / "twice.gz";
  write_gz(twice, read_raw(images));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(twice),
                      Contains("magic number 0x1f8b") && Contains("gzip-compressed twice"));
}

TEST_CASE("idx: truncated header and payload", "[io][idx]") {
  temp_dir dir;
  const auto empty = dir.path / "empty";
  write_raw(empty, {});
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(empty),
                      Contains("truncated") && Contains("16-byte IDX header") && Contains("found 0 bytes"));

  const auto short_header = dir.path / "short.gz";
  write_gz(short_header, bytes{0, 0, 8, 1, 0, 0});
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(short_header),
                      Contains("truncated") && Contains("8-byte IDX header") && Contains("found 6 bytes"));

  const auto px = sample_pixels();
  const auto images = dir.path / "images.gz";
  write_gz(images, images_file(3, 2, 3, bytes(px.begin(), px.begin() + 10)));
  REQUIRE_THROWS_AS(ctnn::io::read_idx_images(images), data_error);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(images), Contains("truncated") &&
                                                             Contains("3 images of 2x3 (18 bytes)") &&
                                                             Contains("only 10 bytes"));

  const auto labels = dir.path / "labels";
  auto lab = labels_file({1, 2, 3});
  lab[7] = 7;  // header claims 7 labels, 3 present
  write_raw(labels, lab);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(labels),
                      Contains("truncated") && Contains("7 labels") && Contains("only 3 bytes"));
}

TEST_CASE("idx: absurd or overstated headers", "[io][idx]") {
  temp_dir dir;
  const auto p = dir.path / "images";
  write_raw(p, images_file(0, 28, 28, {}));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("invalid header") && Contains("0 images"));
  write_raw(p, images_file(3, 0, 3, sample_pixels()));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("invalid header"));
  write_raw(p, images_file(0xffffffff, 0xffffffff, 0xffffffff, sample_pixels()));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p),
                      Contains("invalid header") && Contains("4294967295 images of 4294967295x4294967295"));
  write_raw(p, images_file(3000000, 28, 28, sample_pixels()));  // 2.35 GB
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("invalid header"));

  // Within the limit but far larger than the file: must fail as truncated, not allocate it all.
  write_raw(p, images_file(2000000, 32, 32, sample_pixels()));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("truncated") && Contains("only 18 bytes"));

  const auto l = dir.path / "labels";
  write_raw(l, labels_file({}));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(l), Contains("invalid header") && Contains("0 labels"));
}

TEST_CASE("idx: trailing data after the payload is an error", "[io][idx]") {
  temp_dir dir;
  auto px = sample_pixels();
  px.push_back(1);
  px.push_back(2);
  const auto p = dir.path / "images.gz";
  write_gz(p, images_file(3, 2, 3, px));
  REQUIRE_THROWS_AS(ctnn::io::read_idx_images(p), data_error);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p),
                      Contains("has 2 extra bytes") && Contains("3 images of 2x3"));

  const auto l = dir.path / "labels";
  auto lab = labels_file({1, 2, 3});
  lab.push_back(4);
  write_raw(l, lab);
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(l), Contains("has 1 extra byte after the 3 labels"));
}

TEST_CASE("idx: damaged gzip streams never load", "[io][idx]") {
  temp_dir dir;
  const auto good = dir.path / "good.gz";
  write_gz(good, images_file(64, 28, 28, noisy_pixels(64 * 28 * 28)));
  REQUIRE(ctnn::io::read_idx_images(good).count == 64);
  const bytes gz = read_raw(good);
  REQUIRE(gz.size() > 1000);

  SECTION("bytes flipped in the middle") {
    bytes bad = gz;
    for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 8; ++i) bad[i] ^= 0xa5;
    const auto p = dir.path / "flipped.gz";
    write_raw(p, bad);
    // Depending on where the flip lands, inflate sees invalid codes, a checksum
    // mismatch, or a stream that no longer ends where the file does.
    REQUIRE_THROWS_AS(ctnn::io::read_idx_images(p), data_error);
    REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("corrupt") || Contains("truncated"));
  }
  SECTION("checksum mismatch") {
    bytes bad = gz;
    bad[bad.size() - 8] ^= 0xff;  // first byte of the CRC-32 in the gzip trailer
    const auto p = dir.path / "crc.gz";
    write_raw(p, bad);
    REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p),
                        Contains("is corrupt") && Contains("gzip") && Contains("incorrect data check"));
  }
  SECTION("gzip trailer cut off") {
    const auto p = dir.path / "cut.gz";
    write_raw(p, bytes(gz.begin(), gz.end() - 8));
    REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p),
                        Contains("truncated") && Contains("gzip") && Contains(p.string()));
  }
  SECTION("compressed stream cut in half") {
    const auto p = dir.path / "half.gz";
    write_raw(p, bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
    REQUIRE_THROWS_WITH(ctnn::io::read_idx_images(p), Contains("truncated"));
  }
}

namespace {

void write_split(const fs::path& dir, const std::string& prefix, std::uint32_t n_images,
                 const bytes& labels) {
  bytes px(std::size_t{n_images} * 28 * 28);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i % 256);
  write_gz(dir / (prefix + "-images-idx3-ubyte.gz"), images_file(n_images, 28, 28, px));
  write_gz(dir / (prefix + "-labels-idx1-ubyte.gz"), labels_file(labels));
}

}  // namespace

TEST_CASE("fashion-mnist: loads a generated split, scaled to [0, 1]", "[io][fashion_mnist]") {
  temp_dir dir;
  write_split(dir.path, "t10k", 2, {9, 0});
  const auto ds = ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::test);
  REQUIRE(ds.count == 2);
  REQUIRE(ds.features == 784);
  REQUIRE(ds.images.size() == 2 * 784);
  CHECK(ds.labels == bytes{9, 0});
  CHECK(ds.images[0] == 0.0f);
  CHECK(ds.images[51] == 51.0f / 255.0f);
  CHECK(ds.images[255] == 1.0f);
  CHECK(ds.images[784 + 1] == static_cast<float>((784 + 1) % 256) / 255.0f);

  // The train split lives under a different name in the same directory.
  REQUIRE_THROWS_WITH(ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::train),
                      Contains("cannot open") && Contains("train-labels-idx1-ubyte.gz"));
}

TEST_CASE("fashion-mnist: label out of range", "[io][fashion_mnist]") {
  temp_dir dir;
  write_split(dir.path, "train", 3, {1, 10, 2});
  REQUIRE_THROWS_AS(ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::train), data_error);
  REQUIRE_THROWS_WITH(
      ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::train),
      Contains("train-labels-idx1-ubyte.gz") && Contains("label 10 at index 1") && Contains("expected 0..9"));
}

TEST_CASE("fashion-mnist: image and label counts must match", "[io][fashion_mnist]") {
  temp_dir dir;
  write_split(dir.path, "train", 3, {1, 2});
  REQUIRE_THROWS_AS(ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::train), data_error);
  REQUIRE_THROWS_WITH(ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::train),
                      Contains("has 3 images") && Contains("has 2 labels") &&
                          Contains("train-images-idx3-ubyte.gz") && Contains("train-labels-idx1-ubyte.gz"));
}

TEST_CASE("fashion-mnist: images must be 28x28", "[io][fashion_mnist]") {
  temp_dir dir;
  write_gz(dir.path / "t10k-images-idx3-ubyte.gz", images_file(3, 2, 3, sample_pixels()));
  write_gz(dir.path / "t10k-labels-idx1-ubyte.gz", labels_file({1, 2, 3}));
  REQUIRE_THROWS_WITH(ctnn::io::load_fashion_mnist(dir.path, ctnn::io::split::test),
                      Contains("2x3 images") && Contains("expected 28x28"));
}

TEST_CASE("fashion-mnist: CTNN_FASHION_MNIST_DIR overrides the default directory", "[io][fashion_mnist]") {
  const char* old = std::getenv("CTNN_FASHION_MNIST_DIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("CTNN_FASHION_MNIST_DIR", "/tmp/somewhere/else", 1);
  CHECK(ctnn::io::fashion_mnist_dir() == fs::path{"/tmp/somewhere/else"});
  ::setenv("CTNN_FASHION_MNIST_DIR", "", 1);
  CHECK(ctnn::io::fashion_mnist_dir() == ctnn::io::default_fashion_mnist_dir);
  ::unsetenv("CTNN_FASHION_MNIST_DIR");
  CHECK(ctnn::io::fashion_mnist_dir() == ctnn::io::default_fashion_mnist_dir);
  if (old != nullptr) ::setenv("CTNN_FASHION_MNIST_DIR", saved.c_str(), 1);
}

TEST_CASE("fashion-mnist: installed test split", "[io][fashion_mnist][dataset]") {
  const fs::path dir = ctnn::io::fashion_mnist_dir();
  if (!fs::exists(dir / "t10k-labels-idx1-ubyte.gz")) {
    WARN("Fashion-MNIST not found in " << dir << "; skipping (install dataset-fashion-mnist)");
    return;
  }
  const auto ds = ctnn::io::load_fashion_mnist(dir, ctnn::io::split::test);
  REQUIRE(ds.count == 10000);
  REQUIRE(ds.features == 784);
  REQUIRE(ds.images.size() == 10000 * 784);
  REQUIRE(ds.labels.size() == 10000);
  CHECK(ds.labels[0] == 9);
  CHECK(ctnn::io::fashion_mnist_class_names[ds.labels[0]] == "Ankle boot");
  std::array<int, 10> per_class{};
  for (const auto l : ds.labels) ++per_class[l];
  for (const int n : per_class) CHECK(n == 1000);  // the test split is balanced
  const auto [lo, hi] = std::minmax_element(ds.images.begin(), ds.images.end());
  CHECK(*lo == 0.0f);
  CHECK(*hi == 1.0f);
}

TEST_CASE("idx: trailing data is counted up to a bound, not inflated to its end", "[io][idx]") {
  // 64 MiB of zeros after three labels: a gzip file of about 64 KB. Reading it
  // all only to count it would let a small file cost gigabytes of inflating.
  temp_dir dir;
  auto lab = labels_file({1, 2, 3});
  lab.resize(lab.size() + (std::size_t{64} << 20));
  const auto p = dir.path / "labels.gz";
  write_gz(p, lab);
  REQUIRE(fs::file_size(p) < (std::size_t{1} << 20));
  REQUIRE_THROWS_WITH(ctnn::io::read_idx_labels(p),
                      Contains("has more than 1048576 extra bytes after the 3 labels declared in its header"));
}
