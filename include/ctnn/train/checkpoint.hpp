/// @file checkpoint.hpp
/// Checkpoints: a model's parameters and non-trainable state, by name, in an
/// .npz file (ctnn/io/npz.hpp), and loading all of them, a chosen subset, or
/// every tensor two networks share by name (transfer learning).
///
/// An archive holds one array per tensor: every trainable parameter (tied
/// ones once) and every state tensor (batch norm's running statistics), named
/// as in the network ("fc1.weight", "bn1.running_mean"), with its shape and
/// the model's scalar type ("<f4" or "<f8"). numpy reads it with
/// `np.load(path)`; `np.savez` writes archives this reads.
///
/// Loading checks everything before it changes anything: a missing file, a
/// file that is not an .npz, a name the checkpoint lacks, a shape or a dtype
/// that differs all throw (ctnn::io::data_error, naming the file and the
/// tensor, e.g. "fc1.weight: checkpoint has [784, 128], network expects
/// [784, 256]") and leave the model as it was. A requested name the network
/// does not have is a caller's error: std::invalid_argument, listing the
/// network's names. Arrays the network does not have are ignored, so a
/// trainer checkpoint (ctnn/train/trainer_checkpoint.hpp: the same tensors
/// plus the optimizer's state) loads into a model.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/io/npz.hpp"
#include "ctnn/train/regularization.hpp"

