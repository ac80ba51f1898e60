/// @file trainer_checkpoint.hpp
/// Trainer checkpoints: everything a ctnn::trainer needs to continue training
/// exactly where it stopped, in one .npz file. A run saved after k steps,
/// loaded into a new trainer and trained N − k more ends with the same bits as
/// a run of N steps.
///
/// The archive holds what save_checkpoint writes (every parameter and state
/// tensor under its own name), so load_checkpoint reads it into a plain model,
/// ignoring the rest, plus arrays under two prefixes no tensor name may begin
/// with (checked at compile time):
///   optimizer/<tensor>/<buffer>  each trainable tensor's share of each state
///                                buffer: "velocity" (sgd, nesterov), "cache"
///                                (rmsprop, adagrad), "m" and "v" (adam);
///                                the tensor's shape and the model's dtype
///   optimizer/t                  the optimizer's update count, if it keeps one
///                                (adam: its bias corrections); <u8, shape ()
///   trainer/steps                trainer::steps(), where a schedule is; <u8
///   trainer/noise_seed           where the dropout masks are; <u8
///   trainer/average/<tensor>     the parameter average, if averaging is on
///
/// Configuration is not saved: the optimizer's hyperparameters, the training
/// options, learning-rate multipliers and frozen tensors are the code's, so
/// construct the new trainer as the first one was; a schedule resumes from
/// trainer::steps(). A trainer does not shuffle data: a run that shuffles
/// keeps its own generator, and saves it itself.
///
/// L-BFGS (ctnn/train/optim/lbfgs.hpp) is not a trainer optimizer: its
/// history lives inside one minimize() call, so between calls the model is
/// its whole state (save_checkpoint).
///
/// Loading checks everything before it changes anything, as load_checkpoint
/// does: a missing file, a damaged archive, a tensor or an optimizer buffer
/// that is missing or has another shape or dtype (another network, another
/// optimizer) throw ctnn::io::data_error naming the file and the array, and
/// leave the trainer as it was.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/io/npz.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/optim/common.hpp"
#include "ctnn/train/trainer.hpp"

