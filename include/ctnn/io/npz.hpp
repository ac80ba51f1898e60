/// @file npz.hpp
/// NumPy's .npz archives: a zip file holding one .npy file per array, as
/// `numpy.savez` (stored) and `numpy.savez_compressed` (deflate) write them.
///
/// xtensor 0.24 reads and writes single .npy files (<xtensor/xnpy.hpp>) but
/// has no .npz support; this header adds the zip container: each member is
/// the .npy text xtensor's `xt::dump_npy` produces, written uncompressed
/// (method 0, as `numpy.savez`); members are read stored or deflated (zlib),
/// with zip64 sizes and offsets understood, and every CRC checked.
///
/// Every malformed input is a ctnn::io::data_error naming the file (and the
/// member): missing, not a zip archive, truncated, a bad CRC, an unsupported
/// compression method, a .npy header that cannot be parsed.
#pragma once

#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "ctnn/io/idx.hpp"  // data_error

namespace ctnn::io {

/// One array of an archive: its name (the member name without ".npy"), its
/// NumPy dtype string ("<f4", "<f8", ...), its shape and its raw bytes in C
/// order (little-endian as stored).
struct npy_array {
  std::string name;
  std::string dtype;
  std::vector<std::size_t> shape;
  std::vector<char> bytes;

  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

/// The NumPy dtype string of float or double ("<f4", "<f8").
template <class T>
std::string npy_dtype() {
  return xt::detail::build_typestring<T>();
}

namespace detail {

inline void put16(std::string& s, std::uint32_t v) {
  s += char(v & 0xff);
  s += char((v >> 8) & 0xff);
}
inline void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}
inline std::uint32_t le16(const unsigned char* p) { return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8; }
inline std::uint32_t le32(const unsigned char* p) { return le16(p) | le16(p + 2) << 16; }
inline std::uint64_t le64(const unsigned char* p) { return std::uint64_t(le32(p)) | std::uint64_t(le32(p + 4)) << 32; }

inline std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Parses a .npy file (format 1.0, 2.0 or 3.0) held in memory.
inline npy_array parse_npy(const std::filesystem::path& file, const std::string& member, const char* p,
                           std::size_t n) {
  const auto bad = [&](const std::string& why) -> data_error {
    return data_error("ctnn::io: '" + file.string() + "', member '" + member + "': " + why);
  };
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if (n < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) throw bad("not a .npy array (no \\x93NUMPY magic)");
  const unsigned major = u[6];
  if (major < 1 || major > 3) throw bad("unsupported .npy format version " + std::to_string(major));
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  const std::size_t header_len = major == 1 ? le16(u + 8) : (n >= 12 ? le32(u + 8) : n);
  const std::size_t start = 8 + len_bytes;
  if (start + header_len > n) throw bad("truncated .npy header");
  const std::string_view h(p + start, header_len);

  // {'descr': '<f4', 'fortran_order': False, 'shape': (784, 256), }
  const auto value_of = [&](std::string_view key) -> std::string_view {
    const std::string quoted = "'" + std::string(key) + "'";
    auto k = h.find(quoted);
    if (k == h.npos) throw bad("the .npy header has no " + quoted + ": " + std::string(h));
    k = h.find(':', k + quoted.size());
    if (k == h.npos) throw bad("malformed .npy header: " + std::string(h));
    std::size_t b = h.find_first_not_of(' ', k + 1);
    if (b == h.npos) throw bad("malformed .npy header: " + std::string(h));
    std::size_t e;
    if (h[b] == '\'') {
      e = h.find('\'', b + 1);
      if (e == h.npos) throw bad("malformed .npy header: " + std::string(h));
      return h.substr(b + 1, e - b - 1);
    }
    if (h[b] == '(') {
      e = h.find(')', b);
      if (e == h.npos) throw bad("malformed .npy header: " + std::string(h));
      return h.substr(b + 1, e - b - 1);
    }
    e = h.find_first_of(",}", b);
    return h.substr(b, e == h.npos ? h.npos : e - b);
  };
  npy_array a;
  a.dtype = std::string(value_of("descr"));
  if (value_of("fortran_order") != "False") throw bad("Fortran-ordered arrays are not supported");
  std::string_view dims = value_of("shape");
  while (!dims.empty()) {
    const std::size_t b = dims.find_first_not_of(" ,");
    if (b == dims.npos) break;
    dims.remove_prefix(b);
    std::size_t v = 0;
    const auto [end, ec] = std::from_chars(dims.data(), dims.data() + dims.size(), v);
    if (ec != std::errc{}) throw bad("malformed shape in the .npy header: " + std::string(h));
    a.shape.push_back(v);
    dims.remove_prefix(std::size_t(end - dims.data()));
  }
  std::size_t word = 0;
  if (a.dtype.size() >= 3 && (a.dtype[0] == '<' || a.dtype[0] == '|' || a.dtype[0] == '='))
    std::from_chars(a.dtype.data() + 2, a.dtype.data() + a.dtype.size(), word);
  const std::size_t data = start + header_len;
  if (word != 0) {
    const std::size_t bytes = a.size() * word;
    if (a.size() != 0 && bytes / a.size() != word) throw bad("absurd shape " + shape_text(a.shape));
    if (n - data != bytes)
      throw bad("holds " + std::to_string(n - data) + " data bytes, its header (" + a.dtype + ", shape " +
                shape_text(a.shape) + ") says " + std::to_string(bytes));
  }
  a.bytes.assign(p + data, p + n);
  return a;
}

struct zip_member {
  std::string name;
  std::uint32_t method = 0, crc = 0;
  std::uint64_t compressed = 0, size = 0, offset = 0;
};

}  // namespace detail

/// Writes the arrays as an .npz file (zip, stored) at `path`, replacing it:
/// the archive goes to a temporary file next to it, which is renamed over
/// `path` only when it is complete and flushed, so a crash never leaves a
/// half-written file under that name. Throws data_error naming the file.
inline void write_npz(const std::filesystem::path& path, const std::vector<npy_array>& arrays) {
  std::string zip, central;
  std::uint32_t count = 0;
  for (const npy_array& a : arrays) {
    if (a.dtype.size() < 3) throw data_error("ctnn::io: '" + path.string() + "': bad dtype for '" + a.name + "'");
    // The .npy text as xtensor writes it: its header, then the bytes.
    std::string npy;
    if (a.dtype == npy_dtype<float>())
      npy = xt::dump_npy(xt::adapt(reinterpret_cast<const float*>(a.bytes.data()), a.size(), xt::no_ownership(),
                                   a.shape));
    else if (a.dtype == npy_dtype<double>())
      npy = xt::dump_npy(xt::adapt(reinterpret_cast<const double*>(a.bytes.data()), a.size(), xt::no_ownership(),
                                   a.shape));
    else
      throw data_error("ctnn::io: '" + path.string() + "': '" + a.name + "' has dtype " + a.dtype +
                       ", only <f4 and <f8 are written");
    const std::string name = a.name + ".npy";
    const std::uint32_t crc = std::uint32_t(
        crc32(0L, reinterpret_cast<const Bytef*>(npy.data()), static_cast<uInt>(npy.size())));
    if (npy.size() >= 0xffffffffu || zip.size() >= 0xffffffffu || name.size() > 0xffff)
      throw data_error("ctnn::io: '" + path.string() + "': archives over 4 GiB are not written");
    const auto offset = std::uint32_t(zip.size());
    // What the local header and the central directory entry both say:
    // version 2.0 needed, no flags, stored, 1980-01-01 00:00, CRC, sizes,
    // name length.
    const auto common = [&](std::string& out) {
      detail::put16(out, 20);
      detail::put16(out, 0);
      detail::put16(out, 0);
      detail::put16(out, 0);
      detail::put16(out, 0x21);
      detail::put32(out, crc);
      detail::put32(out, std::uint32_t(npy.size()));
      detail::put32(out, std::uint32_t(npy.size()));
      detail::put16(out, std::uint32_t(name.size()));
    };
    // Local file header.
    detail::put32(zip, 0x04034b50);
    common(zip);
    detail::put16(zip, 0);  // extra length
    zip += name;
    zip += npy;
    // Its central directory entry (made by version 2.0).
    detail::put32(central, 0x02014b50);
    detail::put16(central, 20);
    common(central);
    detail::put32(central, 0);  // extra and comment lengths
    detail::put32(central, 0);  // disk number, internal attributes
    detail::put32(central, 0);  // external attributes
    detail::put32(central, offset);
    central += name;
    ++count;
  }
  if (count > 0xffff || zip.size() + central.size() >= 0xffffffffu)
    throw data_error("ctnn::io: '" + path.string() + "': too many arrays for a zip archive without zip64");
  const auto central_offset = std::uint32_t(zip.size());
  zip += central;
  detail::put32(zip, 0x06054b50);
  detail::put32(zip, 0);  // this disk, the disk with the directory
  detail::put16(zip, count);
  detail::put16(zip, count);
  detail::put32(zip, std::uint32_t(central.size()));
  detail::put32(zip, central_offset);
  detail::put16(zip, 0);

  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr)
      throw data_error("ctnn::io: cannot write '" + tmp.string() + "': " + std::strerror(errno));
    // Flushed to the disk before the rename: the new name never points at data still in flight.
    const bool written = std::fwrite(zip.data(), 1, zip.size(), f) == zip.size() && std::fflush(f) == 0 &&
                         ::fsync(::fileno(f)) == 0;
    const int err = errno;
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw data_error("ctnn::io: cannot write '" + tmp.string() + "': " + std::strerror(err));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw data_error("ctnn::io: cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

/// Reads every array of an .npz file. Throws data_error naming the file (and
/// the member) if it is missing, not a zip archive, truncated or corrupt.
inline std::vector<npy_array> read_npz(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data_error("ctnn::io: cannot open '" + path.string() + "': " + std::strerror(errno));
  const std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw data_error("ctnn::io: cannot read '" + path.string() + "'");
  const auto* u = reinterpret_cast<const unsigned char*>(file.data());
  const std::size_t n = file.size();
  const auto fail = [&](const std::string& why) -> data_error {
    return data_error("ctnn::io: '" + path.string() + "' " + why);
  };

  // The end of central directory record: the last signature within its
  // largest possible distance from the end (22 bytes + a 64 KiB comment).
  std::size_t eocd = n;
  for (std::size_t k = n >= 22 ? n - 22 + 1 : 0; k-- > 0 && n - k <= 22 + 0xffff;)
    if (detail::le32(u + k) == 0x06054b50) {
      eocd = k;
      break;
    }
  if (eocd == n) {
    if (n >= 4 && detail::le32(u) == 0x04034b50) throw fail("is truncated: a zip archive without its directory");
    throw fail("is not an .npz file (not a zip archive)");
  }
  std::uint64_t entries = detail::le16(u + eocd + 10);
  std::uint64_t dir_size = detail::le32(u + eocd + 12);
  std::uint64_t dir_offset = detail::le32(u + eocd + 16);
  if ((entries == 0xffff || dir_size == 0xffffffffu || dir_offset == 0xffffffffu) && eocd >= 20 &&
      detail::le32(u + eocd - 20) == 0x07064b50) {
    const std::uint64_t z = detail::le64(u + eocd - 20 + 8);
    if (z + 56 > n || detail::le32(u + z) != 0x06064b50) throw fail("has a corrupt zip64 directory record");
    entries = detail::le64(u + z + 32);
    dir_size = detail::le64(u + z + 40);
    dir_offset = detail::le64(u + z + 48);
  }
  if (dir_offset > n || dir_size > n - dir_offset) throw fail("is truncated or corrupt: its zip directory lies outside the file");

  std::vector<detail::zip_member> members;
  std::uint64_t k = dir_offset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (k + 46 > n || detail::le32(u + k) != 0x02014b50) throw fail("has a corrupt zip directory");
    detail::zip_member m;
    m.method = detail::le16(u + k + 10);
    m.crc = detail::le32(u + k + 16);
    m.compressed = detail::le32(u + k + 20);
    m.size = detail::le32(u + k + 24);
    const std::size_t name_len = detail::le16(u + k + 28), extra_len = detail::le16(u + k + 30),
                      comment_len = detail::le16(u + k + 32);
    m.offset = detail::le32(u + k + 42);
    if (k + 46 + name_len + extra_len + comment_len > n) throw fail("has a corrupt zip directory");
    m.name.assign(file.data() + k + 46, name_len);
    // zip64: the fields stored as 0xffffffff follow in the extra field 0x0001.
    for (std::size_t x = k + 46 + name_len, end = x + extra_len; x + 4 <= end;) {
      const std::size_t id = detail::le16(u + x), len = detail::le16(u + x + 2);
      if (x + 4 + len > end) break;
      if (id == 0x0001) {
        std::size_t f = x + 4;
        const auto take = [&](std::uint64_t& v) {
          if (v == 0xffffffffu && f + 8 <= x + 4 + len) {
            v = detail::le64(u + f);
            f += 8;
          }
        };
        take(m.size);
        take(m.compressed);
        take(m.offset);
      }
      x += 4 + len;
    }
    members.push_back(m);
    k += 46 + name_len + extra_len + comment_len;
  }

  std::vector<npy_array> arrays;
  for (const detail::zip_member& m : members) {
    const auto bad = [&](const std::string& why) -> data_error {
      return data_error("ctnn::io: '" + path.string() + "', member '" + m.name + "': " + why);
    };
    if (m.offset + 30 > n || detail::le32(u + m.offset) != 0x04034b50) throw bad("corrupt local header");
    const std::uint64_t data = m.offset + 30 + detail::le16(u + m.offset + 26) + detail::le16(u + m.offset + 28);
    if (data > n || m.compressed > n - data) throw bad("truncated: the archive ends inside it");
    std::vector<char> raw;
    if (m.method == 0) {
      if (m.compressed != m.size) throw bad("stored with different compressed and plain sizes");
      raw.assign(file.data() + data, file.data() + data + m.size);
    } else if (m.method == 8) {
      if (m.size > (std::uint64_t(1) << 34)) throw bad("absurd size " + std::to_string(m.size));
      raw.resize(m.size);
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw bad("zlib cannot start inflating");
      z.next_in = const_cast<Bytef*>(u + data);
      z.next_out = reinterpret_cast<Bytef*>(raw.data());
      std::uint64_t in_left = m.compressed, out_left = m.size;
      int rc = Z_OK;
      while (rc == Z_OK) {
        const uInt ci = uInt(std::min<std::uint64_t>(in_left, 1u << 30)), co = uInt(std::min<std::uint64_t>(out_left, 1u << 30));
        z.avail_in = ci;
        z.avail_out = co;
        rc = inflate(&z, Z_NO_FLUSH);
        in_left -= ci - z.avail_in;
        out_left -= co - z.avail_out;
        if (rc == Z_OK && z.avail_in == ci && z.avail_out == co) break;  // no progress
      }
      inflateEnd(&z);
      if (rc != Z_STREAM_END || out_left != 0) throw bad("corrupt deflate stream");
    } else {
      throw bad("unsupported zip compression method " + std::to_string(m.method) + " (stored and deflate are read)");
    }
    const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size())));
    if (crc != m.crc) throw bad("CRC mismatch: the archive is corrupt");
    npy_array a = detail::parse_npy(path, m.name, raw.data(), raw.size());
    a.name = m.name.size() > 4 && m.name.ends_with(".npy") ? m.name.substr(0, m.name.size() - 4) : m.name;
    arrays.push_back(std::move(a));
  }
  return arrays;
}

}  // namespace ctnn::io
