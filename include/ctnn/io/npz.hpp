/// @file npz.hpp
/// NumPy's .npz archives: a zip file holding one .npy file per array, as
/// `numpy.savez` (stored) and `numpy.savez_compressed` (deflate) write them.
///
/// Each member is a .npy file (format 1.0, or 2.0 for headers over 64 KiB),
/// byte for byte what xtensor 0.24's `xt::dump_npy` and NumPy write: the
/// header dictionary `{'descr': '<f4', 'fortran_order': False, 'shape': (2,
/// 3), }` padded with spaces and a newline to a multiple of 64 bytes, then
/// the elements in C order. Members are written uncompressed (method 0, as
/// `numpy.savez`) and read stored or deflated (zlib), with zip64 sizes and
/// offsets understood, and every CRC checked. Neither direction needs
/// xtensor.
///
/// Every malformed input is a ctnn::io::data_error naming the file (and the
/// member): missing, not a zip archive, truncated, a bad CRC, an unsupported
/// compression method, a .npy header that cannot be parsed. The archive is
/// untrusted input (`ctnn_train --init-from` reads any file it is given):
/// every offset and size is checked in a form that cannot wrap, members may
/// not share bytes, and a deflated member is inflated into a buffer that grows
/// with its output, its claimed size bounded by deflate's ratio and checked
/// against its .npy header, so a small file cannot make the reader allocate
/// what it does not hold.
#pragma once

#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "ctnn/io/data_error.hpp"

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

/// The NumPy dtype string of float, double or std::uint64_t ("<f4", "<f8",
/// "<u8" on a little-endian machine), as NumPy and xtensor spell it. Tensors
/// are float or double; std::uint64_t holds counters (a trainer's step count).
template <class T>
std::string npy_dtype() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::uint64_t>,
                "ctnn::io::npy_dtype: only float, double and std::uint64_t are stored");
  return std::string(1, std::endian::native == std::endian::little ? '<' : '>') +
         (std::is_same_v<T, std::uint64_t> ? 'u' : 'f') + std::to_string(sizeof(T));
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

