/// @file pool.hpp
/// Max and average pooling over per-sample images [C, H, W] with run-time
/// window, stride and padding, and global average pooling [C, H, W] → [C]:
/// the static ops' kernels (ctnn/kernels/pool.hpp) with run-time sizes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "ctnn/kernels/im2col.hpp"
#include "ctnn/kernels/pool.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/pool.hpp"
#include "ctnn/runtime/op.hpp"
#include "ctnn/runtime/window.hpp"

namespace ctnn::runtime {

/// F×F windows moved by S. Max pooling ignores padded positions and keeps
/// each output's winning input index (as a float) in its scratch for
/// backward, the first maximum winning a tie; average pooling divides by
/// F·F, padded zeros included (fewer for a ceil-mode window overhanging the
/// padded input). Anonymous, as on the static side.
class pool_op final : public op {
  struct geometry {
    std::size_t c, h, w, ho, wo;
  };
  pool_kind kind_;
  std::size_t f_, s_, p_;
  window_rounding r_;
  geometry geo_;

  static const char* kind_name(pool_kind k) { return k == pool_kind::max ? "max_pool" : "avg_pool"; }
  static geometry check(inputs x, pool_kind kind, std::size_t f, std::size_t s, std::size_t p, window_rounding r) {
    const std::string who = std::string(kind_name(kind)) + " " + std::to_string(f) + "x" + std::to_string(f) +
                            " after " + x[0]->label();
    detail::require_image(who, *x[0]);
    if (f == 0) throw std::invalid_argument("ctnn::runtime: " + who + ": the window must be positive");
    if (p >= f)
      throw std::invalid_argument("ctnn::runtime: " + who + ": a pooling window's padding (" + std::to_string(p) +
                                  ") must be smaller than the window (" + std::to_string(f) + ")");
    const dims& in = x[0]->shape();
    const geometry g{in[0], in[1], in[2], detail::window_out(who, "height", in[1], f, p, s, r),
                     detail::window_out(who, "width", in[2], f, p, s, r)};
    if (kind == pool_kind::max && g.h * g.w > (std::size_t(1) << 24))
      throw std::invalid_argument("ctnn::runtime: " + who + ": max pooling takes at most 2^24 pixels per plane");
    return g;
  }
  pool_op(pool_kind kind, std::size_t f, std::size_t s, std::size_t p, window_rounding r, geometry g)
      : op(kind_name(kind), "", node_role::compute, {g.c, g.ho, g.wo}, 1), kind_(kind), f_(f), s_(s), p_(p), r_(r),
        geo_(g) {
    if (kind == pool_kind::max) set_scratch(g.c * g.ho * g.wo);
  }

  kernels::window_geometry windows() const { return {geo_.h, geo_.w, f_, s_, p_, geo_.ho, geo_.wo}; }

 public:
  /// `opt.stride` 0 is the window.
  pool_op(inputs x, pool_kind kind, std::size_t window, pool_options opt = {})
      : pool_op(kind, window, opt.stride ? opt.stride : window, opt.padding, opt.rounding,
                check(x, kind, window, opt.stride ? opt.stride : window, opt.padding, opt.rounding)) {}

  pool_kind pooling() const { return kind_; }
  std::size_t window() const { return f_; }
  std::size_t stride() const { return s_; }
  std::size_t padding() const { return p_; }
  window_rounding rounding() const { return r_; }

  void forward(const forward_ctx& c) const override {
    if (kind_ == pool_kind::max)
      kernels::pool_forward_samples<true>(c.batch, geo_.c, windows(), c.in[0], c.out, c.scratch);
    else
      kernels::pool_forward_samples<false>(c.batch, geo_.c, windows(), c.in[0], c.out, c.scratch);
  }

  void backward(const backward_ctx& c) const override {
    if (!c.input(0)) return;
    if (kind_ == pool_kind::max)
      kernels::pool_backward_samples<true>(c.batch, geo_.c, windows(), c.dout, c.scratch, c.din[0], c.add_input(0));
    else
      kernels::pool_backward_samples<false>(c.batch, geo_.c, windows(), c.dout, c.scratch, c.din[0], c.add_input(0));
  }
};

/// The mean of each channel's plane: [C, H, W] → [C].
class global_avg_pool_op final : public op {
  std::size_t c_, hw_;

  static dims check(inputs x) {
    detail::require_image("global_avg_pool after " + x[0]->label(), *x[0]);
    return {x[0]->shape()[0]};
  }

 public:
  explicit global_avg_pool_op(inputs x)
      : op("global_avg_pool", "", node_role::compute, check(x), 1), c_(x[0]->shape()[0]),
        hw_(x[0]->shape()[1] * x[0]->shape()[2]) {}

  void forward(const forward_ctx& c) const override {
    const float inv = 1.0f / float(hw_);
    for (std::size_t p = 0; p < c.batch * c_; ++p) c.out[p] = kernels::sum(hw_, c.in[0] + p * hw_) * inv;
  }
  void backward(const backward_ctx& c) const override {
    if (!c.input(0)) return;
    const float inv = 1.0f / float(hw_);
    const bool add = c.add_input(0);
    for (std::size_t p = 0; p < c.batch * c_; ++p) {
      const float g = c.dout[p] * inv;
      float* dx = c.din[0] + p * hw_;
      if (add) kernels::map(hw_, dx, [g](auto v) { return v + g; }, dx);
      else std::fill_n(dx, hw_, g);
    }
  }
};

}  // namespace ctnn::runtime
