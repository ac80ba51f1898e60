/// @file command_line.hpp
/// What the apps' command lines share, on top of CLI11: flags that take a
/// value and switches that take none, numbers read strictly, and the reading
/// of the command line with its exit statuses (2 and a two-line message for a
/// usage error, 0 and the help for --help).
#pragma once

#include <charconv>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <CLI/CLI.hpp>

namespace ctnn_apps {

/// A bad command line: the message says which flag and why, as a sentence.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The number `text` (all of it, in decimal) given to `flag`, or a usage error.
/// (CLI11's own conversion would also take "0x10" and read "010" as octal.)
template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range)
    throw usage_error(std::string(flag) + ": '" + std::string(text) + "' is out of range");
  if (ec != std::errc{} || end != text.data() + text.size())
    throw usage_error(std::string(flag) + ": '" + std::string(text) + "' is not a valid number");
  return value;
}

/// Adds `flag VALUE` (also `flag=VALUE`): `take(text)` checks the text and
/// stores what it means, throwing usage_error if it cannot. Given twice, the
/// last one counts.
inline CLI::Option* add_flag_with_value(CLI::App& app, const std::string& flag, const std::string& value_name,
                                        const std::string& help, std::function<void(const std::string&)> take) {
  CLI::Option* option = app.add_option(
      flag,
      [flag, take = std::move(take)](const CLI::results_t& values) {
        // A flag at the end of the line, or written `flag=`, arrives as "".
        if (values.empty() || values.back().empty()) throw usage_error(flag + " needs a value");
        take(values.back());
        return true;
      },
      help);
  // At most one value, so that a flag whose value is missing does not swallow
  // the next flag (`--out --quiet`) but says so.
  option->type_name(value_name)->expected(0, 1)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return option;
}

/// Adds a switch, `flag` alone: it sets `target`. CLI11 would read
/// `--quiet=no` as off; here any value is an error, so it cannot be misread.
inline CLI::Option* add_switch(CLI::App& app, const std::string& flag, const std::string& help, bool& target) {
  CLI::Option* option = app.add_option(
      flag,
      [flag, &target](const CLI::results_t& values) {
        for (const std::string& v : values)
          if (v != "true") throw usage_error(flag + " takes no value, not '" + v + "'");
        target = true;
        return true;
      },
      help);
  option->expected(0)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return option;
}

/// Parses the command line with `app`, then runs `check` (the checks that
/// involve several flags). Returns the exit status when the program should
/// stop now, having said why: 2 after a usage error (one line naming the flag
/// and the problem, one pointing to --help), 0 after --help (the help, on
/// stdout). Returns nothing when the program should go on.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                             const std::function<void()>& check = {}) {
  const std::string name = app.get_name();
  app.allow_extras();  // reported below in our own words
  try {
    app.parse(argc, argv);
    if (const std::vector<std::string> extra = app.remaining(); !extra.empty()) {
      const std::string& first = extra.front();
      throw usage_error(first.starts_with("-") ? "unknown flag '" + first + "'"
                                               : "unexpected argument '" + first + "': " + name +
                                                     " takes only flags, each with at most one value");
    }
    if (check) check();
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {  // CLI11's own complaints, which also name the flag
    std::fprintf(stderr, "%s: %s\nrun '%s --help' for the flags\n", name.c_str(), e.what(), name.c_str());
    return 2;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s\nrun '%s --help' for the flags\n", name.c_str(), e.what(), name.c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace ctnn_apps
