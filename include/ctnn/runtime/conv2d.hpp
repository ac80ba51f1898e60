/// @file conv2d.hpp
/// 2-D convolution y = W ∗ x + b over per-sample images [C, H, W] with
/// run-time sizes: the static conv2d's im2col, GEMMs and col2im
/// (ctnn/kernels/im2col.hpp, gemm.hpp), called with std::size_t instead of
/// fixed<N>. No activation: in the twin an activation is a node of its own.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/im2col.hpp"
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
  std::size_t cg_, og_, k_, hw_, hwo_;
  bool direct_;

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
        bias_(bias), cg_(g.c / o.groups), og_(out / o.groups), k_(cg_ * f * f), hw_(g.h * g.w), hwo_(g.ho * g.wo),
        direct_(f == 1 && o.stride == 1 && o.padding == 0) {
    declare({this->name() + ".weight", {out_, cg_, f_, f_}, weight_init, k_, og_ * f_ * f_, true});
    if (bias_) declare({this->name() + ".bias", {out_}, bias_init, k_, og_ * f_ * f_, false});
    // The im2col matrices of every sample are kept for the weight gradient;
    // backward needs one column gradient at a time.
    set_scratch(direct_ ? 0 : o.groups * k_ * hwo_);
    set_temp(direct_ ? 0 : k_ * hwo_);
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
    const std::size_t G = o_.groups;
    for (std::size_t b = 0; b < c.batch; ++b) {
      const float* x = c.in[0] + b * geo_.c * hw_;
      float* y = c.out + b * out_ * hwo_;
      for (std::size_t g = 0; g < G; ++g) {
        const float* col = x + g * cg_ * hw_;
        if (!direct_) {
          float* cc = c.scratch + (b * G + g) * k_ * hwo_;
          kernels::im2col(cg_, geo_.h, geo_.w, f_, o_.stride, o_.padding, o_.dilation, geo_.ho, geo_.wo, col, cc);
          col = cc;
        }
        kernels::gemm_nn(og_, hwo_, k_, c.param[0] + g * og_ * k_, col, y + g * og_ * hwo_);
      }
      // The bias is per row (channel) and the GEMM's epilogue per column:
      // one pass over each channel's plane, as the static op.
      if (bias_)
        for (std::size_t ch = 0; ch < out_; ++ch) {
          const float bc = c.param[1][ch];
          float* yc = y + ch * hwo_;
          kernels::map(hwo_, yc, [bc](auto v) { return v + bc; }, yc);
        }
    }
  }

  void backward(const backward_ctx& c) const override {
    const std::size_t G = o_.groups;
    if (c.param_grad(0))
      for (std::size_t b = 0; b < c.batch; ++b)
        for (std::size_t g = 0; g < G; ++g) {
          const float* col = direct_ ? c.in[0] + b * geo_.c * hw_ + g * cg_ * hw_ : c.scratch + (b * G + g) * k_ * hwo_;
          const float* gyg = c.dout + b * out_ * hwo_ + g * og_ * hwo_;
          float* dwg = c.dparam[0] + g * og_ * k_;
          if (b == 0 && !c.add_param(0)) kernels::gemm_nt<false>(og_, k_, hwo_, gyg, col, dwg);
          else kernels::gemm_nt<true>(og_, k_, hwo_, gyg, col, dwg);
        }
    if (bias_ && c.param_grad(1))
      for (std::size_t ch = 0; ch < out_; ++ch) {
        float s = 0;
        for (std::size_t b = 0; b < c.batch; ++b) s += kernels::sum(hwo_, c.dout + b * out_ * hwo_ + ch * hwo_);
        c.dparam[1][ch] = c.add_param(1) ? c.dparam[1][ch] + s : s;
      }
    if (c.input(0))
      with_accumulate(c.add_input(0), [&](auto add) {
        constexpr bool acc = decltype(add)::value;
        for (std::size_t b = 0; b < c.batch; ++b)
          for (std::size_t g = 0; g < G; ++g) {
            const float* wg = c.param[0] + g * og_ * k_;
            const float* gyg = c.dout + b * out_ * hwo_ + g * og_ * hwo_;
            float* dx = c.din[0] + b * geo_.c * hw_ + g * cg_ * hw_;
            if (direct_) {
              kernels::gemm_tn<acc>(k_, hwo_, og_, wg, gyg, dx);
            } else {
              kernels::gemm_tn(k_, hwo_, og_, wg, gyg, c.temp);
              kernels::col2im<acc>(cg_, geo_.h, geo_.w, f_, o_.stride, o_.padding, o_.dilation, geo_.ho, geo_.wo,
                                   c.temp, dx);
            }
          }
      });
  }
};

}  // namespace ctnn::runtime
