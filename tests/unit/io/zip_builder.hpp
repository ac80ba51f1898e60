// Builds zip archives byte by byte for the npz tests and the fuzz corpus: the
// fields are written as given, so a test can make any of them lie (a size, an
// offset, a zip64 value near 2^64) and check how the reader takes it.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

namespace ctnn_test::zip {

inline constexpr std::uint32_t local_signature = 0x04034b50;
inline constexpr std::uint32_t central_signature = 0x02014b50;
inline constexpr std::uint32_t end_signature = 0x06054b50;
inline constexpr std::uint32_t zip64_end_signature = 0x06064b50;
inline constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
/// What a 32-bit field holds when its value is in the zip64 extra field.
inline constexpr std::uint32_t in_zip64 = 0xffffffffu;

inline void put16(std::string& s, std::uint64_t v) {
  s += char(v & 0xff);
  s += char((v >> 8) & 0xff);
}
inline void put32(std::string& s, std::uint64_t v) {
  put16(s, v & 0xffff);
  put16(s, (v >> 16) & 0xffff);
}
inline void put64(std::string& s, std::uint64_t v) {
  put32(s, v & 0xffffffffu);
  put32(s, v >> 32);
}

inline std::uint32_t crc_of(const std::string& bytes) {
  return std::uint32_t(crc32_z(0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

/// A raw deflate stream (no zlib or gzip wrapper), as zip members hold them.
inline std::string deflated(const std::string& plain) {
  std::string out(compressBound(uLong(plain.size())) + 64, '\0');
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib cannot start deflating");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = uInt(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib did not finish deflating");
  return out;
}

/// The .npy text of a float array, as xtensor writes it.
inline std::string npy(const std::vector<float>& values, const std::vector<std::size_t>& shape) {
  return xt::dump_npy(xt::adapt(values.data(), values.size(), xt::no_ownership(), shape));
}

/// A .npy text with a header written by hand: `dict` is the header's
/// dictionary, padded with spaces and a newline as NumPy does.
inline std::string npy_with_header(const std::string& dict, const std::string& data, unsigned version = 1) {
  std::string header = dict;
  const std::size_t preamble = version == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string s = "\x93NUMPY";
  s += char(version);
  s += char(0);
  if (version == 1)
    put16(s, header.size());
  else
    put32(s, header.size());
  return s + header + data;
}

/// One member: its bytes as the archive stores them and what its headers say.
struct member {
  std::string name;
  std::string stored;          // deflated when method is 8
  std::uint16_t method = 0;    // 0 stored, 8 deflate
  std::uint32_t crc = 0;
  std::uint64_t size = 0;      // the plain size the headers claim
  bool zip64 = false;          // sizes and offset in the central entry's zip64 extra field
  bool has_data = true;        // false: only a central entry, pointing at `offset`
  std::optional<std::uint64_t> offset;  // the central entry's offset, if not where its data is
};

/// A member that holds `plain` stored (method 0) or deflated (method 8).
inline member make_member(const std::string& name, const std::string& plain, std::uint16_t method = 0) {
  member m;
  m.name = name;
  m.stored = method == 8 ? deflated(plain) : plain;
  m.method = method;
  m.crc = crc_of(plain);
  m.size = plain.size();
  return m;
}

/// The archive: local headers and data, the central directory, then the end
/// record (preceded by the zip64 end record and its locator if `zip64_end`).
inline std::string archive(const std::vector<member>& members, bool zip64_end = false) {
  std::string zip;
  std::vector<std::uint64_t> at;
  for (const member& m : members) {
    at.push_back(zip.size());
    if (!m.has_data) continue;
    put32(zip, local_signature);
    put16(zip, 20);  // version needed
    put16(zip, 0);   // flags
    put16(zip, m.method);
    put32(zip, 0x00210000);  // 1980-01-01 00:00
    put32(zip, m.crc);
    put32(zip, m.zip64 ? in_zip64 : m.stored.size());
    put32(zip, m.zip64 ? in_zip64 : m.size);
    put16(zip, m.name.size());
    put16(zip, 0);  // extra length
    zip += m.name + m.stored;
  }
  const std::uint64_t directory = zip.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    const member& m = members[i];
    const std::uint64_t offset = m.offset.value_or(at[i]);
    std::string extra;
    if (m.zip64) {
      put16(extra, 0x0001);
      put16(extra, 24);
      put64(extra, m.size);
      put64(extra, m.stored.size());
      put64(extra, offset);
    }
    put32(zip, central_signature);
    put16(zip, 45);  // made by
    put16(zip, 45);  // version needed
    put16(zip, 0);
    put16(zip, m.method);
    put32(zip, 0x00210000);
    put32(zip, m.crc);
    put32(zip, m.zip64 ? in_zip64 : m.stored.size());
    put32(zip, m.zip64 ? in_zip64 : m.size);
    put16(zip, m.name.size());
    put16(zip, extra.size());
    put16(zip, 0);  // comment length
    put32(zip, 0);  // disk, internal attributes
    put32(zip, 0);  // external attributes
    put32(zip, m.zip64 ? in_zip64 : offset);
    zip += m.name + extra;
  }
  const std::uint64_t directory_size = zip.size() - directory;
  if (zip64_end) {
    const std::uint64_t record = zip.size();
    put32(zip, zip64_end_signature);
    put64(zip, 44);  // the record's size after this field
    put16(zip, 45);
    put16(zip, 45);
    put32(zip, 0);
    put32(zip, 0);
    put64(zip, members.size());
    put64(zip, members.size());
    put64(zip, directory_size);
    put64(zip, directory);
    put32(zip, zip64_locator_signature);
    put32(zip, 0);
    put64(zip, record);
    put32(zip, 1);
  }
  put32(zip, end_signature);
  put32(zip, 0);
  put16(zip, zip64_end ? 0xffff : members.size());
  put16(zip, zip64_end ? 0xffff : members.size());
  put32(zip, zip64_end ? in_zip64 : directory_size);
  put32(zip, zip64_end ? in_zip64 : directory);
  put16(zip, 0);
  return zip;
}

/// 42 bytes: a zip64 locator whose record offset is `record_offset`, then an
/// end record that defers every field to zip64.
inline std::string zip64_locator_only(std::uint64_t record_offset) {
  std::string zip;
  put32(zip, zip64_locator_signature);
  put32(zip, 0);
  put64(zip, record_offset);
  put32(zip, 1);
  put32(zip, end_signature);
  put32(zip, 0);
  put16(zip, 0xffff);
  put16(zip, 0xffff);
  put32(zip, in_zip64);
  put32(zip, in_zip64);
  put16(zip, 0);
  return zip;
}

}  // namespace ctnn_test::zip
