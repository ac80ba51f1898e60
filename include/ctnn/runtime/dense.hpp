/// @file dense.hpp
/// The fully connected layer y = x·W + b with run-time sizes: the static
/// dense op's GEMMs and bias epilogue, called with std::size_t instead of
/// fixed<N>. No activation: in the twin an activation is a node of its own.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/ops/dense.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// Parameters "<name>.weight" [in, out] and, with a bias, "<name>.bias"
/// [out], initialized as the static layer's (by default He-normal, zeros).
/// A sequence [T, in] is T rows: [T, out].
class dense_op final : public op {
  std::size_t rows_, in_, out_;
  bool bias_;

  static std::vector<std::size_t> output_shape(inputs x, std::size_t out) {
    if (x[0]->shape().size() == 2) return {x[0]->shape()[0], out};
    return {out};
  }

 public:
  dense_op(inputs x, std::string name, std::size_t out, bool bias, initializer weight_init = init::he_normal::value,
           initializer bias_init = init::zeros::value)
      : op("dense", std::move(name), node_role::compute, output_shape(x, out), 1),
        rows_(x[0]->shape().size() == 2 ? x[0]->shape()[0] : 1),
        in_(x[0]->shape().empty() ? 1 : x[0]->shape().back()),
        out_(out),
        bias_(bias) {
    if (x[0]->shape().size() != 1 && x[0]->shape().size() != 2)
      fail("dense layer '" + this->name() + "' takes a flat input [features] or a sequence [steps, features], but " +
           x[0]->label() + " gives " + to_string(x[0]->shape()));
    if (out == 0) fail("dense layer '" + this->name() + "' needs at least one output");
    declare({this->name() + ".weight", {in_, out_}, weight_init, in_, out_, true});
    if (bias_) declare({this->name() + ".bias", {out_}, bias_init, in_, out_, false});
  }

  std::size_t in_features() const { return in_; }
  bool has_bias() const { return bias_; }

  void forward(const forward_ctx& c) const override {
    if (bias_) forward_with(c, ctnn::detail::bias_act_epilogue<float, act::identity, true>{c.param[1]});
    else forward_with(c, ctnn::detail::bias_act_epilogue<float, act::identity, false>{nullptr});
  }

  // Sequences of a batch of at most three take one row at a time, as the
  // static layer does (the calls ctnn::streaming makes for one step).
  template <class Epilogue>
  void forward_with(const forward_ctx& c, const Epilogue& ep) const {
    if (rows_ > 1 && c.batch <= kernels::detail::gemm::stream_rows_max)
      for (std::size_t r = 0; r < c.batch * rows_; ++r)
        kernels::gemm_nn(kernels::fixed<1>{}, out_, in_, c.in[0] + r * in_, c.param[0], c.out + r * out_, ep);
    else
      kernels::gemm_nn(c.batch * rows_, out_, in_, c.in[0], c.param[0], c.out, ep);
  }

  void backward(const backward_ctx& c) const override {
    if (c.param_grad(0))
      with_accumulate(c.add_param(0), [&](auto add) {
        kernels::gemm_tn<decltype(add)::value>(in_, out_, c.batch * rows_, c.in[0], c.dout, c.dparam[0]);
      });
    if (bias_ && c.param_grad(1))
      with_accumulate(c.add_param(1), [&](auto add) {
        kernels::column_sums<decltype(add)::value>(c.batch * rows_, out_, c.dout, c.dparam[1]);
      });
    if (c.input(0))
      with_accumulate(c.add_input(0), [&](auto add) {
        kernels::gemm_nt<decltype(add)::value>(c.batch * rows_, in_, out_, c.dout, c.param[0], c.din[0]);
      });
  }
};

}  // namespace ctnn::runtime