/// Whether the `length` bytes at `offset` lie within `size` bytes. Written
/// without a sum: the offsets and sizes a corrupt archive holds can be near
/// 2^64, where `offset + length` wraps to a small number.
constexpr bool in_bounds(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

/// Builds the data_error of an archive, or of one of its members.
struct npz_error {
  const std::filesystem::path& file;
  std::string member;  // empty: the archive as a whole

  data_error operator()(const std::string& why) const {
    if (member.empty()) return data_error("ctnn::io: '" + file.string() + "' " + why);
    return data_error("ctnn::io: '" + file.string() + "', member '" + member + "': " + why);
  }
};

/// What a .npy header says about the array after it.
struct npy_header {
  std::string dtype;
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  // the header's own size: the array's bytes follow
  std::size_t data_bytes = 0;   // elements times the item size
};

/// The size of a .npy header (magic, version, length, dictionary) from the
/// first `n` bytes of the file, which must be 12 or the whole file.
inline std::uint64_t npy_header_size(const unsigned char* u, std::size_t n, const npz_error& bad) {
  if (n < 10 || std::memcmp(u, "\x93NUMPY", 6) != 0) throw bad("not a .npy array (no \\x93NUMPY magic)");
  const unsigned major = u[6];
  if (major < 1 || major > 3) throw bad("unsupported .npy format version " + std::to_string(major));
  if (major == 1) return 10 + std::uint64_t(le16(u + 8));
  if (n < 12) throw bad("truncated .npy header");
  return 12 + std::uint64_t(le32(u + 8));
}

/// The bytes of one item of a NumPy dtype string such as "<f4", "|u1" or
/// "<U8" (8 UCS-4 characters); 0 if it is not a simple type of fixed size.
inline std::size_t npy_item_size(std::string_view dtype) {
  if (dtype.size() < 3 || std::string_view("<>|=").find(dtype[0]) == std::string_view::npos ||
      std::string_view("biufcSaUVMm").find(dtype[1]) == std::string_view::npos)
    return 0;
  std::size_t count = 0;
  const char* first = dtype.data() + 2;
  const char* last = dtype.data() + dtype.size();
  const auto [end, ec] = std::from_chars(first, last, count);
  // Dates and durations carry a unit: "<M8[ns]".
  const std::string_view rest(end, std::size_t(last - end));
  if (ec != std::errc{} || !(rest.empty() || ((dtype[1] == 'M' || dtype[1] == 'm') && rest.front() == '[' &&
                                              rest.back() == ']')))
    return 0;
  if (dtype[1] == 'U') return count > SIZE_MAX / 4 ? 0 : 4 * count;
  return count;
}

/// Parses the header of a .npy file whose first `n` bytes are at `p`; they
/// must hold the whole header. Every size is checked against overflow.
inline npy_header parse_npy_header(const char* p, std::size_t n, const npz_error& bad) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  const std::uint64_t size = npy_header_size(u, n, bad);
  if (size > n) throw bad("truncated .npy header");
  const std::size_t start = u[6] == 1 ? 10 : 12;
  const std::string_view h(p + start, std::size_t(size) - start);
  // The header as quoted in messages: a corrupt one can be megabytes long.
  const auto shown = [&] { return h.size() <= 200 ? std::string(h) : std::string(h.substr(0, 200)) + "..."; };

  // {'descr': '<f4', 'fortran_order': False, 'shape': (784, 256), }
  const auto value_of = [&](std::string_view key) -> std::string_view {
    std::string quoted(1, '\'');
    quoted.append(key).push_back('\'');
    auto k = h.find(quoted);
    if (k == h.npos) throw bad("the .npy header has no " + quoted + ": " + shown());
    k = h.find(':', k + quoted.size());
    if (k == h.npos) throw bad("malformed .npy header: " + shown());
    std::size_t b = h.find_first_not_of(' ', k + 1);
    if (b == h.npos) throw bad("malformed .npy header: " + shown());
    std::size_t e;
    if (h[b] == '\'') {
      e = h.find('\'', b + 1);
      if (e == h.npos) throw bad("malformed .npy header: " + shown());
      return h.substr(b + 1, e - b - 1);
    }
    if (h[b] == '(') {
      e = h.find(')', b);
      if (e == h.npos) throw bad("malformed .npy header: " + shown());
      return h.substr(b + 1, e - b - 1);
    }
    e = h.find_first_of(",}", b);
    return h.substr(b, e == h.npos ? h.npos : e - b);
  };
  npy_header a;
  a.dtype = std::string(value_of("descr"));
  if (value_of("fortran_order") != "False") throw bad("Fortran-ordered arrays are not supported");
  std::string_view dims = value_of("shape");
  while (!dims.empty()) {
    const std::size_t b = dims.find_first_not_of(" ,");
    if (b == dims.npos) break;
    dims.remove_prefix(b);
    std::size_t v = 0;
    const auto [end, ec] = std::from_chars(dims.data(), dims.data() + dims.size(), v);
    if (ec != std::errc{}) throw bad("malformed shape in the .npy header: " + shown());
    a.shape.push_back(v);
    dims.remove_prefix(std::size_t(end - dims.data()));
  }
  const std::size_t item = npy_item_size(a.dtype);
  if (item == 0) throw bad("unsupported dtype '" + a.dtype + "' (types of a fixed size such as <f4 are read)");
  // The element count and the byte count, refusing any product that wraps.
  std::size_t count = 1;
  for (std::size_t d : a.shape) {
    if (d != 0 && count > SIZE_MAX / d) throw bad("absurd shape " + shape_text(a.shape));
    count *= d;
  }
  if (count > SIZE_MAX / item) throw bad("absurd shape " + shape_text(a.shape));
  a.data_offset = std::size_t(size);
  a.data_bytes = count * item;
  return a;
}

/// Parses a whole .npy file held in memory: its header and exactly the bytes
/// the header's dtype and shape call for.
inline npy_array parse_npy(const char* p, std::size_t n, const npz_error& bad) {
  npy_header h = parse_npy_header(p, n, bad);
  if (n - h.data_offset != h.data_bytes)
    throw bad("holds " + std::to_string(n - h.data_offset) + " data bytes, its header (" + h.dtype + ", shape " +
              shape_text(h.shape) + ") says " + std::to_string(h.data_bytes));
  return {"", std::move(h.dtype), std::move(h.shape), std::vector<char>(p + h.data_offset, p + n)};
}

