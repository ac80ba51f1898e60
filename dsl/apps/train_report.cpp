// ctnn_train's outputs: the folders made before training (and removed again
// when a run fails), the check of what --init-from loaded, and the report
// (report.json through nlohmann-json, and the two CSV files). Apart from
// train.cpp so that CLI11 and nlohmann-json, each a large header, compile in
// parallel.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <ctnn/kernels/simd.hpp>
#include <ctnn/train/checkpoint.hpp>

#include "train_app.hpp"

namespace train_app {

// ordered_json: the report keeps its keys in the order they are written.
using json_value = nlohmann::ordered_json;

// A number for the report: null when not finite (JSON has no NaN or
// infinity). A float goes in as the double nearest its shortest decimal text,
// so that 0.05f reads 0.05 and not 0.05000000074505806.
static json_value json_number(double v) { return std::isfinite(v) ? json_value(v) : json_value(nullptr); }

static json_value json_number(float v) {
  if (!std::isfinite(v)) return nullptr;
  const std::string text = num(v);
  double shortest = 0;
  std::from_chars(text.data(), text.data() + text.size(), shortest);
  return shortest;
}

static json_value json_number(int v) { return v; }

static json_value json_path(const fs::path& p) { return p.empty() ? json_value(nullptr) : json_value(p.string()); }

template <class F>
static json_value per_epoch(const std::vector<epoch_result>& epochs, F field) {
  json_value list = json_value::array();
  for (const epoch_result& e : epochs) list.push_back(json_number(field(e)));
  return list;
}

void write_report(const options& o, const run_summary& run, const std::vector<epoch_result>& epochs,
                  const std::vector<float>& losses, const std::vector<float>& rates, std::size_t steps_per_epoch,
                  double seconds, double images_per_second) {
  double best = 0;
  for (const auto& e : epochs) best = std::max(best, e.accuracy);
  const bool momentum = o.optimizer == optimizer_kind::sgd || o.optimizer == optimizer_kind::nesterov;
  json_value report;  // keeps the keys in the order written here
  report["model"] = o.model_name;
  report["accuracy"] = json_number(epochs.back().accuracy);
  report["best_accuracy"] = json_number(best);
  report["epochs"] = epochs.size();
  report["seconds"] = json_number(seconds);
  report["images_per_second"] = json_number(images_per_second);
  report["train_loss"] = per_epoch(epochs, [](const epoch_result& e) { return e.train_loss; });
  report["train_accuracy"] = per_epoch(epochs, [](const epoch_result& e) { return e.train_accuracy; });
  report["test_accuracy"] = per_epoch(epochs, [](const epoch_result& e) { return e.accuracy; });
  report["epoch_seconds"] = per_epoch(epochs, [](const epoch_result& e) { return e.seconds; });
  report["lr_per_epoch"] = per_epoch(epochs, [](const epoch_result& e) { return e.lr; });
  report["batch"] = batch;
  report["optimizer"] = o.optimizer_name;
  report["lr"] = json_number(o.lr);
  report["momentum"] = momentum ? json_number(o.momentum) : json_value(nullptr);
  report["schedule"] = o.schedule_name;
  report["warmup"] = o.warmup;
  report["l2"] = json_number(o.training.l2);
  report["l1"] = json_number(o.training.l1);
  report["max_norm"] = json_number(o.training.max_norm);
  report["dropout"] = json_number(o.dropout);
  report["batch_norm"] = o.batch_norm;
  report["init_from"] = json_path(o.init_from);
  report["loaded"] = run.loaded;
  report["frozen"] = o.freeze;
  report["checkpoint"] = json_path(o.checkpoint);
  report["save_state"] = json_path(o.save_state);
  report["resumed_from"] = json_path(o.resume);
  report["data"] = json_path(o.data);
  report["out"] = json_path(o.out);
  report["seed"] = o.seed;
  report["threads"] = o.threads == 0 ? json_value("auto") : json_value(o.threads);
  report["threads_per_epoch"] = per_epoch(epochs, [](const epoch_result& e) { return e.threads; });
  report["simd"] = ctnn::kernels::simd_name();
  report["compiler"] = std::string(compiler_id()) + " " + __VERSION__;
  report["flags"] = cxx_flags();
  report["param_count"] = run.param_count;
  // One line per key, as the report has always been laid out (an indented
  // dump() would put every number of the per-epoch lists on a line of its
  // own); nlohmann writes each key and value. A path need not be valid UTF-8
  // on Linux, but JSON text must be: such bytes become U+FFFD instead of
  // making dump() throw.
  const auto dump = [](const json_value& v) { return v.dump(-1, ' ', false, json_value::error_handler_t::replace); };
  std::ofstream json(o.out / "report.json");
  json << "{\n";
  for (auto item = report.begin(); item != report.end(); ++item)
    json << "  " << dump(item.key()) << ": " << dump(item.value()) << (std::next(item) == report.end() ? "\n" : ",\n");
  json << "}\n";
  std::ofstream curve(o.out / "loss_curve.csv");
  curve << "epoch,step,loss,lr\n";  // every step; step counts from 1 over the whole run
  for (std::size_t s = 0; s < losses.size(); ++s)
    curve << s / steps_per_epoch + 1 << ',' << s + 1 << ',' << num(losses[s]) << ',' << num(rates[s]) << '\n';
  std::ofstream table(o.out / "epochs.csv");
  table << "epoch,train_loss,test_accuracy,seconds,train_accuracy,lr\n";
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    const epoch_result& r = epochs[e];
    table << e + 1 << ',' << num(r.train_loss) << ',' << num(r.accuracy) << ',' << num(r.seconds) << ','
          << num(r.train_accuracy) << ',' << num(r.lr) << '\n';
  }
  if (!json || !curve || !table)
    throw std::runtime_error("cannot write the report to '" + o.out.string() + "'");
}

