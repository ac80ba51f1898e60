// A fresh directory under the system's temporary one, removed with all it
// holds at the end of its scope: tests that write files run side by side.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace ctnn_test {

struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& prefix = "ctnn_test_") {
    std::random_device rd;
    do {
      path = std::filesystem::temp_directory_path() / (prefix + std::to_string(rd()));
    } while (!std::filesystem::create_directory(path));
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace ctnn_test
