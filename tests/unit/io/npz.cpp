// Tests for the .npz reader and writer. Archives are built byte by byte
// (zip_builder.hpp) so that each field can lie: every malformed archive must
// end in a ctnn::io::data_error naming the file and the problem, never in a
// read outside the file's bytes or an allocation the file cannot justify.
#include <catch2/catch.hpp>

#include <ctnn/io/npz.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "../../support/temp_dir.hpp"
#include "zip_builder.hpp"

namespace {

namespace fs = std::filesystem;
namespace zip = ctnn_test::zip;
using Catch::Matchers::Contains;
using ctnn::io::data_error;

// Each test's files in a directory of its own.
struct temp_dir : ctnn_test::temp_dir {
  temp_dir() : ctnn_test::temp_dir("ctnn_npz_test_") {}
};

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

// The message read_npz throws for these bytes, or a note that it threw nothing.
std::string error_reading(const temp_dir& dir, const std::string& bytes) {
  const fs::path p = dir.path / "archive.npz";
  write_file(p, bytes);
  try {
    ctnn::io::read_npz(p);
  } catch (const data_error& e) {
    return e.what();
  }
  return "(nothing was thrown)";
}

std::vector<float> floats(const ctnn::io::npy_array& a) {
  std::vector<float> v(a.bytes.size() / sizeof(float));
  std::memcpy(v.data(), a.bytes.data(), v.size() * sizeof(float));
  return v;
}

const std::vector<float> six{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};

}  // namespace

TEST_CASE("npz: what write_npz writes, read_npz reads back exactly", "[io][npz]") {
  temp_dir dir;
  const fs::path p = dir.path / "arrays.npz";
  std::vector<ctnn::io::npy_array> arrays(3);
  arrays[0] = {"w", "<f4", {2, 3}, std::vector<char>(24)};
  std::memcpy(arrays[0].bytes.data(), six.data(), 24);
  const double pi = 3.141592653589793;
  arrays[1] = {"scalar", "<f8", {}, std::vector<char>(8)};
  std::memcpy(arrays[1].bytes.data(), &pi, 8);
  arrays[2] = {"empty", "<f4", {0, 5}, {}};
  ctnn::io::write_npz(p, arrays);
  CHECK_FALSE(fs::exists(dir.path / "arrays.npz.tmp"));

  const auto back = ctnn::io::read_npz(p);
  REQUIRE(back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back[i].name == arrays[i].name);
    CHECK(back[i].dtype == arrays[i].dtype);
    CHECK(back[i].shape == arrays[i].shape);
    CHECK(back[i].bytes == arrays[i].bytes);
  }
}

TEST_CASE("npz: each member write_npz writes is byte for byte what xt::dump_npy writes", "[io][npz]") {
  // xtensor is the reference here only: ctnn writes the .npy text itself.
  temp_dir dir;
  const fs::path p = dir.path / "one.npz";
  std::vector<double> values(24);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.25 * double(i) - 2;
  const std::vector<std::vector<std::size_t>> shapes = {{}, {1}, {7}, {2, 3}, {4, 3, 2}, {1, 2, 3, 4}, {24, 1, 1, 1, 1, 1, 1, 1, 1}};
  for (const auto& shape : shapes)
    for (const bool wide : {false, true}) {
      std::size_t count = 1;
      for (std::size_t d : shape) count *= d;
      std::string expected;
      ctnn::io::npy_array a{"a", wide ? "<f8" : "<f4", shape, {}};
      if (wide) {
        expected = xt::dump_npy(xt::adapt(values.data(), count, xt::no_ownership(), shape));
        a.bytes.assign(reinterpret_cast<const char*>(values.data()),
                       reinterpret_cast<const char*>(values.data() + count));
      } else {
        const std::vector<float> narrow(values.begin(), values.begin() + std::ptrdiff_t(count));
        expected = zip::npy(narrow, shape);
        a.bytes.assign(reinterpret_cast<const char*>(narrow.data()),
                       reinterpret_cast<const char*>(narrow.data() + count));
      }
      INFO("shape rank " << shape.size() << (wide ? ", <f8" : ", <f4"));
      ctnn::io::write_npz(p, {a});
      std::ifstream in(p, std::ios::binary);
      const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // One stored member: a 30-byte local header, its name "a.npy", then the .npy text.
      REQUIRE(file.size() > 35 + expected.size());
      CHECK(file.substr(35, expected.size()) == expected);
      CHECK(std::uint32_t(std::uint8_t(file[18])) + (std::uint32_t(std::uint8_t(file[19])) << 8) +
                (std::uint32_t(std::uint8_t(file[20])) << 16) + (std::uint32_t(std::uint8_t(file[21])) << 24) ==
            expected.size());
      CHECK(expected.size() % 64 == (count * (wide ? 8 : 4)) % 64);  // the header ends on a 64-byte boundary
    }
}

