// ctnn_train's --save-state and --resume: the trainer's checkpoint
// (ctnn/train/trainer_checkpoint.hpp: parameters, optimizer state, steps,
// dropout position) and, in the same file, what the app itself carries from
// epoch to epoch: the epochs done and their results, the loss curve and its
// learning rates. Each epoch's shuffle is seeded by (--seed, epoch), and the
// schedule reads the step count, so a run resumed after epoch k with the
// same flags continues as the uninterrupted run would have, bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <ctnn/io/npz.hpp>
#include <ctnn/train/trainer_checkpoint.hpp>

#include "train_app.hpp"

namespace train_app {

// What a resumed run starts from.
struct run_state {
  std::vector<epoch_result> epochs;  // one per epoch done
  std::vector<float> losses, rates;  // one per step done
};

// The network as the flags chose it ("mlp, batch norm, dropout 0.2").
inline std::string network_text(const options& o) {
  return o.model_name + (o.batch_norm ? ", batch norm" : "") + (o.dropout > 0.0f ? ", dropout " + num(o.dropout) : "");
}

namespace state_detail {
// The app's arrays: "run/..." (a tensor name has a layer's dot; these do not).
inline constexpr std::string_view network_array = "run/network";  // network_text, one byte per <u8
inline constexpr std::string_view settings_array = "run/settings";
inline constexpr std::string_view epochs_array = "run/epochs";  // [epochs, 6] <f8
inline constexpr std::string_view losses_array = "run/losses";
inline constexpr std::string_view rates_array = "run/rates";
// run/settings, in this order: what a resumed run must share to continue the saved one.
enum setting : std::size_t { seed_setting, steps_setting, optimizer_setting, setting_count };
inline constexpr std::size_t epoch_fields = 6;

template <class T>
ctnn::io::npy_array array(std::string_view name, std::vector<std::size_t> shape, std::span<const T> values) {
  ctnn::io::npy_array a{std::string(name), ctnn::io::npy_dtype<T>(), std::move(shape), {}};
  a.bytes.resize(values.size_bytes());
  if (!values.empty()) std::memcpy(a.bytes.data(), values.data(), values.size_bytes());
  return a;
}

// The values of a one- or two-dimensional array of T, or an error naming it.
template <class T>
std::vector<T> values(const std::vector<ctnn::io::npy_array>& arrays, std::string_view name,
                      const std::filesystem::path& path, std::size_t columns = 0) {
  for (const ctnn::io::npy_array& a : arrays) {
    if (a.name != name) continue;
    const bool shape_fits = columns == 0 ? a.shape.size() == 1 : a.shape.size() == 2 && a.shape[1] == columns;
    if (a.dtype != ctnn::io::npy_dtype<T>() || !shape_fits || a.bytes.size() != a.size() * sizeof(T))
      throw ctnn::io::data_error("'" + path.string() + "': its array '" + a.name + "' is not what ctnn_train writes");
    std::vector<T> v(a.size());
    if (!v.empty()) std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
    return v;
  }
  throw ctnn::io::data_error("'" + path.string() + "' holds no array '" + std::string(name) +
                             "': it is not a state file of ctnn_train --save-state");
}

inline std::vector<std::uint64_t> settings_of(const options& o, std::size_t steps_per_epoch) {
  std::vector<std::uint64_t> s(setting_count);
  s[seed_setting] = o.seed;
  s[steps_setting] = steps_per_epoch;
  s[optimizer_setting] = std::uint64_t(o.optimizer);
  return s;
}

inline const char* optimizer_name(std::uint64_t kind) {
  constexpr const char* names[] = {"sgd", "nesterov", "adam", "rmsprop", "adagrad"};
  return kind < std::size(names) ? names[kind] : "unknown";
}
}  // namespace state_detail

// Writes the run's state after an epoch, atomically (the file is written
// under a temporary name and renamed over `o.save_state`).
template <class Trainer>
void save_run_state(const options& o, Trainer& trainer, std::size_t steps_per_epoch,
                    const std::vector<epoch_result>& epochs, const std::vector<float>& losses,
                    const std::vector<float>& rates) {
  namespace sd = state_detail;
  const std::string network = network_text(o);
  const std::vector<std::uint64_t> bytes(network.begin(), network.end());
  std::vector<double> results;
  for (const epoch_result& e : epochs)
    results.insert(results.end(), {e.train_loss, e.train_accuracy, e.accuracy, e.seconds, double(e.lr), double(e.threads)});
  const std::vector<std::uint64_t> settings = sd::settings_of(o, steps_per_epoch);
  std::vector<ctnn::io::npy_array> extra;
  extra.push_back(sd::array<std::uint64_t>(sd::network_array, {bytes.size()}, bytes));
  extra.push_back(sd::array<std::uint64_t>(sd::settings_array, {settings.size()}, settings));
  extra.push_back(sd::array<double>(sd::epochs_array, {epochs.size(), sd::epoch_fields}, results));
  extra.push_back(sd::array<float>(sd::losses_array, {losses.size()}, losses));
  extra.push_back(sd::array<float>(sd::rates_array, {rates.size()}, rates));
  ctnn::save_trainer_checkpoint(o.save_state, trainer, std::move(extra));
}

// Reads `o.resume` into the trainer and returns the run's progress. Throws
// (before the trainer changes) for a missing or damaged file, or one saved
// by a run of another network, seed, optimizer or epoch length, or one
// that already holds --epochs epochs.
template <class Trainer>
run_state load_run_state(const options& o, Trainer& trainer, std::size_t steps_per_epoch) {
  namespace sd = state_detail;
  const std::filesystem::path& path = o.resume;
  const std::vector<ctnn::io::npy_array> arrays = ctnn::io::read_npz(path);
  const std::vector<std::uint64_t> bytes = sd::values<std::uint64_t>(arrays, sd::network_array, path);
  const std::string saved_network(bytes.begin(), bytes.end());
  if (saved_network != network_text(o))
    throw std::runtime_error("'" + path.string() + "' holds the state of a run of " + saved_network +
                             ", not of " + network_text(o) + " (--model, --batch-norm and --dropout must be the same)");
  const std::vector<std::uint64_t> saved = sd::values<std::uint64_t>(arrays, sd::settings_array, path);
  if (saved.size() != sd::setting_count)
    throw ctnn::io::data_error("'" + path.string() + "': its array 'run/settings' is not what ctnn_train writes");
  const std::vector<std::uint64_t> mine = sd::settings_of(o, steps_per_epoch);
  if (saved[sd::seed_setting] != mine[sd::seed_setting])
    throw std::runtime_error("'" + path.string() + "' was saved by a run with --seed " +
                             std::to_string(saved[sd::seed_setting]) + ", not " + std::to_string(o.seed) +
                             " (the seed shuffles every epoch)");
  if (saved[sd::steps_setting] != mine[sd::steps_setting])
    throw std::runtime_error("'" + path.string() + "' was saved by a run of " +
                             std::to_string(saved[sd::steps_setting]) + " batches per epoch, not " +
                             std::to_string(steps_per_epoch) + " (--data or --limit differ)");
  if (saved[sd::optimizer_setting] != mine[sd::optimizer_setting])
    throw std::runtime_error("'" + path.string() + "' was saved by a run with --optimizer " +
                             sd::optimizer_name(saved[sd::optimizer_setting]) + ", not " + o.optimizer_name);

  const std::vector<double> results = sd::values<double>(arrays, sd::epochs_array, path, sd::epoch_fields);
  run_state state;
  for (std::size_t e = 0; e < results.size() / sd::epoch_fields; ++e) {
    const double* r = results.data() + e * sd::epoch_fields;
    state.epochs.push_back({r[0], r[1], r[2], r[3], float(r[4]), int(r[5])});
  }
  state.losses = sd::values<float>(arrays, sd::losses_array, path);
  state.rates = sd::values<float>(arrays, sd::rates_array, path);
  const std::size_t done = state.epochs.size();
  if (done == 0 || state.losses.size() != done * steps_per_epoch || state.rates.size() != state.losses.size())
    throw ctnn::io::data_error("'" + path.string() + "': its loss curve does not hold " + std::to_string(done) +
                               " epochs of " + std::to_string(steps_per_epoch) + " steps");
  if (done >= std::size_t(o.epochs))
    throw std::runtime_error("'" + path.string() + "' holds " + std::to_string(done) + " epochs already; --epochs " +
                             std::to_string(o.epochs) + " asks for no more");
  ctnn::load_trainer_checkpoint(path, trainer);  // checks every tensor before it changes one
  if (trainer.steps() != state.losses.size())
    throw ctnn::io::data_error("'" + path.string() + "': the trainer's step count, " +
                               std::to_string(trainer.steps()) + ", is not the loss curve's " +
                               std::to_string(state.losses.size()));
  return state;
}

}  // namespace train_app
