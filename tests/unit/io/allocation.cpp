// A file whose header claims far more than it holds must be refused without
// allocating the claim: a deflated .npz member, an IDX file. Its own
// executable: it replaces the global operator new to record the largest
// request and to refuse any above a bound (so that a reader that trusts the
// claim fails fast instead of taking 4 GiB).
#include <catch2/catch.hpp>

#include <ctnn/io/idx.hpp>
#include <ctnn/io/npz.hpp>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../../support/replace_operator_new.hpp"
#include "zip_builder.hpp"

namespace {
std::atomic<std::size_t> largest_request{0};
constexpr std::size_t refused_above = std::size_t{256} << 20;
}  // namespace

// Every allocation of this executable comes here (replace_operator_new.hpp).
void* ctnn_test::allocate(std::size_t n, std::size_t alignment) noexcept {
  for (std::size_t seen = largest_request; n > seen && !largest_request.compare_exchange_weak(seen, n);) {
  }
  if (n > refused_above) return nullptr;
  return system_allocate(n, alignment);
}

namespace {

namespace fs = std::filesystem;
namespace zip = ctnn_test::zip;
using Catch::Matchers::Contains;

struct temp_file {
  fs::path path = fs::temp_directory_path() / ("ctnn_io_alloc_" + std::to_string(std::random_device{}()));
  explicit temp_file(const std::string& bytes, bool gzip = false) {
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      REQUIRE(f != nullptr);
      REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
      REQUIRE(gzclose(f) == Z_OK);
      return;
    }
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

// The largest single allocation read_npz makes on these bytes; it must throw data_error.
std::size_t largest_allocation_refusing(const std::string& bytes, const std::string& message) {
  const temp_file file(bytes);
  largest_request = 0;
  std::string what = "(nothing was thrown)";
  try {
    ctnn::io::read_npz(file.path);
  } catch (const ctnn::io::data_error& e) {
    what = e.what();
  }
  const std::size_t largest = largest_request;
  CHECK_THAT(what, Contains(message));
  return largest;
}

const std::string small_npy = zip::npy({1.0f, 2.0f, 3.0f, 4.0f}, {4});

}  // namespace

TEST_CASE("npz: a ~110-byte deflated member claiming 4 GiB is refused without allocating it", "[io][npz]") {
  zip::member m = zip::make_member("w.npy", small_npy, 8);
  REQUIRE(m.stored.size() < 120);
  m.size = 0xfffffffe;  // the most a 32-bit field holds without deferring to zip64
  CHECK(largest_allocation_refusing(zip::archive({m}), "claims 4294967294 bytes") < (std::size_t{1} << 20));
  m.zip64 = true;
  m.size = std::uint64_t{1} << 34;  // 16 GiB through zip64
  CHECK(largest_allocation_refusing(zip::archive({m}, true), "claims 17179869184 bytes") < (std::size_t{1} << 20));
}

TEST_CASE("npz: a claim deflate could produce, but that the .npy header contradicts, is refused early",
          "[io][npz]") {
  // 40 MB of zeros deflate to about 40 KB, so the claim is within deflate's
  // ratio; the .npy header says 4 floats, which the first chunk reveals.
  const std::string plain = small_npy + std::string(40'000'000, '\0');
  zip::member m = zip::make_member("w.npy", plain, 8);
  REQUIRE(m.stored.size() * 1032 > plain.size());
  CHECK(largest_allocation_refusing(zip::archive({m}), "its .npy header (<f4, shape [4]) says " +
                                                           std::to_string(small_npy.size())) <
        (std::size_t{1} << 20));
}

TEST_CASE("idx: a header claiming 2 GB grows the buffer with the data, raw or gzip-compressed", "[io][idx]") {
  // 2,000,000 images of 32x32 (within the 2 GiB bound); the file holds 18 bytes,
  // or 3 MiB of them.
  std::string header;
  for (const std::uint32_t v : {0x00000803u, 2'000'000u, 32u, 32u})
    for (int shift = 24; shift >= 0; shift -= 8) header += char((v >> shift) & 0xff);
  for (const bool gzip : {false, true})
    for (const std::size_t held : {std::size_t{18}, std::size_t{3} << 20}) {
      CAPTURE(gzip, held);
      const temp_file file(header + std::string(held, '\x07'), gzip);
      largest_request = 0;
      CHECK_THROWS_WITH(ctnn::io::read_idx_images(file.path), Contains("truncated") &&
                                                                  Contains("only " + std::to_string(held) + " bytes"));
      // The first buffer is 64 KiB; each later one at most doubles what arrived.
      CHECK(largest_request <= std::max<std::size_t>(std::size_t{64} << 10, 2 * held) + 4096);
    }
}