output_dirs::~output_dirs() {
  std::error_code ignored;  // a folder that is no longer empty stays
  for (auto dir = created_.rbegin(); dir != created_.rend(); ++dir) fs::remove(*dir, ignored);
}

void output_dirs::create(const fs::path& dir, std::string_view flag) {
  // Up from `dir` (less any trailing slash) to the first folder that exists ...
  fs::path existing = dir;
  while (!existing.has_filename() && existing.has_relative_path()) existing = existing.parent_path();
  const fs::path target = existing;
  std::vector<fs::path> missing;
  std::error_code ec;
  while (!existing.empty() && !fs::exists(fs::status(existing, ec))) {
    missing.push_back(existing);
    existing = existing.parent_path();
  }
  if (!existing.empty() && !fs::is_directory(fs::status(existing, ec)))
    throw std::runtime_error(std::string(flag) + ": '" + existing.string() + "' is not a directory" +
                             (existing == target ? "" : " (on the way to '" + target.string() + "')"));
  // ... then down again, creating each.
  for (auto d = missing.rbegin(); d != missing.rend(); ++d) {
    if (!fs::create_directory(*d, ec) && ec)
      throw std::runtime_error(std::string(flag) + ": cannot create the directory '" + d->string() +
                               "': " + ec.message());
    created_.push_back(*d);
  }
}

namespace {

// Creates a file in `dir` and removes it again: the one test of writability
// that also holds for root and on read-only file systems. `what` says what
// could not be written.
void check_writable(const fs::path& dir, const std::string& what) {
  std::string probe = ((dir.empty() ? fs::path(".") : dir) / ".ctnn_train-write-test-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) throw std::runtime_error(what + ": " + std::strerror(errno));
  close(fd);
  unlink(probe.c_str());
}

std::string some_names(const std::vector<std::string_view>& names) {
  constexpr std::size_t shown = 6;
  std::string list;
  for (std::size_t i = 0; i < std::min(names.size(), shown); ++i) list += (i ? ", " : "") + std::string(names[i]);
  if (names.size() > shown) list += ", ... (" + std::to_string(names.size()) + " in all)";
  return names.empty() ? "no tensor at all" : list;
}

}  // namespace

void prepare_outputs(const options& o, output_dirs& dirs) {
  dirs.create(o.out, "--out");
  check_writable(o.out, "--out: cannot write in '" + o.out.string() + "'");
  const std::pair<const fs::path*, const char*> files[] = {
      {&o.checkpoint, "--checkpoint"}, {&o.save_state, "--save-state"}, {&o.export_onnx, "--export-onnx"}};
  for (const auto& [file, flag] : files) {
    if (file->empty()) continue;
    if (!file->has_filename() || fs::is_directory(*file))
      throw std::runtime_error(std::string(flag) + ": '" + file->string() + "' is a directory, not a file name");
    dirs.create(file->parent_path(), flag);
    check_writable(file->parent_path(), std::string(flag) + ": cannot write '" + file->string() + "'");
  }
}

void check_init_loaded(const options& o, const std::vector<std::string>& loaded,
                       const std::vector<std::string_view>& network_names) {
  if (!loaded.empty()) return;
  std::vector<std::string_view> held;
  const std::vector<ctnn::io::npy_array> arrays = ctnn::read_checkpoint(o.init_from);
  for (const ctnn::io::npy_array& a : arrays) held.push_back(a.name);
  std::sort(held.begin(), held.end());
  std::vector<std::string_view> wanted = network_names;
  std::sort(wanted.begin(), wanted.end());
  throw std::runtime_error("'" + o.init_from.string() + "' shares no tensor name with --model " + o.model_name +
                           ": it holds " + some_names(held) + "; the network has " + some_names(wanted));
}

}  // namespace train_app