TEST_CASE("npz: write_npz refuses an array whose bytes are not what its shape says", "[io][npz]") {
  temp_dir dir;
  const fs::path p = dir.path / "arrays.npz";
  const ctnn::io::npy_array short_one{"w", "<f4", {1000, 1000}, std::vector<char>(24)};
  CHECK_THROWS_WITH(ctnn::io::write_npz(p, {short_one}),
                    Contains("'w' holds 24 bytes, not what its dtype <f4 and shape [1000, 1000] call for"));
  const ctnn::io::npy_array wrapping{"w", "<f8", {std::size_t{1} << 62, 4}, {}};
  CHECK_THROWS_WITH(ctnn::io::write_npz(p, {wrapping}), Contains("'w' holds 0 bytes, not what"));
  CHECK_FALSE(fs::exists(p));
}

TEST_CASE("npz: stored and deflated members, with and without zip64 fields, are read", "[io][npz]") {
  temp_dir dir;
  const std::string npy = zip::npy(six, {2, 3});
  for (const std::uint16_t method : {0, 8})
    for (const bool zip64 : {false, true}) {
      CAPTURE(method, zip64);
      zip::member a = zip::make_member("a.npy", npy, method), b = zip::make_member("b.npy", npy, method);
      a.zip64 = b.zip64 = zip64;
      const fs::path p = dir.path / "ok.npz";
      write_file(p, zip::archive({a, b}, zip64));
      const auto arrays = ctnn::io::read_npz(p);
      REQUIRE(arrays.size() == 2);
      CHECK(arrays[0].name == "a");
      CHECK(arrays[1].name == "b");
      CHECK(arrays[1].shape == std::vector<std::size_t>{2, 3});
      CHECK(floats(arrays[1]) == six);
    }
}

TEST_CASE("npz: a zip64 locator whose record offset is near 2^64 is refused, not followed", "[io][npz]") {
  temp_dir dir;
  // Before offsets were checked without a sum, offset + 56 wrapped to a small
  // number and the reader looked 16 bytes before the file's buffer.
  for (const std::uint64_t offset : {~std::uint64_t{0} - 15, ~std::uint64_t{0}, std::uint64_t{1} << 63, std::uint64_t{8}}) {
    CAPTURE(offset);
    const std::string bytes = zip::zip64_locator_only(offset);
    REQUIRE(bytes.size() == 42);
    CHECK_THAT(error_reading(dir, bytes), Contains("archive.npz' has a corrupt zip64 end record: it would lie outside"));
  }
  // In range, but no record there.
  std::string bytes = std::string(64, '\0') + zip::zip64_locator_only(0);
  CHECK_THAT(error_reading(dir, bytes), Contains("has a corrupt zip64 end record: no signature at offset 0"));
}

TEST_CASE("npz: a member whose zip64 offset is near 2^64 is refused, not followed", "[io][npz]") {
  temp_dir dir;
  zip::member m = zip::make_member("w.npy", zip::npy(six, {6}));
  m.zip64 = true;
  for (const std::uint64_t offset : {~std::uint64_t{0} - 15, ~std::uint64_t{0} - 29, std::uint64_t{1} << 40}) {
    CAPTURE(offset);
    m.offset = offset;
    CHECK_THAT(error_reading(dir, zip::archive({m})),
               Contains("archive.npz', member 'w.npy': its local header at offset " + std::to_string(offset) +
                        " lies outside the file"));
  }
}

