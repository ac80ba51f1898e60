// The fuzzer's bytes as a file that ctnn's readers open by name: an anonymous
// in-memory file (memfd), rewritten for each input and opened through
// /proc/self/fd, so that fuzzing touches no disk.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ctnn_fuzz {

class input_file {
 public:
  input_file() : fd_(::memfd_create("ctnn_fuzz_input", MFD_CLOEXEC)) {
    if (fd_ < 0) {
      std::perror("ctnn fuzz: memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~input_file() { ::close(fd_); }
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;

  /// Replaces the file's contents with these bytes; returns its name.
  const std::filesystem::path& hold(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) fail("ftruncate");
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, off_t(done));
      if (n <= 0) fail("pwrite");
      done += std::size_t(n);
    }
    return path_;
  }

 private:
  [[noreturn]] static void fail(const char* what) {
    std::perror(what);
    std::abort();
  }
  int fd_;
  std::filesystem::path path_;
};

}  // namespace ctnn_fuzz
