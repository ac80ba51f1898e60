// Test of ctnn_train's report.json: runs the app with --out, --checkpoint and
// --init-from paths full of characters JSON must escape (quotes, backslashes,
// tabs and other control characters, non-ASCII letters, bytes that are not
// UTF-8) and checks that a JSON parser reads each report back with the same
// strings.
//
//   report_json_test CTNN_TRAIN SCRATCH_DIR
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "report_json_test: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

// Runs `args` (the program first) without a shell, so every byte arrives as written.
int run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

json read_report(const fs::path& out) {
  std::ifstream file(out / "report.json");
  return json::parse(file);  // throws on anything that is not JSON
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: report_json_test CTNN_TRAIN SCRATCH_DIR\n");
    return 2;
  }
  const std::string app = argv[1];
  const fs::path scratch = argv[2];
  fs::remove_all(scratch);
  fs::create_directories(scratch);

  // Everything a file name may hold but a newline or a slash inside a name:
  // a quote, a backslash, a tab, other control characters, DEL, accented
  // letters, a check mark and a character outside the Basic Multilingual Plane.
  const std::string odd = "run \"quoted\" back\\slash\ttab \x01\x1f\x7f \xc3\xa9t\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\x9f";
  const std::string first_out = (scratch / ("first " + odd)).string();
  const std::string checkpoint = (scratch / ("weights " + odd + ".npz")).string();
  const std::vector<std::string> common{app, "--model", "mlp", "--epochs", "1", "--limit", "64", "--threads", "1", "--quiet"};

  std::vector<std::string> first = common;
  first.insert(first.end(), {"--out", first_out, "--checkpoint", checkpoint});
  expect(run(first) == 0, "the first run (with --checkpoint) succeeds");
  try {
    const json report = read_report(first_out);
    expect(report.at("model") == "mlp", "\"model\" is \"mlp\"");
    expect(report.at("out") == first_out, "\"out\" holds the --out path byte for byte");
    expect(report.at("checkpoint") == checkpoint, "\"checkpoint\" holds the --checkpoint path byte for byte");
    expect(report.at("init_from").is_null(), "\"init_from\" is null without --init-from");
    expect(report.at("accuracy").is_number(), "\"accuracy\" is a number");
    expect(report.at("lr") == 0.03, "\"lr\" reads 0.03 (a float written by its shortest text)");
    expect(report.at("test_accuracy").size() == 1, "\"test_accuracy\" has one entry per epoch");
  } catch (const std::exception& e) {
    expect(false, std::string("the first report parses: ") + e.what());
  }

  // Bytes that are not UTF-8 cannot appear in JSON text: they become U+FFFD.
  const std::string second_out = (scratch / "second \xff\xfe").string();
  std::vector<std::string> second = common;
  second.insert(second.end(), {"--out", second_out, "--init-from", checkpoint, "--freeze", "fc1"});
  expect(run(second) == 0, "the second run (with --init-from) succeeds");
  try {
    const json report = read_report(second_out);
    expect(report.at("init_from") == checkpoint, "\"init_from\" holds the checkpoint's path byte for byte");
    expect(report.at("out") == (scratch / "second \xef\xbf\xbd\xef\xbf\xbd").string(),
           "\"out\" shows each byte that is not UTF-8 as U+FFFD");
    expect(report.at("loaded") == json({"fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight", "fc3.bias", "fc3.weight"}),
           "\"loaded\" lists the six tensors of the MLP");
    expect(report.at("frozen") == json({"fc1"}), "\"frozen\" lists fc1");
  } catch (const std::exception& e) {
    expect(false, std::string("the second report parses: ") + e.what());
  }
  if (failures == 0) std::printf("report_json_test: both reports parse and hold the paths as given\n");
  return failures == 0 ? 0 : 1;
}