TEST_CASE("npz: sizes and offsets that reach past the end are refused", "[io][npz]") {
  temp_dir dir;
  const std::string npy = zip::npy(six, {6});
  const zip::member good = zip::make_member("w.npy", npy);
  const std::string ok = zip::archive({good});

  SECTION("compressed size past the end, in 32 and 64 bits") {
    for (const std::uint64_t compressed : {std::uint64_t{0xfffffff0u}, ~std::uint64_t{0} - 20}) {
      zip::member m = good;
      m.zip64 = compressed > 0xffffffffu;
      m.stored.resize(0);
      std::string bytes = zip::archive({m});
      // Patch the declared compressed size (central entry, or its zip64 extra).
      const std::size_t central = bytes.find("PK\x01\x02");
      std::string field;
      if (m.zip64) {
        zip::put64(field, compressed);
        bytes.replace(central + 46 + m.name.size() + 4 + 8, 8, field);
      } else {
        zip::put32(field, compressed);
        bytes.replace(central + 20, 4, field);
      }
      CHECK_THAT(error_reading(dir, bytes), Contains("member 'w.npy': truncated: its data would end past the end"));
    }
  }
  SECTION("a local header whose name runs past the end") {
    std::string bytes = ok;
    bytes[26] = char(0xff);  // the first local header's name length
    bytes[27] = char(0xff);
    CHECK_THAT(error_reading(dir, bytes), Contains("member 'w.npy': truncated: its data would end past the end"));
  }
  SECTION("a directory outside the file") {
    std::string bytes = ok;
    bytes[bytes.size() - 3] = char(0xf0);  // the directory's offset, high byte
    CHECK_THAT(error_reading(dir, bytes), Contains("its zip directory lies outside the file"));
  }
  SECTION("more entries than the directory can hold") {
    std::string bytes = ok;
    bytes[bytes.size() - 11] = char(0x40);  // entries in total: 0x4001
    CHECK_THAT(error_reading(dir, bytes),
               Contains("has a corrupt zip directory: 16385 entries cannot fit in its 51 bytes"));
  }
  SECTION("an entry that runs past the directory") {
    std::string bytes = ok;
    const std::size_t central = bytes.find("PK\x01\x02");
    bytes[central + 32] = 100;  // a 100-byte comment the directory does not hold
    CHECK_THAT(error_reading(dir, bytes), Contains("has a corrupt zip directory: entry 1 runs past its end"));
  }
  SECTION("a zip64 extra field too short for the values it stands for") {
    zip::member m = good;
    m.zip64 = true;
    std::string bytes = zip::archive({m});
    const std::size_t central = bytes.find("PK\x01\x02");
    bytes[central + 46 + m.name.size() + 2] = 8;  // holds the size only
    CHECK_THAT(error_reading(dir, bytes), Contains("member 'w.npy': its zip64 extra field is too short"));
  }
}

TEST_CASE("npz: members whose data overlap are refused (a zip bomb's trick)", "[io][npz]") {
  temp_dir dir;
  const zip::member a = zip::make_member("a.npy", zip::npy(six, {6}), 8);
  zip::member b = a;
  b.name = "b.npy";
  b.has_data = false;
  b.offset = 0;  // a's local header and data, counted a second time
  CHECK_THAT(error_reading(dir, zip::archive({a, b})),
             Contains("archive.npz', member 'b.npy': its data overlaps member 'a.npy'"));
}

TEST_CASE("npz: a deflated member claiming more than deflate can produce is refused before inflating",
          "[io][npz]") {
  temp_dir dir;
  zip::member m = zip::make_member("w.npy", zip::npy(six, {6}), 8);
  REQUIRE(m.stored.size() < 100);
  m.size = 100'000'000;  // 1032 times the compressed size is the most deflate yields
  CHECK_THAT(error_reading(dir, zip::archive({m})),
             Contains("member 'w.npy': claims 100000000 bytes, more than its " + std::to_string(m.stored.size()) +
                      " compressed bytes can hold"));
}

