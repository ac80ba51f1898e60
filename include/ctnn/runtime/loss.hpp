/// @file loss.hpp
/// Losses, one value per sample, with the static rules (ctnn/ops/loss.hpp):
/// against a class label (softmax_cross_entropy, ...) or against a target of
/// the prediction's shape (squared_error, ...), with the static ops' options
/// as a `loss_reduction` (ctnn/ops/loss_options.hpp). The op applies the
/// per-sample reduction itself; the batch reduction it only reports
/// (`batch_sum()`): the model takes the batch mean or sum of each loss root
/// and seeds the root's gradient with 1/B or 1, as the static model does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "ctnn/ops/loss.hpp"
#include "ctnn/ops/loss_options.hpp"
#include "ctnn/runtime/io.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

namespace detail {
/// Checks what the static side's option parser checks, as an exception
/// naming the loss, and makes the batch reduction a loss's (mean or sum).
inline loss_reduction checked_reduction(std::string_view kind, loss_reduction r, bool sums_elements, bool squared) {
  if (r.sample == sample_reduction::mean && !sums_elements)
    throw std::invalid_argument("ctnn::runtime: " + std::string(kind) +
                                " is not a sum over a sample's elements and takes no sample mean");
  if (!r.halved && !squared)
    throw std::invalid_argument("ctnn::runtime: only squared_error has a ½ to drop, not " + std::string(kind));
  if (r.batch == batch_reduction::unset) r.batch = batch_reduction::mean;
  return r;
}
}  // namespace detail

/// Scores [classes] against a label of that many classes, or scores
/// [steps, classes] against a sequence label (one class per step), the
/// steps' losses summed or, with `steps_mean`, averaged.
template <class Rule>
class label_loss_op final : public op {
  std::size_t n_, steps_;
  loss_reduction r_;

  static const label_op* label_of(inputs x) {
    const auto* lbl = dynamic_cast<const label_op*>(x[1]);
    if (lbl == nullptr)
      fail(std::string(Rule::kind.view()) + " takes a label as its second argument, but got " + x[1]->label());
    return lbl;
  }

 public:
  explicit label_loss_op(inputs x, loss_reduction r = {})
      : op(Rule::kind.view(), "", node_role::loss, {}, 2), n_(label_of(x)->classes()),
        steps_(std::max<std::size_t>(label_of(x)->steps(), 1)),
        r_(detail::checked_reduction(Rule::kind.view(), r, Rule::sums_classes, false)) {
    const label_op* lbl = label_of(x);
    const std::string kind(Rule::kind.view());
    if (lbl->steps() == 0) {
      if (x[0]->shape().size() != 1 || x[0]->size() != n_)
        fail(kind + " needs one score per class of label '" + lbl->name() + "' (" + std::to_string(n_) +
             "), but " + x[0]->label() + " gives " + to_string(x[0]->shape()));
      if (r_.steps_mean)
        fail(kind + " takes a mean over steps only against a sequence label, and label '" + lbl->name() +
             "' has one class per sample");
    } else if (x[0]->shape() != dims{steps_, n_}) {
      fail(kind + " needs scores [steps, classes] = " + to_string({steps_, n_}) + " for sequence label '" +
           lbl->name() + "' (" + std::to_string(steps_) + " steps of " + std::to_string(n_) + " classes), but " +
           x[0]->label() + " gives " + to_string(x[0]->shape()));
    }
    if (Rule::keeps_scratch) set_scratch(steps_ * n_);
    set_reduction(r_.batch);
  }
  const loss_reduction& options() const { return r_; }
  bool differentiable(std::size_t k) const override { return k == 0; }

  void forward(const forward_ctx& c) const override {
    ctnn::detail::label_loss_forward<Rule>(c.batch, n_, c.in[0], c.in[1], c.scratch, c.out, r_, steps_);
  }
  void backward(const backward_ctx& c) const override {
    if (c.input(0))
      ctnn::detail::label_loss_backward<Rule>(c.batch, n_, c.in[0], c.in[1], c.scratch, c.dout, c.din[0],
                                              c.add_input(0), r_, steps_);
  }
};

/// A prediction against a same-shaped target, summed (or averaged) over the
/// elements.
template <class Rule>
class target_loss_op final : public op {
  std::size_t n_;
  loss_reduction r_;
  // As on the static side, only the symmetric rules differentiate the target.
  static constexpr bool target_grad =
      std::is_same_v<Rule, loss_rule::squared_error> || std::is_same_v<Rule, loss_rule::l1>;

 public:
  explicit target_loss_op(inputs x, loss_reduction r = {})
      : op(Rule::kind.view(), "", node_role::loss, {}, 2), n_(x[0]->size()),
        r_(detail::checked_reduction(Rule::kind.view(), r, true, std::is_same_v<Rule, loss_rule::squared_error>)) {
    if (x[0]->shape() != x[1]->shape())
      fail(std::string(Rule::kind.view()) + " needs a target of the prediction's shape, but " + x[0]->label() +
           " gives " + to_string(x[0]->shape()) + " and " + x[1]->label() + " gives " + to_string(x[1]->shape()));
    set_reduction(r_.batch);
  }
  const loss_reduction& options() const { return r_; }
  bool differentiable(std::size_t k) const override { return k == 0 || target_grad; }

  void forward(const forward_ctx& c) const override {
    ctnn::detail::target_loss_forward<Rule>(c.batch, n_, c.in[0], c.in[1], c.out, r_);
  }
  void backward(const backward_ctx& c) const override {
    ctnn::detail::target_loss_backward<Rule>(c.batch, n_, c.in[0], c.in[1], c.dout, c.input(0) ? c.din[0] : nullptr,
                                             c.add_input(0), target_grad && c.input(1) ? c.din[1] : nullptr,
                                             c.add_input(1), r_);
  }
};

}  // namespace ctnn::runtime
