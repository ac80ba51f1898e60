// Writes the seed corpus of every fuzz target into the directory given
// (tests/fuzz/corpus): a few small valid files of each kind, and the
// malformed ones that once made a reader misbehave. Deterministic: running it
// again rewrites the same bytes. See tests/fuzz/README.md.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../unit/io/zip_builder.hpp"
#include "checkpoint_network.hpp"

namespace {

namespace fs = std::filesystem;
namespace zip = ctnn_test::zip;

void write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
  std::printf("%s (%zu bytes)\n", p.c_str(), bytes.size());
}

// A gzip file as gzwrite makes it (no name, time 0: the same bytes every run).
std::string gzipped(const std::string& plain) {
  std::string out(compressBound(uLong(plain.size())) + 32, '\0');
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = uInt(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string be32(std::uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s += char((v >> shift) & 0xff);
  return s;
}

std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::size_t pixels) {
  std::string s = be32(0x803) + be32(n) + be32(rows) + be32(cols);
  for (std::size_t i = 0; i < pixels; ++i) s += char(i * 37 % 256);
  return s;
}

std::string idx_labels(std::uint32_t n, std::size_t labels) {
  std::string s = be32(0x801) + be32(n);
  for (std::size_t i = 0; i < labels; ++i) s += char(i % 10);
  return s;
}

// The archive read back as its members, so that they can be rewritten deflated.
std::vector<zip::member> members_of(const fs::path& npz, std::uint16_t method, bool zip64) {
  std::vector<zip::member> out;
  for (const ctnn::io::npy_array& a : ctnn::io::read_npz(npz)) {
    std::string npy;
    if (a.dtype == "<f4") {
      std::vector<float> v(a.bytes.size() / 4);
      std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
      npy = zip::npy(v, a.shape);
    } else {
      throw std::runtime_error("unexpected dtype " + a.dtype);
    }
    zip::member m = zip::make_member(a.name + ".npy", npy, method);
    m.zip64 = zip64;
    out.push_back(m);
  }
  return out;
}

// Archives that once made the .npz reader read outside the file or allocate
// what the file does not hold (issue 13), and other lies a field can tell.
void write_malformed_npz(const fs::path& dir) {
  const std::string npy = zip::npy({1.0f, 2.0f, 3.0f, 4.0f}, {4});
  write(dir / "zip64_locator_near_2_64.npz", zip::zip64_locator_only(~std::uint64_t{0} - 15));
  zip::member far = zip::make_member("w.npy", npy);
  far.zip64 = true;
  far.offset = ~std::uint64_t{0} - 15;
  write(dir / "zip64_member_offset_near_2_64.npz", zip::archive({far}));
  zip::member bomb = zip::make_member("w.npy", npy, 8);
  bomb.size = 0xfffffffe;
  write(dir / "deflate_claims_4_GiB.npz", zip::archive({bomb}));
  zip::member a = zip::make_member("a.npy", npy, 8), b = a;
  b.name = "b.npy";
  b.has_data = false;
  b.offset = 0;
  write(dir / "members_share_data.npz", zip::archive({a, b}));
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }";
  write(dir / "npy_shape_overflows.npz", zip::archive({zip::make_member("w.npy", zip::npy_with_header(dict, ""))}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>  (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];

  const std::string images = idx_images(3, 2, 3, 18), labels = idx_labels(5, 5);
  write(root / "idx_images/3_images_2x3", images);
  write(root / "idx_images/3_images_2x3.gz", gzipped(images));
  write(root / "idx_images/1_image_28x28.gz", gzipped(idx_images(1, 28, 28, 784)));
  write(root / "idx_images/claims_2000000_images_of_32x32", idx_images(2'000'000, 32, 32, 18));
  write(root / "idx_images/2_extra_bytes", images + "ab");
  write(root / "idx_labels/5_labels", labels);
  write(root / "idx_labels/5_labels.gz", gzipped(labels));
  write(root / "idx_labels/claims_7_labels", idx_labels(7, 3));
  write(root / "idx_labels/1_extra_byte", labels + "z");

  const fs::path npz = root / "npz";
  const std::vector<float> six{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  std::vector<ctnn::io::npy_array> arrays(2);
  arrays[0] = {"w", "<f4", {2, 3}, std::vector<char>(24)};
  std::memcpy(arrays[0].bytes.data(), six.data(), 24);
  const double e = 2.718281828459045;
  arrays[1] = {"scalar", "<f8", {}, std::vector<char>(8)};
  std::memcpy(arrays[1].bytes.data(), &e, 8);
  fs::create_directories(npz);
  ctnn::io::write_npz(npz / "stored.npz", arrays);
  std::printf("%s\n", (npz / "stored.npz").c_str());
  const std::string w = zip::npy(six, {2, 3});
  write(npz / "deflated.npz", zip::archive({zip::make_member("w.npy", w, 8)}));
  zip::member w64 = zip::make_member("w.npy", w, 8);
  w64.zip64 = true;
  write(npz / "zip64.npz", zip::archive({w64}, true));
  write_malformed_npz(npz);

  // Checkpoints of the fuzz target's network: as save_checkpoint writes them,
  // as numpy.savez_compressed would (deflated), with zip64 fields, and one
  // that holds only some of the tensors.
  const fs::path ck = root / "checkpoint";
  fs::create_directories(ck);
  ctnn_fuzz::checkpoint_net::model m(7);
  ctnn::save_checkpoint(ck / "saved.npz", m);
  std::printf("%s\n", (ck / "saved.npz").c_str());
  write(ck / "deflated.npz", zip::archive(members_of(ck / "saved.npz", 8, false)));
  write(ck / "zip64.npz", zip::archive(members_of(ck / "saved.npz", 0, true), true));
  std::vector<zip::member> some = members_of(ck / "saved.npz", 0, false);
  some.resize(2);
  write(ck / "two_tensors.npz", zip::archive(some));
  write_malformed_npz(ck);
  return 0;
}
