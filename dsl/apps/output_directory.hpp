/// @file output_directory.hpp
/// The directory an app writes its report, curves and pictures to.
#pragma once

#include <cstdio>
#include <filesystem>
#include <system_error>

namespace ctnn_apps {

/// Creates `dir` and its parents (`--out`); false, after printing
/// "<app>: --out: cannot create the directory '<dir>': <why>" on stderr,
/// when it cannot or the path is something other than a directory.
inline bool make_output_directory(const char* app, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec && std::filesystem::is_directory(dir)) return true;
  std::fprintf(stderr, "%s: --out: cannot create the directory '%s'%s%s\n", app, dir.c_str(), ec ? ": " : "",
               ec ? ec.message().c_str() : "");
  return false;
}

}  // namespace ctnn_apps