namespace ctnn {

/// The prefixes of a trainer checkpoint's own arrays.
inline constexpr std::string_view optimizer_checkpoint_prefix = "optimizer/";
inline constexpr std::string_view trainer_checkpoint_prefix = "trainer/";

/// What load_trainer_checkpoint does with a file that holds a model only
/// (written by save_checkpoint, or by numpy).
enum class model_only_checkpoint {
  /// Throw io::data_error: resuming needs the optimizer's state, and a model
  /// file where a trainer checkpoint was meant would silently restart it.
  reject,
  /// Load the tensors and start the rest afresh, as a newly constructed
  /// trainer: optimizer buffers zero, its update count, steps() and the
  /// dropout masks back to 0, the parameter average (if on) restarted at the
  /// loaded parameters. Fine-tuning from a model file.
  reset_optimizer,
};

namespace detail {

template <class Graph>
inline constexpr bool uses_reserved_checkpoint_names = [] {
  for (std::size_t i = 0; i < Graph::node_count; ++i)
    for (std::size_t j = 0; j < Graph::plan.nodes[i].param_count; ++j) {
      const std::string_view name = Graph::plan.nodes[i].params[j].name;
      if (name.starts_with(optimizer_checkpoint_prefix) || name.starts_with(trainer_checkpoint_prefix)) return true;
    }
  return false;
}();

/// The trainer's private state, for saving and restoring it.
struct trainer_checkpoint_access {
  template <class Trainer>
  static auto& optimizer_state(Trainer& t) { return t.state_; }
  template <class Trainer>
  static std::size_t& steps(Trainer& t) { return t.steps_; }
  template <class Trainer>
  static auto& average(Trainer& t) { return t.average_; }
};

/// Where one trainable tensor's share of every per-parameter buffer lies.
struct trainable_slice {
  named_tensor tensor;
  std::size_t offset = 0;  // elements from the start of the flat parameter buffer
  std::size_t size = 0;
};

template <class Model>
std::vector<trainable_slice> trainable_slices(Model& m) {
  std::vector<trainable_slice> out;
  for (const named_tensor& t : checkpoint_tensors<typename Model::graph_type>())
    if (t.trainable) {
      const auto s = m.param_span(t.name);
      out.push_back({t, std::size_t(s.data() - m.parameters().data()), s.size()});
    }
  return out;
}

inline std::string optimizer_array_name(std::string_view tensor, const std::string& buffer) {
  return std::string(optimizer_checkpoint_prefix) + std::string(tensor) + "/" + buffer;
}
inline std::string average_array_name(std::string_view tensor) {
  return std::string(trainer_checkpoint_prefix) + "average/" + std::string(tensor);
}
inline constexpr std::string_view optimizer_count_name = "optimizer/t";
inline constexpr std::string_view steps_name = "trainer/steps";
inline constexpr std::string_view noise_seed_name = "trainer/noise_seed";

inline io::npy_array counter_array(std::string_view name, std::uint64_t value) {
  return array_of<std::uint64_t>(std::string(name), {}, std::span<const std::uint64_t>(&value, 1));
}

// A counter of the archive: a <u8 scalar.
inline std::uint64_t read_counter(const std::vector<io::npy_array>& arrays, std::string_view name,
                                  const auto& fail) {
  const io::npy_array* a = find_array(arrays, name);
  if (a == nullptr)
    throw fail("no array '" + std::string(name) + "' in the checkpoint, which holds other trainer state");
  std::uint64_t value = 0;
  check_array<std::uint64_t>(*a, {}, std::span<const std::uint64_t>(&value, 1), "trainer", fail);
  std::memcpy(&value, a->bytes.data(), sizeof value);
  return value;
}

// The buffer names the archive holds for a tensor ("m, v"), for a message.
inline std::string held_buffers(const std::vector<io::npy_array>& arrays, std::string_view tensor) {
  const std::string prefix = optimizer_array_name(tensor, "");
  std::vector<std::string_view> held;
  for (const io::npy_array& a : arrays)
    if (std::string_view(a.name).starts_with(prefix)) held.push_back(std::string_view(a.name).substr(prefix.size()));
  return join_names(held);
}

}  // namespace detail

/// Saves the trainer: every parameter and state tensor of its model, the
/// optimizer's buffers and update count, steps(), the dropout position and
/// the parameter average (see the top of this file), atomically as
/// save_checkpoint does. `extra` are the caller's own arrays, stored beside
/// them in the same file (a run's epoch, its data order, its loss curve):
/// loading ignores them and io::read_npz reads them back. Their names must
/// not be a tensor's nor begin with "optimizer/" or "trainer/"
/// (std::invalid_argument, before anything is written).
template <class Graph, class Batch, class Optimizer, class T>
void save_trainer_checkpoint(const std::filesystem::path& path, trainer<Graph, Batch, Optimizer, T>& t,
                             std::vector<io::npy_array> extra = {}) {
  static_assert(!detail::uses_reserved_checkpoint_names<Graph>,
                "ctnn::save_trainer_checkpoint: a tensor name begins with \"optimizer/\" or \"trainer/\", which "
                "trainer checkpoints keep for their own arrays; rename the layer");
  using access = detail::trainer_checkpoint_access;
  std::vector<io::npy_array> arrays = detail::model_arrays(t.model());
  const auto slices = detail::trainable_slices(t.model());
  const T* state = access::optimizer_state(t).data();
  constexpr std::size_t stride = optim::state_stride<T>(Graph::param_buffer_size);
  for (std::size_t k = 0; k < Optimizer::state_buffers; ++k)
    for (const detail::trainable_slice& s : slices)
      arrays.push_back(detail::array_of<T>(detail::optimizer_array_name(s.tensor.name, optim::state_name<Optimizer>(k)),
                                           s.tensor.shape, {state + k * stride + s.offset, s.size}));
  if constexpr (optim::counts_updates<Optimizer>)
    arrays.push_back(detail::counter_array(detail::optimizer_count_name, std::uint64_t(t.optimizer().t)));
  arrays.push_back(detail::counter_array(detail::steps_name, t.steps()));
  arrays.push_back(detail::counter_array(detail::noise_seed_name, t.model().noise_seed()));
  const auto& average = access::average(t);
  if (average.active())
    for (const detail::trainable_slice& s : slices)
      arrays.push_back(detail::array_of<T>(detail::average_array_name(s.tensor.name), s.tensor.shape,
                                           average.values().subspan(s.offset, s.size)));
  for (io::npy_array& a : extra) {
    if (std::string_view(a.name).starts_with(optimizer_checkpoint_prefix) ||
        std::string_view(a.name).starts_with(trainer_checkpoint_prefix) || detail::find_array(arrays, a.name))
      throw std::invalid_argument("ctnn::save_trainer_checkpoint: the extra array '" + a.name +
                                  "' would take the name of the trainer's own; give it a prefix of its own");
    arrays.push_back(std::move(a));
  }
  io::write_npz(path, arrays);
}

/// Loads a trainer checkpoint into `t` (a trainer of the same network and
/// optimizer): afterwards step() continues the saved run bit for bit. With
/// averaging on, the average is loaded if the file has one, else restarted at
/// the loaded parameters; a saved average is ignored with averaging off. A
/// file with a model only is an error, or with
/// model_only_checkpoint::reset_optimizer a fresh start from its tensors.
template <class Graph, class Batch, class Optimizer, class T>
void load_trainer_checkpoint(const std::filesystem::path& path, trainer<Graph, Batch, Optimizer, T>& t,
                             model_only_checkpoint if_model_only = model_only_checkpoint::reject) {
  static_assert(!detail::uses_reserved_checkpoint_names<Graph>,
                "ctnn::load_trainer_checkpoint: a tensor name begins with \"optimizer/\" or \"trainer/\", which "
                "trainer checkpoints keep for their own arrays; rename the layer");
  using access = detail::trainer_checkpoint_access;
  const std::vector<io::npy_array> arrays = io::read_npz(path);
  const auto fail = [&](const std::string& why) {
    return detail::checkpoint_error("ctnn::load_trainer_checkpoint", path, why);
  };
  const auto model_copies = detail::plan_tensor_copies(arrays, t.model(), checkpoint_tensors<Graph>(), true, fail);
  const bool has_trainer_state = std::any_of(arrays.begin(), arrays.end(), [](const io::npy_array& a) {
    return a.name.starts_with(optimizer_checkpoint_prefix) || a.name.starts_with(trainer_checkpoint_prefix);
  });
  auto& state = access::optimizer_state(t);
  auto& average = access::average(t);
  const auto slices = detail::trainable_slices(t.model());

  if (!has_trainer_state) {
    if (if_model_only == model_only_checkpoint::reject)
      throw fail("holds a model but no trainer state (no optimizer/ or trainer/ arrays): load it with "
                 "ctnn::load_checkpoint(path, trainer.model()), or pass ctnn::model_only_checkpoint::reset_optimizer "
                 "to start the optimizer afresh from its tensors");
    detail::apply_copies(model_copies);
    std::fill(state.data(), state.data() + state.size(), T(0));
    if constexpr (optim::counts_updates<Optimizer>) t.optimizer().t = 0;
    access::steps(t) = 0;
    t.model().set_noise_seed(0);
    if (average.active()) average.reset(t.model().parameters());
    return;
  }

  std::vector<detail::planned_copy<T>> trainer_copies;
  constexpr std::size_t stride = optim::state_stride<T>(Graph::param_buffer_size);
  for (std::size_t k = 0; k < Optimizer::state_buffers; ++k)
    for (const detail::trainable_slice& s : slices) {
      const std::string name = detail::optimizer_array_name(s.tensor.name, optim::state_name<Optimizer>(k));
      const io::npy_array* a = detail::find_array(arrays, name);
      if (a == nullptr) {
        std::string keeps;
        for (std::size_t b = 0; b < Optimizer::state_buffers; ++b)
          keeps += (b ? ", " : "") + optim::state_name<Optimizer>(b);
        throw fail("no tensor '" + name + "' in the checkpoint: this trainer's optimizer keeps " + keeps +
                   " for each tensor, the checkpoint holds " + detail::held_buffers(arrays, s.tensor.name) +
                   " for " + std::string(s.tensor.name));
      }
      const std::span<T> target(state.data() + k * stride + s.offset, s.size);
      detail::check_array<T>(*a, s.tensor.shape, target, "trainer", fail);
      trainer_copies.push_back({a, target});
    }
  std::uint64_t updates = 0;
  if constexpr (optim::counts_updates<Optimizer>) updates = detail::read_counter(arrays, detail::optimizer_count_name, fail);
  const std::uint64_t steps = detail::read_counter(arrays, detail::steps_name, fail);
  const std::uint64_t noise_seed = detail::read_counter(arrays, detail::noise_seed_name, fail);
  const bool saved_average = std::any_of(arrays.begin(), arrays.end(), [](const io::npy_array& a) {
    return a.name.starts_with(detail::average_array_name(""));
  });
  if (average.active() && saved_average)
    for (const detail::trainable_slice& s : slices) {
      const std::string name = detail::average_array_name(s.tensor.name);
      const io::npy_array* a = detail::find_array(arrays, name);
      if (a == nullptr) throw fail("no tensor '" + name + "' in the checkpoint, which holds part of an average");
      const std::span<T> target = average.values().subspan(s.offset, s.size);
      detail::check_array<T>(*a, s.tensor.shape, target, "trainer", fail);
      trainer_copies.push_back({a, target});
    }

  // Everything checked: nothing below throws.
  detail::apply_copies(model_copies);
  std::fill(state.data(), state.data() + state.size(), T(0));  // the padding between tensors, as a new trainer's
  detail::apply_copies(trainer_copies);
  if constexpr (optim::counts_updates<Optimizer>) t.optimizer().t = decltype(t.optimizer().t)(updates);
  access::steps(t) = std::size_t(steps);
  t.model().set_noise_seed(noise_seed);
  if (average.active() && !saved_average) average.reset(t.model().parameters());
}

}  // namespace ctnn