/// The header of a .npy file holding a C-ordered array of `dtype` and
/// `shape`, the bytes `xt::dump_npy` and `numpy.save` write before the data:
/// magic, version, header length (little-endian), then the dictionary padded
/// with spaces and ended by a newline so that the data starts at a multiple
/// of 64 bytes. Version 2.0 (a 4-byte length) once the header reaches 255*255
/// bytes, as xtensor decides it.
inline std::string npy_header_text(const std::string& dtype, const std::vector<std::size_t>& shape) {
  // A tuple as Python prints it: (), (5,), (2, 3).
  std::string dims = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  dims += shape.size() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + dims + ", }";
  std::size_t length_bytes = 2;
  std::size_t prefix = 6 + 2 + length_bytes + dict.size() + 1;  // magic, version, length, dict, newline
  if (prefix >= 255 * 255) {
    length_bytes = 4;
    prefix = 6 + 2 + length_bytes + dict.size() + 1;
  }
  dict.append(64 - prefix % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += char(length_bytes == 2 ? 1 : 2);
  out += char(0);
  if (length_bytes == 2) put16(out, std::uint32_t(dict.size()));
  else put32(out, std::uint32_t(dict.size()));
  return out + dict;
}

struct zip_member {
  std::string name;
  std::uint32_t method = 0, crc = 0;
  std::uint64_t compressed = 0, size = 0, offset = 0;
  std::uint64_t data = 0;  // where its (compressed) bytes start, after the local header
};

/// The most deflate can expand: a 258-byte match coded in 2 bits.
inline constexpr std::uint64_t deflate_max_ratio = 1032;
/// The first output buffer of a deflated member; it doubles from there.
inline constexpr std::size_t inflate_first_chunk = std::size_t{1} << 16;

/// Inflates a member's raw deflate stream into exactly the `m.size` bytes it
/// claims, growing the buffer as output arrives: a claim that overstates what
/// the stream holds never turns into an allocation. As soon as the .npy
/// header is out, the claim is checked against what its dtype and shape need.
inline std::vector<char> inflate_member(const unsigned char* in, const zip_member& m, const npz_error& bad) {
  if (m.size / deflate_max_ratio + (m.size % deflate_max_ratio != 0) > m.compressed)
    throw bad("claims " + std::to_string(m.size) + " bytes, more than its " + std::to_string(m.compressed) +
              " compressed bytes can hold (deflate expands at most " + std::to_string(deflate_max_ratio) + " times)");
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw bad("zlib cannot start inflating");
  struct ender {
    z_stream& z;
    ~ender() { inflateEnd(&z); }
  } end_at_exit{z};

  // One byte beyond the claim: room to see that the stream holds more.
  const std::uint64_t room = m.size + 1;
  std::vector<char> out;
  std::uint64_t in_left = m.compressed, produced = 0;
  bool header_checked = false;
  for (int rc = Z_OK; rc != Z_STREAM_END;) {
    if (produced == out.size()) {
      if (out.size() == room) throw bad("inflates to more than the " + std::to_string(m.size) + " bytes it claims");
      out.resize(std::size_t(std::min<std::uint64_t>(room, std::max(2 * out.size(), inflate_first_chunk))));
    }
    const auto in_chunk = uInt(std::min<std::uint64_t>(in_left, 1u << 30));
    const auto out_chunk = uInt(std::min<std::uint64_t>(out.size() - produced, 1u << 30));
    z.next_in = const_cast<Bytef*>(in + (m.compressed - in_left));
    z.avail_in = in_chunk;
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = out_chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    in_left -= in_chunk - z.avail_in;
    produced += out_chunk - z.avail_out;
    if (rc == Z_BUF_ERROR && in_left == 0) throw bad("its deflate stream is truncated");
    if (rc != Z_OK && rc != Z_STREAM_END)
      throw bad(std::string("its deflate stream is corrupt") + (z.msg != nullptr ? std::string(" (") + z.msg + ")" : ""));
    const auto* o = reinterpret_cast<const unsigned char*>(out.data());
    if (!header_checked && (produced >= 12 || rc == Z_STREAM_END)) {
      const std::uint64_t header = npy_header_size(o, std::size_t(produced), bad);
      if (header > m.size)
        throw bad("truncated .npy header (" + std::to_string(header) + " bytes, the member claims " +
                  std::to_string(m.size) + ")");
      if (header <= produced) {
        const npy_header h = parse_npy_header(out.data(), std::size_t(produced), bad);
        if (h.data_bytes != m.size - h.data_offset)
          throw bad("claims " + std::to_string(m.size) + " bytes, but its .npy header (" + h.dtype + ", shape " +
                    shape_text(h.shape) + ") says " +
                    (h.data_bytes > SIZE_MAX - h.data_offset ? std::string("more than 2^64")
                                                             : std::to_string(h.data_offset + h.data_bytes)));
        header_checked = true;
      }
    }
  }
  if (produced > m.size) throw bad("inflates to more than the " + std::to_string(m.size) + " bytes it claims");
  if (produced != m.size)
    throw bad("inflates to " + std::to_string(produced) + " bytes, it claims " + std::to_string(m.size));
  if (in_left != 0) throw bad(std::to_string(in_left) + " bytes follow the end of its deflate stream");
  out.resize(std::size_t(produced));
  return out;
}

/// Reads every array of an .npz archive held in memory; `file` names it in errors.
inline std::vector<npy_array> parse_npz(const char* bytes, std::size_t n, const std::filesystem::path& file) {
  const auto* u = reinterpret_cast<const unsigned char*>(bytes);
  const npz_error fail{file, ""};

  // The end of central directory record: the last signature within its
  // largest possible distance from the end (22 bytes + a 64 KiB comment).
  std::size_t eocd = n;
  for (std::size_t k = n >= 22 ? n - 22 + 1 : 0; k-- > 0 && n - k <= 22 + 0xffff;)
    if (le32(u + k) == 0x06054b50) {
      eocd = k;
      break;
    }
  if (eocd == n) {
    if (n >= 4 && le32(u) == 0x04034b50) throw fail("is truncated: a zip archive without its directory");
    throw fail("is not an .npz file (not a zip archive)");
  }
  std::uint64_t entries = le16(u + eocd + 10);
  std::uint64_t dir_size = le32(u + eocd + 12);
  std::uint64_t dir_offset = le32(u + eocd + 16);
  // zip64: the fields stored as all ones are in the zip64 end record, which
  // the locator (the 20 bytes before the end record) points at.
  if ((entries == 0xffff || dir_size == 0xffffffffu || dir_offset == 0xffffffffu) && eocd >= 20 &&
      le32(u + eocd - 20) == 0x07064b50) {
    const std::uint64_t z = le64(u + eocd - 20 + 8);
    if (!in_bounds(z, 56, eocd - 20))
      throw fail("has a corrupt zip64 end record: it would lie outside the file (offset " + std::to_string(z) + ")");
    if (le32(u + z) != 0x06064b50)
      throw fail("has a corrupt zip64 end record: no signature at offset " + std::to_string(z));
    entries = le64(u + z + 32);
    dir_size = le64(u + z + 40);
    dir_offset = le64(u + z + 48);
  }
  if (!in_bounds(dir_offset, dir_size, n)) throw fail("is truncated or corrupt: its zip directory lies outside the file");
  // Each entry takes 46 bytes at least: this bounds the walk before it starts.
  if (entries > dir_size / 46)
    throw fail("has a corrupt zip directory: " + std::to_string(entries) + " entries cannot fit in its " +
               std::to_string(dir_size) + " bytes");

  const std::uint64_t dir_end = dir_offset + dir_size;
  std::vector<zip_member> members;
  std::uint64_t k = dir_offset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    const std::string entry = "entry " + std::to_string(e + 1);
    if (!in_bounds(k, 46, dir_end)) throw fail("has a corrupt zip directory: " + entry + " runs past its end");
    if (le32(u + k) != 0x02014b50) throw fail("has a corrupt zip directory: " + entry + " has no signature");
    zip_member m;
    m.method = le16(u + k + 10);
    m.crc = le32(u + k + 16);
    m.compressed = le32(u + k + 20);
    m.size = le32(u + k + 24);
    const std::uint64_t name_len = le16(u + k + 28), extra_len = le16(u + k + 30), comment_len = le16(u + k + 32);
    m.offset = le32(u + k + 42);
    if (!in_bounds(k + 46, name_len + extra_len + comment_len, dir_end))
      throw fail("has a corrupt zip directory: " + entry + " runs past its end");
    m.name.assign(bytes + k + 46, name_len);
    const npz_error bad{file, m.name};
    // zip64: the fields stored as 0xffffffff follow, in this order, in the
    // extra field 0x0001.
    const std::uint64_t extra_end = k + 46 + name_len + extra_len;
    for (std::uint64_t x = k + 46 + name_len; in_bounds(x, 4, extra_end);) {
      const std::uint64_t id = le16(u + x), len = le16(u + x + 2);
      if (!in_bounds(x + 4, len, extra_end)) break;
      if (id == 0x0001) {
        std::uint64_t f = x + 4;
        const std::uint64_t field_end = x + 4 + len;
        for (std::uint64_t* v : {&m.size, &m.compressed, &m.offset})
          if (*v == 0xffffffffu) {
            if (!in_bounds(f, 8, field_end)) throw bad("its zip64 extra field is too short");
            *v = le64(u + f);
            f += 8;
          }
      }
      x += 4 + len;
    }
    members.push_back(std::move(m));
    k += 46 + name_len + extra_len + comment_len;
  }

  // Where each member's header and data lie: inside the file, and apart from
  // one another (members sharing data are how quadratic zip bombs inflate
  // small files to terabytes).
  for (zip_member& m : members) {
    const npz_error bad{file, m.name};
    if (!in_bounds(m.offset, 30, n))
      throw bad("its local header at offset " + std::to_string(m.offset) + " lies outside the file");
    if (le32(u + m.offset) != 0x04034b50) throw bad("corrupt local header (no signature at offset " + std::to_string(m.offset) + ")");
    const std::uint64_t variable = std::uint64_t(le16(u + m.offset + 26)) + le16(u + m.offset + 28);
    if (!in_bounds(m.offset + 30, variable, n) || !in_bounds(m.offset + 30 + variable, m.compressed, n))
      throw bad("truncated: its data would end past the end of the file");
    m.data = m.offset + 30 + variable;
  }
  std::vector<const zip_member*> by_offset;
  for (const zip_member& m : members) by_offset.push_back(&m);
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const zip_member* a, const zip_member* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->offset < by_offset[i - 1]->data + by_offset[i - 1]->compressed)
      throw npz_error{file, by_offset[i]->name}("its data overlaps member '" + by_offset[i - 1]->name + "'");

  std::vector<npy_array> arrays;
  for (const zip_member& m : members) {
    const npz_error bad{file, m.name};
    npy_array a;
    if (m.method == 0) {
      if (m.compressed != m.size) throw bad("stored with different compressed and plain sizes");
      const char* p = bytes + m.data;
      if (std::uint32_t(crc32_z(0L, reinterpret_cast<const Bytef*>(p), std::size_t(m.size))) != m.crc)
        throw bad("CRC mismatch: the archive is corrupt");
      a = parse_npy(p, std::size_t(m.size), bad);
    } else if (m.method == 8) {
      std::vector<char> raw = inflate_member(u + m.data, m, bad);
      if (std::uint32_t(crc32_z(0L, reinterpret_cast<const Bytef*>(raw.data()), raw.size())) != m.crc)
        throw bad("CRC mismatch: the archive is corrupt");
      npy_header h = parse_npy_header(raw.data(), raw.size(), bad);
      // The bytes move rather than copy: a large member is held once.
      raw.erase(raw.begin(), raw.begin() + std::ptrdiff_t(h.data_offset));
      a = {"", std::move(h.dtype), std::move(h.shape), std::move(raw)};
    } else {
      throw bad("unsupported zip compression method " + std::to_string(m.method) + " (stored and deflate are read)");
    }
    a.name = m.name.size() > 4 && m.name.ends_with(".npy") ? m.name.substr(0, m.name.size() - 4) : m.name;
    arrays.push_back(std::move(a));
  }
  return arrays;
}

}  // namespace detail

