// libFuzzer target: ctnn_train's command line (dsl/apps/train_flags.hpp), one
// argument per line of the input. Whatever the arguments, reading them ends
// in a usage error (exit status 2), the help (0), or options that training can
// take as they are: the bounds below are what train_run.hpp relies on.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <apps/train_flags.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t max_arguments = 64;
  std::vector<std::string> args{"ctnn_train"};
  std::string current;
  for (std::size_t i = 0; i < size && args.size() < max_arguments; ++i) {
    const char c = char(data[i]);
    if (c == '\n') {
      args.push_back(current);
      current.clear();
    } else if (c != '\0') {  // argv strings end at the first NUL
      current.push_back(c);
    }
  }
  if (!current.empty() && args.size() < max_arguments) args.push_back(current);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  train_app::options o;
  o.max_threads = 2;  // the same verdicts on every machine
  const std::optional<int> status = train_app::read_command_line(int(args.size()), argv.data(), o);
  if (status) {
    if (*status != 0 && *status != 2) std::abort();
    return 0;
  }
  // Accepted: every number within what a run can do.
  if (o.epochs < 1 || o.epochs > train_app::max_epochs) std::abort();
  if (o.threads < 0 || o.threads > train_app::most_threads(o)) std::abort();
  if (!(o.lr > 0.0f) || !std::isfinite(o.lr)) std::abort();
  if (!std::isfinite(o.momentum) || !std::isfinite(o.dropout) || o.dropout < 0.0f || o.dropout >= 1.0f) std::abort();
  if (o.out.empty()) std::abort();
  return 0;
}
