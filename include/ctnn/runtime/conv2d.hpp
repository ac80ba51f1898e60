/// @file conv2d.hpp
/// 2-D convolution y = W ∗ x + b over per-sample images [C, H, W] with
/// run-time sizes: the static conv2d's im2col algorithm
/// (ctnn/kernels/convolution.hpp), called with std::size_t sizes instead of
/// fixed<N>. No activation: in the twin an activation is a node of its own.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "ctnn/kernels/convolution.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/runtime/op.hpp"
#include "ctnn/runtime/window.hpp"

namespace ctnn::runtime {

/// Parameters "<name>.weight" [C_out, C_in/G, F, F] and, with a bias,
/// "<name>.bias" [C_out], initialized as the static layer's (by default
/// He-normal, zeros). Per sample and group one GEMM
/// W_g[C_out/G, C_in/G·F·F] · col[C_in/G·F·F, Ho·Wo]; a 1×1 convolution with
/// stride 1 and no padding multiplies the input itself.
class conv2d_op final : public op {
  struct geometry {
    std::size_t c, h, w, ho, wo;
  };
  geometry geo_;
  std::size_t out_, f_;
  conv_options o_;
  bool bias_;
  using sizes = decltype(kernels::conv::make_geometry(std::size_t{}, std::size_t{}, std::size_t{}, std::size_t{},
                                                       std::size_t{}, std::size_t{}, std::size_t{}, std::size_t{},
                                                       std::size_t{}, std::size_t{}, std::size_t{}));
  sizes sizes_;

  static geometry check(inputs x, const std::string& name, std::size_t out, std::size_t f, const conv_options& o) {
    const std::string who = "conv2d layer '" + name + "'";
    detail::require_image(who, *x[0]);
    const dims& in = x[0]->shape();
    if (out == 0 || f == 0) throw std::invalid_argument("ctnn::runtime: " + who + " needs at least one output channel and a filter of size 1 or more");
    if (o.dilation == 0) throw std::invalid_argument("ctnn::runtime: " + who + ": the dilation must be positive");
    if (o.groups == 0 || in[0] % o.groups != 0 || out % o.groups != 0)
      throw std::invalid_argument("ctnn::runtime: " + who + ": groups (" + std::to_string(o.groups) +
                                  ") must divide both the input channels (" + std::to_string(in[0]) +
                                  ", from " + x[0]->label() + ") and the output channels (" + std::to_string(out) +
                                  ")");
    const std::size_t fe = o.dilation * (f - 1) + 1;  // the dilated extent
    if (o.rounding == window_rounding::ceil)
      throw std::invalid_argument("ctnn::runtime: " + who + ": ceil rounding is for pooling only");
    return {in[0], in[1], in[2], detail::window_out(who, "height", in[1], fe, o.padding, o.stride, o.rounding),
            detail::window_out(who, "width", in[2], fe, o.padding, o.stride, o.rounding)};
  }
  conv2d_op(geometry g, std::string name, std::size_t out, std::size_t f, conv_options o, bool bias,
            initializer weight_init, initializer bias_init)
      : op("conv2d", std::move(name), node_role::compute, {out, g.ho, g.wo}, 1), geo_(g), out_(out), f_(f), o_(o),
        bias_(bias),
        sizes_(kernels::conv::make_geometry(g.c, g.h, g.w, out, f, o.stride, o.padding, o.dilation, o.groups, g.ho,
                                            g.wo)) {
    const std::size_t k = sizes_.inner(), og = sizes_.out_group();
    declare({this->name() + ".weight", {out_, k / (f_ * f_), f_, f_}, weight_init, k, og * f_ * f_, true});
    if (bias_) declare({this->name() + ".bias", {out_}, bias_init, k, og * f_ * f_, false});
    set_scratch(kernels::conv::scratch_per_sample(sizes_));
    set_temp(kernels::conv::room_per_sample(sizes_));
  }

 public:
  conv2d_op(inputs x, std::string name, std::size_t out, std::size_t filter, conv_options o = {}, bool bias = true,
            initializer weight_init = init::he_normal::value, initializer bias_init = init::zeros::value)
      : conv2d_op(check(x, name, out, filter, o), name, out, filter, o, bias, weight_init, bias_init) {}

  std::size_t in_channels() const { return geo_.c; }
  std::size_t filter() const { return f_; }
  const conv_options& options() const { return o_; }
  bool has_bias() const { return bias_; }

  void forward(const forward_ctx& c) const override {
    const std::size_t hwo = sizes_.out_plane();
    const auto add_bias = [&](float* y) {
      // The bias is per row (channel) and the GEMM's epilogue per column:
      // one pass over each channel's plane, as the static op.
      if (bias_)
        for (std::size_t ch = 0; ch < out_; ++ch) {
          const float bc = c.param[1][ch];
          float* yc = y + ch * hwo;
          kernels::map(hwo, yc, [bc](auto v) { return v + bc; }, yc);
        }
    };
    // The static layer's choice, made here at run time.
    if (kernels::conv::uses_winograd(sizes_, c.batch))
      kernels::conv::winograd_forward(sizes_, c.batch, c.in[0], c.param[0], c.scratch, c.out, add_bias);
    else
      kernels::conv::forward(sizes_, c.batch, c.in[0], c.param[0], c.scratch, c.out, add_bias);
  }

  void backward(const backward_ctx& c) const override {
    if (kernels::conv::uses_winograd(sizes_, c.batch)) {
      if (c.param_grad(0) || c.input(0))
        kernels::conv::winograd_backward(sizes_, c.batch, c.in[0], c.scratch, c.dout, c.dparam[0], c.din[0], c.temp,
                                         c.param_grad(0), c.add_param(0), c.input(0), c.add_input(0));
    } else {
      im2col_backward(c);
    }
    if (bias_ && c.param_grad(1))
      with_accumulate(c.add_param(1), [&](auto add) {
        kernels::conv::bias_gradient<decltype(add)::value>(sizes_, c.batch, c.dout, c.dparam[1]);
      });
  }

 private:
  void im2col_backward(const backward_ctx& c) const {
    // The weight gradient first: its halves use the temp room, which the
    // data gradient then takes for its column matrices.
    if (c.param_grad(0))
      with_accumulate(c.add_param(0), [&](auto add) {
        kernels::conv::weight_gradient<decltype(add)::value>(sizes_, c.batch, c.in[0], c.dout, c.dparam[0], c.temp);
      });
    if (c.input(0))
      with_accumulate(c.add_input(0), [&](auto add) {
        kernels::conv::data_gradient<decltype(add)::value>(sizes_, c.batch, c.param[0], c.dout, c.din[0], c.temp);
      });
  }
};

}  // namespace ctnn::runtime