namespace detail {

/// Writes `bytes` to a new file at `tmp` and flushes it to the disk. Whatever
/// a killed save left at that name is removed first, not written through: it
/// may be read-only, or a link to some other file.
inline void write_new_file(const std::filesystem::path& tmp, const std::string& bytes) {
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);  // if this fails, the exclusive open below says why
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) throw data_error("ctnn::io: cannot write '" + tmp.string() + "': " + std::strerror(errno));
  int err = 0;
  for (std::size_t done = 0; done < bytes.size() && err == 0;) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n >= 0)
      done += std::size_t(n);
    else if (errno != EINTR)
      err = errno;
  }
  // Flushed before the rename: the final name never points at data still in flight.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    std::filesystem::remove(tmp, ignored);
    throw data_error("ctnn::io: cannot write '" + tmp.string() + "': " + std::strerror(err));
  }
}

/// Flushes the directory holding `file`, so that a rename into it survives a
/// power cut. File systems that cannot sync a directory (EINVAL) are let be.
inline void sync_directory(const std::filesystem::path& file) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    if (::fsync(fd) != 0 && errno != EINVAL) err = errno;
    ::close(fd);
  }
  if (err != 0)
    throw data_error("ctnn::io: wrote '" + file.string() + "' but cannot flush its directory '" + dir.string() +
                     "': " + std::strerror(err));
}

}  // namespace detail

