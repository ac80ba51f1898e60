/// @file loss.hpp
/// Losses, one value per sample, with the static rules (ctnn/ops/loss.hpp):
/// against a class label (softmax_cross_entropy, ...) or against a target of
/// the prediction's shape (squared_error, ...). The model takes the batch mean
/// and sums the loss roots, and seeds each root's gradient with 1/B, exactly
/// as the static model does.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

#include "ctnn/ops/loss.hpp"
#include "ctnn/runtime/io.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// Scores [classes] against a label of that many classes.
template <class Rule>
class label_loss_op final : public op {
  std::size_t n_;

 public:
  explicit label_loss_op(inputs x) : op(Rule::kind.view(), "", node_role::loss, {}, 2), n_(x[0]->size()) {
    const auto* lbl = dynamic_cast<const label_op*>(x[1]);
    if (lbl == nullptr)
      fail(std::string(Rule::kind.view()) + " takes a label as its second argument, but got " + x[1]->label());
    if (x[0]->shape().size() != 1 || n_ != lbl->classes())
      fail(std::string(Rule::kind.view()) + " needs one score per class of label '" + lbl->name() + "' (" +
           std::to_string(lbl->classes()) + "), but " + x[0]->label() + " gives " + to_string(x[0]->shape()));
    if (Rule::keeps_scratch) set_scratch(n_);
  }
  bool differentiable(std::size_t k) const override { return k == 0; }

  void forward(const forward_ctx& c) const override {
    ctnn::detail::label_loss_forward<Rule>(c.batch, n_, c.in[0], c.in[1], c.scratch, c.out);
  }
  void backward(const backward_ctx& c) const override {
    if (c.input(0))
      ctnn::detail::label_loss_backward<Rule>(c.batch, n_, c.in[0], c.in[1], c.scratch, c.dout, c.din[0],
                                              c.add_input(0));
  }
};

/// A prediction against a same-shaped target, summed over the elements.
template <class Rule>
class target_loss_op final : public op {
  std::size_t n_;
  // As on the static side, only the symmetric rules differentiate the target.
  static constexpr bool target_grad =
      std::is_same_v<Rule, loss_rule::squared_error> || std::is_same_v<Rule, loss_rule::l1>;

 public:
  explicit target_loss_op(inputs x) : op(Rule::kind.view(), "", node_role::loss, {}, 2), n_(x[0]->size()) {
    if (x[0]->shape() != x[1]->shape())
      fail(std::string(Rule::kind.view()) + " needs a target of the prediction's shape, but " + x[0]->label() +
           " gives " + to_string(x[0]->shape()) + " and " + x[1]->label() + " gives " + to_string(x[1]->shape()));
  }
  bool differentiable(std::size_t k) const override { return k == 0 || target_grad; }

  void forward(const forward_ctx& c) const override {
    ctnn::detail::target_loss_forward<Rule>(c.batch, n_, c.in[0], c.in[1], c.out);
  }
  void backward(const backward_ctx& c) const override {
    ctnn::detail::target_loss_backward<Rule>(c.batch, n_, c.in[0], c.in[1], c.dout, c.input(0) ? c.din[0] : nullptr,
                                             c.add_input(0), target_grad && c.input(1) ? c.din[1] : nullptr,
                                             c.add_input(1));
  }
};

}  // namespace ctnn::runtime
