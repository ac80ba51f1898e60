/// @file command_line.hpp
/// What the apps' command lines share: the usage error, numbers, and the reading of
/// the options with its exit statuses (2 and the usage for a bad option, 0
/// and the usage for --help).
#pragma once

#include <charconv>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace ctnn_apps {

/// A bad command line: the message says which option and why.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The number `text` (all of it) given to `flag`, or a usage error.
template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error(std::string(flag) + ": '" + std::string(text) + "' is not a valid number");
  return value;
}

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
