/// @file op.hpp
/// What every runtime op has in common: an object behind an abstract base,
/// with its sizes as members and one virtual forward and one virtual backward.
/// This is the cost a runtime graph pays by construction (an indirect call per
/// op and pass, loops over run-time sizes, no fusion across ops); everything
/// else (which gradients to compute, where every buffer lives) is decided once
/// when the model is built, so that the twin measures only that cost.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/ops/batch_reduction.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"
#include "ctnn/runtime/shape.hpp"

namespace ctnn::runtime {

/// A node of a runtime graph: its index in the graph's node list. A type of
/// its own so that `dense("fc", x, 256)` with the arguments swapped does not
/// compile.
struct node_id {
  std::size_t index = std::size_t(-1);
  friend bool operator==(node_id, node_id) = default;
};

inline constexpr std::size_t max_inputs = 4;
inline constexpr std::size_t max_params = 4;

/// A parameter an op declares: by name (the same name in two ops is one
/// tensor: tied weights), shape and initialization, as the static
/// `param_decl` but owning its strings.
struct param_spec {
  std::string name;
  dims shape;
  initializer init{init_kind::zeros};
  std::size_t fan_in = 1, fan_out = 1;
  bool regularize = true;
};

/// What an op's forward gets: the run-time batch size and pointers resolved
/// when the model was built (inputs fed by the caller are patched per call).
struct forward_ctx {
  std::size_t batch = 0;
  std::array<const float*, max_inputs> in{};
  float* out = nullptr;
  std::array<float*, max_params> param{};
  float* scratch = nullptr;
};

/// What an op's backward gets. `mode` has the static side's `grad_mode` bit
/// layout, decided at build time: which input and parameter gradients to
/// compute, and whether to overwrite or to add (fan-out, tied weights).
struct backward_ctx {
  std::size_t batch = 0;
  unsigned mode = 0;
  std::array<const float*, max_inputs> in{};
  const float* out = nullptr;
  const float* dout = nullptr;
  std::array<float*, max_inputs> din{};
  std::array<const float*, max_params> param{};
  std::array<float*, max_params> dparam{};
  const float* scratch = nullptr;
  float* temp = nullptr;

  bool input(std::size_t k) const { return grad_mode::wants_input(mode, k); }
  bool add_input(std::size_t k) const { return grad_mode::adds_to_input(mode, k); }
  bool param_grad(std::size_t j) const { return grad_mode::wants_param(mode, j); }
  bool add_param(std::size_t j) const { return grad_mode::adds_to_param(mode, j); }
};

/// Calls f(std::true_type) or f(std::false_type): a run-time overwrite/add
/// choice reaching a kernel's compile-time Accumulate flag.
template <class F>
inline void with_accumulate(bool add, F&& f) {
  if (add) f(std::true_type{});
  else f(std::false_type{});
}

/// The abstract op. A derived op checks its input shapes in its constructor
/// (std::invalid_argument naming the layer and the shapes), fixes its output
/// shape, parameters and per-sample scratch, and is immutable afterwards: a
/// graph may share it between models of different batch sizes.
class op {
 public:
  virtual ~op() = default;
  op(const op&) = delete;
  op& operator=(const op&) = delete;

  virtual void forward(const forward_ctx& c) const = 0;
  virtual void backward(const backward_ctx& c) const = 0;
  /// Whether backward can give input k a gradient (a loss's label cannot).
  virtual bool differentiable(std::size_t) const { return true; }

  std::string_view kind() const { return kind_; }
  const std::string& name() const { return name_; }
  node_role role() const { return role_; }
  const dims& shape() const { return out_; }
  std::size_t size() const { return size_; }  // per sample
  std::size_t arity() const { return arity_; }
  const std::vector<param_spec>& params() const { return params_; }
  std::size_t scratch_size() const { return scratch_; }  // per sample, kept from forward to backward
  std::size_t temp_size() const { return temp_; }        // per sample, during backward only
  /// As a loss root: whether the model sums this value over the batch (and
  /// seeds its gradient with 1) rather than averaging it (1/B).
  bool batch_sum() const { return reduction_ == batch_reduction::sum; }
  /// The batch reduction a loss chose, carried by scale and the elementwise
  /// ops; unset for a value derived from no loss.
  ctnn::batch_reduction reduction() const { return reduction_; }

  /// "'fc1' (dense)", or "relu" for an anonymous op: how messages name it.
  std::string label() const {
    return name_.empty() ? std::string(kind_) : "'" + name_ + "' (" + std::string(kind_) + ")";
  }

 protected:
  op(std::string_view kind, std::string name, node_role role, dims out, std::size_t arity)
      : kind_(kind), name_(std::move(name)), role_(role), out_(std::move(out)), size_(size_of(out_)),
        arity_(arity) {}

  void declare(param_spec p) { params_.push_back(std::move(p)); }
  void set_scratch(std::size_t n) { scratch_ = n; }
  void set_temp(std::size_t n) { temp_ = n; }
  void set_reduction(ctnn::batch_reduction r) { reduction_ = r; }

  /// The exception every shape check throws: "ctnn::runtime: <what>".
  [[noreturn]] static void fail(const std::string& what) { throw std::invalid_argument("ctnn::runtime: " + what); }

 private:
  std::string_view kind_;  // always a literal
  std::string name_;
  node_role role_;
  dims out_;
  std::size_t size_;
  std::size_t arity_;
  std::vector<param_spec> params_;
  std::size_t scratch_ = 0, temp_ = 0;
  ctnn::batch_reduction reduction_ = batch_reduction::unset;
};

/// The inputs an op's constructor sees: the ops producing them.
using inputs = std::span<const op* const>;

}  // namespace ctnn::runtime