/// Writes the arrays as an .npz file (zip, stored) at `path`, replacing it:
/// the archive goes to `path`.tmp (replacing whatever a killed save left
/// there), which is renamed over `path` only when it is complete and flushed,
/// and the directory is flushed after the rename; so a crash never leaves a
/// half-written file under that name. Throws data_error naming the file.
inline void write_npz(const std::filesystem::path& path, const std::vector<npy_array>& arrays) {
  std::string zip, central;
  std::uint32_t count = 0;
  for (const npy_array& a : arrays) {
    if (a.dtype.size() < 3) throw data_error("ctnn::io: '" + path.string() + "': bad dtype for '" + a.name + "'");
    // The bytes must be what the shape says: the writer reads exactly that many.
    std::size_t elements = 1;
    for (std::size_t d : a.shape) elements = d != 0 && elements > SIZE_MAX / d ? SIZE_MAX : elements * d;
    const std::size_t item = detail::npy_item_size(a.dtype);
    if (item == 0 || elements > SIZE_MAX / item || a.bytes.size() != elements * item)
      throw data_error("ctnn::io: '" + path.string() + "': '" + a.name + "' holds " + std::to_string(a.bytes.size()) +
                       " bytes, not what its dtype " + a.dtype + " and shape " + detail::shape_text(a.shape) +
                       " call for");
    // The .npy file: its header, then the bytes.
    if (a.dtype != npy_dtype<float>() && a.dtype != npy_dtype<double>() && a.dtype != npy_dtype<std::uint64_t>())
      throw data_error("ctnn::io: '" + path.string() + "': '" + a.name + "' has dtype " + a.dtype +
                       ", only <f4, <f8 and <u8 are written");
    std::string npy = detail::npy_header_text(a.dtype, a.shape);
    npy.append(a.bytes.data(), a.bytes.size());
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
  detail::write_new_file(tmp, zip);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw data_error("ctnn::io: cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
  detail::sync_directory(path);
}

/// Reads every array of an .npz file. Throws data_error naming the file (and
/// the member) if it is missing, not a zip archive, truncated or corrupt.
inline std::vector<npy_array> read_npz(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data_error("ctnn::io: cannot open '" + path.string() + "': " + std::strerror(errno));
  const std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw data_error("ctnn::io: cannot read '" + path.string() + "'");
  return detail::parse_npz(file.data(), file.size(), path);
}

}  // namespace ctnn::io