namespace ctnn {

/// One tensor of a network as a checkpoint sees it.
struct named_tensor {
  std::string_view name;
  std::vector<std::size_t> shape;
  bool trainable = true;
};

/// Every tensor a checkpoint of `Graph` holds: the trainable parameters (tied
/// ones once, trainable_tensors<Graph>), then the state, each group by name.
template <class Graph>
std::vector<named_tensor> checkpoint_tensors() {
  const auto dims = [](const shape_info& s) { return std::vector<std::size_t>(s.dims.begin(), s.dims.begin() + s.rank); };
  std::vector<named_tensor> out;
  for (const param_entry& e : trainable_tensors<Graph>) out.push_back({e.name, dims(e.shape), true});
  std::vector<std::size_t> seen;  // state offsets: a tied state tensor once
  for (std::size_t i = 0; i < Graph::node_count; ++i)
    for (std::size_t j = 0; j < Graph::plan.nodes[i].param_count; ++j) {
      const param_decl& d = Graph::plan.nodes[i].params[j];
      const std::size_t offset = Graph::plan.param_offset[i][j];
      if (d.trainable || d.shape.size() == 0 || std::find(seen.begin(), seen.end(), offset) != seen.end()) continue;
      seen.push_back(offset);
      out.push_back({d.name, dims(d.shape), false});
    }
  // By name within each group: the order a person reads in files and messages
  // (the buffer order follows the planner's name hashes).
  const auto by_name = [](const named_tensor& a, const named_tensor& b) { return a.name < b.name; };
  const auto first_state = std::find_if(out.begin(), out.end(), [](const named_tensor& t) { return !t.trainable; });
  std::sort(out.begin(), first_state, by_name);
  std::sort(first_state, out.end(), by_name);
  return out;
}

namespace detail {

/// "fc1" names the layer's tensors ("fc1.weight", "fc1.bias"); a full name
/// names one.
inline bool names_tensor(std::string_view tensor, std::string_view pattern) {
  return tensor == pattern ||
         (tensor.size() > pattern.size() && tensor.starts_with(pattern) && tensor[pattern.size()] == '.');
}

inline std::string join_names(const std::vector<std::string_view>& names) {
  std::string s;
  for (std::string_view n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s.empty() ? "(none)" : s;
}

/// An array of `data` under `name`, with the given shape and T's dtype.
template <class T>
io::npy_array array_of(std::string name, std::vector<std::size_t> shape, std::span<const T> data) {
  io::npy_array a{std::move(name), io::npy_dtype<T>(), std::move(shape), {}};
  a.bytes.resize(data.size_bytes());
  std::memcpy(a.bytes.data(), data.data(), data.size_bytes());
  return a;
}

/// Every parameter and state tensor of `m`, as save_checkpoint writes them.
template <class Model>
std::vector<io::npy_array> model_arrays(Model& m) {
  using T = typename Model::value_type;
  std::vector<io::npy_array> arrays;
  for (const named_tensor& t : checkpoint_tensors<typename Model::graph_type>())
    arrays.push_back(array_of<T>(std::string(t.name), t.shape, m.param_span(t.name)));
  return arrays;
}

}  // namespace detail

/// Saves every parameter and state tensor of `m` to `path` (.npz), replacing
/// the file atomically (written to `path`.tmp, flushed, then renamed, and the
/// directory flushed); a `path`.tmp left by a killed save is replaced, never
/// written through.
template <class Model>
void save_checkpoint(const std::filesystem::path& path, Model& m) {
  io::write_npz(path, detail::model_arrays(m));
}

/// The names, dtypes and shapes an .npz file holds (the bytes too).
inline std::vector<io::npy_array> read_checkpoint(const std::filesystem::path& path) { return io::read_npz(path); }

namespace detail {

/// An error of `caller` ("ctnn::load_checkpoint") about the file at `path`.
inline io::data_error checkpoint_error(std::string_view caller, const std::filesystem::path& path,
                                       const std::string& why) {
  return io::data_error(std::string(caller) + ": '" + path.string() + "': " + why);
}

inline const io::npy_array* find_array(const std::vector<io::npy_array>& arrays, std::string_view name) {
  const auto it = std::find_if(arrays.begin(), arrays.end(), [&](const io::npy_array& a) { return a.name == name; });
  return it == arrays.end() ? nullptr : &*it;
}

/// Throws unless `a` has the shape and the dtype of `target`, whose owner
/// ("network", "trainer") expects them.
template <class T>
void check_array(const io::npy_array& a, const std::vector<std::size_t>& shape, std::span<const T> target,
                 std::string_view owner, const auto& fail) {
  if (a.shape != shape)
    throw fail(a.name + ": checkpoint has " + io::detail::shape_text(a.shape) + ", " + std::string(owner) +
               " expects " + io::detail::shape_text(shape));
  if (a.dtype != io::npy_dtype<T>())
    throw fail(a.name + ": checkpoint has dtype " + a.dtype + ", " + std::string(owner) + " expects " +
               io::npy_dtype<T>() + (std::is_same_v<T, float> ? " (float)" : std::is_same_v<T, double> ? " (double)" : ""));
  // read_npz already matched the bytes to the shape; checked again because
  // the copy trusts it with the target's memory.
  if (a.bytes.size() != target.size_bytes())
    throw fail(a.name + ": checkpoint holds " + std::to_string(a.bytes.size()) + " bytes, " + std::string(owner) +
               " expects " + std::to_string(target.size_bytes()));
}

/// One checked copy from an archive into a model's or a trainer's memory.
template <class T>
struct planned_copy {
  const io::npy_array* source;
  std::span<T> target;
};

template <class T>
void apply_copies(const std::vector<planned_copy<T>>& copies) {
  for (const planned_copy<T>& c : copies) std::memcpy(c.target.data(), c.source->bytes.data(), c.target.size_bytes());
}

inline std::string held_names(const std::vector<io::npy_array>& arrays) {
  std::vector<std::string_view> held;
  for (const io::npy_array& a : arrays) held.push_back(a.name);
  return join_names(held);
}

// Checks the chosen tensors of the model against the archive, changing
// nothing; `required`: a chosen tensor missing from the archive is an error
// (otherwise it is skipped). Returns the copies to make.
template <class Model>
std::vector<planned_copy<typename Model::value_type>> plan_tensor_copies(
    const std::vector<io::npy_array>& arrays, Model& m, const std::vector<named_tensor>& chosen, bool required,
    const auto& fail) {
  using T = typename Model::value_type;
  std::vector<planned_copy<T>> copies;
  for (const named_tensor& t : chosen) {
    const io::npy_array* a = find_array(arrays, t.name);
    if (a == nullptr) {
      if (!required) continue;
      throw fail("no tensor '" + std::string(t.name) + "' in the checkpoint; it holds: " + held_names(arrays));
    }
    const std::span<T> target = m.param_span(t.name);
    check_array<T>(*a, t.shape, target, "network", fail);
    copies.push_back({a, target});
  }
  return copies;
}

// Copies the chosen tensors from the archive into the model, after checking
// all of them. Returns the names loaded.
template <class Model>
std::vector<std::string> load_tensors(const std::filesystem::path& path, Model& m,
                                      const std::vector<named_tensor>& chosen, bool required) {
  const std::vector<io::npy_array> arrays = io::read_npz(path);
  const auto fail = [&](const std::string& why) { return checkpoint_error("ctnn::load_checkpoint", path, why); };
  const auto copies = plan_tensor_copies(arrays, m, chosen, required, fail);
  apply_copies(copies);
  std::vector<std::string> loaded;
  for (const auto& c : copies) loaded.push_back(c.source->name);
  return loaded;
}

}  // namespace detail

/// Loads every tensor of the network from `path`; each must be in the file
/// with the network's shape and scalar type. Returns the names loaded.
template <class Model>
std::vector<std::string> load_checkpoint(const std::filesystem::path& path, Model& m) {
  return detail::load_tensors(path, m, checkpoint_tensors<typename Model::graph_type>(), true);
}

/// Loads the named tensors: full names ("fc1.weight") or layer names ("fc1":
/// every tensor of that layer, "bn1": γ, β and the running statistics).
/// A name the network does not have throws std::invalid_argument listing the
/// network's tensors; one the checkpoint lacks throws io::data_error.
template <class Model>
std::vector<std::string> load_checkpoint(const std::filesystem::path& path, Model& m,
                                         const std::vector<std::string>& names) {
  const std::vector<named_tensor> all = checkpoint_tensors<typename Model::graph_type>();
  std::vector<named_tensor> chosen;
  for (const std::string& n : names) {
    bool any = false;
    for (const named_tensor& t : all)
      if (detail::names_tensor(t.name, n)) {
        any = true;
        if (std::none_of(chosen.begin(), chosen.end(), [&](const named_tensor& c) { return c.name == t.name; }))
          chosen.push_back(t);
      }
    if (!any) {
      std::vector<std::string_view> have;
      for (const named_tensor& t : all) have.push_back(t.name);
      throw std::invalid_argument("ctnn::load_checkpoint: the network has no tensor or layer named '" + n +
                                  "'; it has: " + detail::join_names(have));
    }
  }
  return detail::load_tensors(path, m, chosen, true);
}

/// Transfer learning: loads every tensor whose name both the network and the
/// checkpoint have (shapes and types must match), and leaves the others as
/// they are. Returns the names loaded.
template <class Model>
std::vector<std::string> load_shared_parameters(const std::filesystem::path& path, Model& m) {
  return detail::load_tensors(path, m, checkpoint_tensors<typename Model::graph_type>(), false);
}

}  // namespace ctnn
