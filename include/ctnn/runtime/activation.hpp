/// @file activation.hpp
/// Pointwise activations and softmax as nodes of their own: one pass over
/// memory forward and one backward, where the static side folds the
/// activation into the dense layer's GEMM. The functions and derivatives are
/// the static ones (ctnn/ops/activation_functions.hpp), on the same vectors.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/activation.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// leaky_relu with its slope as a run-time value: the formula of
/// act::leaky_relu<Slope>, which takes the slope as a template argument.
struct leaky_relu_fn {
  float slope = 0.01f;
  template <class V>
  V apply(V x) const {
    using S = act::detail::scalar_of<V>;
    return act::detail::where_positive<V, S>(x, x, V(S(slope)) * x);
  }
  template <class V>
  V derivative(V y) const {
    using S = act::detail::scalar_of<V>;
    return act::detail::where_positive<V, S>(y, V(1), V(S(slope)));
  }
};

/// y = f(x) elementwise; the gradient through f's derivative expressed by y.
template <class F>
class pointwise_op final : public op {
  F f_;

 public:
  pointwise_op(inputs x, std::string_view kind, F f = {})
      : op(kind, "", node_role::compute, x[0]->shape(), 1), f_(f) {}

  void forward(const forward_ctx& c) const override {
    const F f = f_;
    kernels::map(c.batch * size(), c.out, [f](auto x) { return f.apply(x); }, c.in[0]);
  }
  void backward(const backward_ctx& c) const override {
    if (!c.input(0)) return;
    const F f = f_;
    with_accumulate(c.add_input(0), [&](auto add) {
      kernels::map_into<decltype(add)::value>(
          c.batch * size(), c.din[0], [f](auto d, auto y) { return d * f.derivative(y); }, c.dout, c.out);
    });
  }
};

/// Softmax over a flat per-sample vector, exp(x − max x) / sum, as ctnn::softmax.
class softmax_op final : public op {
 public:
  explicit softmax_op(inputs x) : op("softmax", "", node_role::compute, x[0]->shape(), 1) {
    if (x[0]->shape().size() != 1)
      fail("softmax takes a flat vector, but " + x[0]->label() + " gives " + to_string(x[0]->shape()));
  }

  void forward(const forward_ctx& c) const override { ctnn::detail::softmax_rows(c.batch, size(), c.in[0], c.out); }
  void backward(const backward_ctx& c) const override {
    if (c.input(0)) ctnn::detail::softmax_rows_backward(c.batch, size(), c.out, c.dout, c.din[0], c.add_input(0));
  }
};

}  // namespace ctnn::runtime
