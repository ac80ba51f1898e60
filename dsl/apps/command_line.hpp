/// @file command_line.hpp
/// What the apps' command lines share: the usage error, and the reading of
/// the options with its exit statuses (2 and the usage for a bad option, 0
/// and the usage for --help).
#pragma once

#include <cstdio>
#include <optional>
#include <stdexcept>

namespace ctnn_apps {

/// A bad command line: the message says which option and why.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// o = parse(argc, argv). Returns the exit status when the program should
/// stop now (a usage error: 2; --help, o.help set: 0), or nothing to go on.
template <class Options, class Parse, class Usage>
std::optional<int> read_command_line(const char* app, int argc, char** argv, Options& o, Parse parse, Usage usage) {
  try {
    o = parse(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s\n\n", app, e.what());
    usage(stderr);
    return 2;
  }
  if (o.help) {
    usage(stdout);
    return 0;
  }
  return std::nullopt;
}

}  // namespace ctnn_apps
