/// @file elementwise.hpp
/// add, subtract, multiply of two same-shaped values, and scale by a run-time
/// constant: the static rules (ctnn/ops/elementwise.hpp) over run-time sizes.
#pragma once

#include <cstddef>
#include <string>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/elementwise.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// Rule: ctnn::detail::add_rule, subtract_rule, multiply_rule, divide_rule.
template <class Rule>
class binary_op final : public op {
 public:
  explicit binary_op(inputs x) : op(Rule::kind.view(), "", node_role::compute, x[0]->shape(), 2) {
    if (x[0]->shape() != x[1]->shape())
      fail(std::string(Rule::kind.view()) + " needs operands of the same shape, but " + x[0]->label() + " gives " +
           to_string(x[0]->shape()) + " and " + x[1]->label() + " gives " + to_string(x[1]->shape()));
    const combined_reduction r = combine(x[0]->reduction(), x[1]->reduction());
    if (r.conflict)
      fail(std::string(Rule::kind.view()) + " combines a loss " + (x[0]->batch_sum() ? "summed" : "averaged") +
           " over the batch (" + x[0]->label() + ") with one " + (x[1]->batch_sum() ? "summed" : "averaged") +
           " over it (" + x[1]->label() + "); give both the same batch reduction, or make them separate loss roots");
    set_reduction(r.value);
  }

  void forward(const forward_ctx& c) const override {
    kernels::map(c.batch * size(), c.out, [](auto a, auto b) { return Rule::apply(a, b); }, c.in[0], c.in[1]);
  }
  void backward(const backward_ctx& c) const override {
    const std::size_t n = c.batch * size();
    if (c.input(0))
      with_accumulate(c.add_input(0), [&](auto add) {
        kernels::map_into<decltype(add)::value>(
            n, c.din[0], [](auto d, auto a, auto b) { return Rule::da(d, a, b); }, c.dout, c.in[0], c.in[1]);
      });
    if (c.input(1))
      with_accumulate(c.add_input(1), [&](auto add) {
        kernels::map_into<decltype(add)::value>(
            n, c.din[1], [](auto d, auto a, auto b) { return Rule::db(d, a, b); }, c.dout, c.in[0], c.in[1]);
      });
  }
};

/// y = factor·x, e.g. to weight a loss.
class scale_op final : public op {
  float factor_;

 public:
  scale_op(inputs x, float factor) : op("scale", "", node_role::compute, x[0]->shape(), 1), factor_(factor) {
    set_reduction(x[0]->reduction());  // a weighted loss is reduced over the batch as the loss is
  }
  float factor() const { return factor_; }

  void forward(const forward_ctx& c) const override {
    const float f = factor_;
    kernels::map(c.batch * size(), c.out, [f](auto x) { return x * decltype(x)(f); }, c.in[0]);
  }
  void backward(const backward_ctx& c) const override {
    if (!c.input(0)) return;
    const float f = factor_;
    with_accumulate(c.add_input(0), [&](auto add) {
      kernels::map_into<decltype(add)::value>(c.batch * size(), c.din[0],
                                              [f](auto d) { return d * decltype(d)(f); }, c.dout);
    });
  }
};

}  // namespace ctnn::runtime
