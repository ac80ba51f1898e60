/// @file io.hpp
/// The leaves of a runtime graph: named inputs, read in place from the
/// caller's memory, and labels, converted to float into their own tensor.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// A per-sample tensor fed by the caller. Never scheduled: the model points
/// its consumers at the caller's data.
class input_op final : public op {
  bool requires_grad_;

 public:
  input_op(inputs, std::string name, dims shape, bool requires_grad = false)
      : op("input", std::move(name), node_role::input, std::move(shape), 0), requires_grad_(requires_grad) {}
  /// Whether backward also computes this input's gradient (model::input_grad).
  bool requires_grad() const { return requires_grad_; }
  void forward(const forward_ctx&) const override {}
  void backward(const backward_ctx&) const override {}
};

/// A class index in [0, classes) per sample, stored as a float; with
/// `steps`, one per step of a sequence ([steps]), as ctnn::label<name, K, T>.
class label_op final : public op {
  std::size_t classes_, steps_;

 public:
  label_op(inputs, std::string name, std::size_t classes, std::size_t steps = 0)
      : op("label", std::move(name), node_role::label, steps == 0 ? dims{} : dims{steps}, 0), classes_(classes),
        steps_(steps) {
    if (classes < 2) fail("label '" + this->name() + "' needs at least two classes, got " + std::to_string(classes));
  }
  std::size_t classes() const { return classes_; }
  std::size_t steps() const { return steps_; }  // 0: one class per sample
  void forward(const forward_ctx&) const override {}
  void backward(const backward_ctx&) const override {}
};

}  // namespace ctnn::runtime