TEST_CASE("npz: a deflated member must inflate to exactly what it and its .npy header say", "[io][npz]") {
  temp_dir dir;
  const std::string npy = zip::npy(six, {6});

  SECTION("the claim disagrees with the .npy header") {
    zip::member m = zip::make_member("w.npy", npy, 8);
    m.size = npy.size() + 40;
    CHECK_THAT(error_reading(dir, zip::archive({m})),
               Contains("member 'w.npy': claims " + std::to_string(npy.size() + 40) +
                        " bytes, but its .npy header (<f4, shape [6]) says " + std::to_string(npy.size())));
  }
  SECTION("the stream yields more than the claim") {
    zip::member m = zip::make_member("w.npy", npy + std::string(500, 'x'), 8);
    m.size = npy.size();
    CHECK_THAT(error_reading(dir, zip::archive({m})),
               Contains("member 'w.npy': inflates to more than the " + std::to_string(npy.size()) + " bytes it claims"));
  }
  SECTION("the stream yields less than the claim") {
    const std::string longer = zip::npy(std::vector<float>(64, 1.0f), {64});
    zip::member m = zip::make_member("w.npy", longer.substr(0, longer.size() - 16), 8);
    m.size = longer.size();
    CHECK_THAT(error_reading(dir, zip::archive({m})),
               Contains("member 'w.npy': inflates to " + std::to_string(longer.size() - 16) + " bytes, it claims " +
                        std::to_string(longer.size())));
  }
  SECTION("the stream is cut short") {
    zip::member m = zip::make_member("w.npy", npy, 8);
    m.stored.resize(m.stored.size() / 2);
    CHECK_THAT(error_reading(dir, zip::archive({m})),
               Contains("member 'w.npy': its deflate stream is truncated"));
  }
  SECTION("the stream is garbage") {
    zip::member m = zip::make_member("w.npy", npy, 8);
    m.stored = std::string(m.stored.size(), '\xff');
    CHECK_THAT(error_reading(dir, zip::archive({m})), Contains("member 'w.npy': its deflate stream is corrupt"));
  }
  SECTION("bytes follow the stream") {
    zip::member m = zip::make_member("w.npy", npy, 8);
    m.stored += "tail";
    CHECK_THAT(error_reading(dir, zip::archive({m})),
               Contains("member 'w.npy': 4 bytes follow the end of its deflate stream"));
  }
}

TEST_CASE("npz: .npy headers that lie are refused", "[io][npz]") {
  temp_dir dir;
  const auto read_member = [&](const std::string& npy, std::uint16_t method = 0) {
    return error_reading(dir, zip::archive({zip::make_member("w.npy", npy, method)}));
  };
  const std::string data(24, '\0');

  SECTION("an element count that overflows 64 bits") {
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }";
    CHECK_THAT(read_member(zip::npy_with_header(dict, "")),
               Contains("member 'w.npy': absurd shape [4294967296, 4294967296, 1]"));
    CHECK_THAT(read_member(zip::npy_with_header(dict, ""), 8), Contains("absurd shape"));
  }
  SECTION("a byte count that overflows 64 bits") {
    const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }";
    CHECK_THAT(read_member(zip::npy_with_header(dict, "")), Contains("absurd shape [2305843009213693952]"));
  }
  SECTION("a dimension too large for 64 bits") {
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }";
    CHECK_THAT(read_member(zip::npy_with_header(dict, "")), Contains("malformed shape"));
  }
  SECTION("data that does not match the shape") {
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }";
    CHECK_THAT(read_member(zip::npy_with_header(dict, data)),
               Contains("member 'w.npy': holds 24 data bytes, its header (<f4, shape [7]) says 28"));
  }
  SECTION("a header longer than the member") {
    std::string npy = zip::npy(six, {6});
    npy[8] = char(0xff);
    npy[9] = char(0xff);
    CHECK_THAT(read_member(npy), Contains("member 'w.npy': truncated .npy header"));
    std::string v2 = zip::npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data, 2);
    for (int i = 8; i < 12; ++i) v2[std::size_t(i)] = char(0xff);
    CHECK_THAT(read_member(v2), Contains("member 'w.npy': truncated .npy header"));
    CHECK_THAT(read_member(v2, 8), Contains("member 'w.npy': truncated .npy header"));
  }
  SECTION("a dtype without an item size") {
    const std::string dict = "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }";
    CHECK_THAT(read_member(zip::npy_with_header(dict, data)),
               Contains("member 'w.npy': unsupported dtype '|O'"));
  }
  SECTION("Fortran order") {
    const std::string dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }";
    CHECK_THAT(read_member(zip::npy_with_header(dict, data)), Contains("Fortran-ordered arrays are not supported"));
  }
  SECTION("not a .npy file at all") {
    CHECK_THAT(read_member("hello"), Contains("member 'w.npy': not a .npy array"));
    CHECK_THAT(read_member(""), Contains("member 'w.npy': not a .npy array"));
  }
}
