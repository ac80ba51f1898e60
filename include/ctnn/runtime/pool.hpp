/// @file pool.hpp
/// Max and average pooling over per-sample images [C, H, W] with run-time
/// window, stride and padding, and global average pooling [C, H, W] → [C]:
/// the static ops' loops (ctnn/ops/pool.hpp) over run-time sizes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "ctnn/kernels/im2col.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/pool.hpp"
#include "ctnn/runtime/op.hpp"
#include "ctnn/runtime/window.hpp"

namespace ctnn::runtime {

/// F×F windows moved by S. Max pooling ignores padded positions and keeps
/// each output's winning input index (as a float) in its scratch for
/// backward, the first maximum winning a tie; average pooling divides by
/// F·F, padded zeros included. Anonymous, as on the static side.
class pool_op final : public op {
  struct geometry {
    std::size_t c, h, w, ho, wo;
  };
  pool_kind kind_;
  std::size_t f_, s_, p_;
  geometry geo_;
  std::size_t hw_, hwo_;

  static const char* kind_name(pool_kind k) { return k == pool_kind::max ? "max_pool" : "avg_pool"; }
  static geometry check(inputs x, pool_kind kind, std::size_t f, std::size_t s, std::size_t p) {
    const std::string who = std::string(kind_name(kind)) + " " + std::to_string(f) + "x" + std::to_string(f) +
                            " after " + x[0]->label();
    detail::require_image(who, *x[0]);
    if (f == 0) throw std::invalid_argument("ctnn::runtime: " + who + ": the window must be positive");
    if (p >= f)
      throw std::invalid_argument("ctnn::runtime: " + who + ": a pooling window's padding (" + std::to_string(p) +
                                  ") must be smaller than the window (" + std::to_string(f) + ")");
    const dims& in = x[0]->shape();
    const geometry g{in[0], in[1], in[2], detail::window_out(who, "height", in[1], f, p, s),
                     detail::window_out(who, "width", in[2], f, p, s)};
    if (kind == pool_kind::max && g.h * g.w > (std::size_t(1) << 24))
      throw std::invalid_argument("ctnn::runtime: " + who + ": max pooling takes at most 2^24 pixels per plane");
    return g;
  }
  pool_op(pool_kind kind, std::size_t f, std::size_t s, std::size_t p, geometry g)
      : op(kind_name(kind), "", node_role::compute, {g.c, g.ho, g.wo}, 1), kind_(kind), f_(f), s_(s), p_(p), geo_(g),
        hw_(g.h * g.w), hwo_(g.ho * g.wo) {
    if (kind == pool_kind::max) set_scratch(g.c * hwo_);
  }

  // The window of output o clipped to the image: [lo, hi).
  std::size_t lo(std::size_t o) const { return o * s_ < p_ ? 0 : o * s_ - p_; }
  std::size_t hi(std::size_t o, std::size_t n) const { return std::min(n, o * s_ + f_ - p_); }

 public:
  /// `opt.stride` 0 is the window.
  pool_op(inputs x, pool_kind kind, std::size_t window, pool_options opt = {})
      : pool_op(kind, window, opt.stride ? opt.stride : window, opt.padding,
                check(x, kind, window, opt.stride ? opt.stride : window, opt.padding)) {}

  pool_kind pooling() const { return kind_; }
  std::size_t window() const { return f_; }
  std::size_t stride() const { return s_; }
  std::size_t padding() const { return p_; }

  void forward(const forward_ctx& c) const override {
    const std::size_t H = geo_.h, W = geo_.w, Ho = geo_.ho, Wo = geo_.wo;
    const float inv = 1.0f / float(f_ * f_);
    for (std::size_t p = 0; p < c.batch * geo_.c; ++p) {
      const float* x = c.in[0] + p * hw_;
      float* y = c.out + p * hwo_;
      for (std::size_t oy = 0; oy < Ho; ++oy)
        for (std::size_t ox = 0; ox < Wo; ++ox) {
          const std::size_t y0 = lo(oy), y1 = hi(oy, H), x0 = lo(ox), x1 = hi(ox, W);
          if (kind_ == pool_kind::max) {
            std::size_t best = y0 * W + x0;
            for (std::size_t iy = y0; iy < y1; ++iy)
              for (std::size_t ix = x0; ix < x1; ++ix)
                if (x[iy * W + ix] > x[best]) best = iy * W + ix;
            y[oy * Wo + ox] = x[best];
            c.scratch[p * hwo_ + oy * Wo + ox] = float(best);
          } else {
            float s = 0;
            for (std::size_t iy = y0; iy < y1; ++iy)
              for (std::size_t ix = x0; ix < x1; ++ix) s += x[iy * W + ix];
            y[oy * Wo + ox] = s * inv;
          }
        }
    }
  }

  void backward(const backward_ctx& c) const override {
    if (!c.input(0)) return;
    const std::size_t H = geo_.h, W = geo_.w, Ho = geo_.ho, Wo = geo_.wo;
    const float inv = 1.0f / float(f_ * f_);
    // Windows may overlap (S < F): every input gathers from all of its
    // windows, so the plane is cleared first unless it accumulates.
    if (!c.add_input(0)) std::fill_n(c.din[0], c.batch * geo_.c * hw_, 0.0f);
    for (std::size_t p = 0; p < c.batch * geo_.c; ++p) {
      float* dx = c.din[0] + p * hw_;
      const float* dy = c.dout + p * hwo_;
      if (kind_ == pool_kind::max) {
        const float* win = c.scratch + p * hwo_;
        for (std::size_t o = 0; o < hwo_; ++o) dx[std::size_t(win[o])] += dy[o];
      } else {
        for (std::size_t oy = 0; oy < Ho; ++oy)
          for (std::size_t ox = 0; ox < Wo; ++ox) {
            const float g = dy[oy * Wo + ox] * inv;
            for (std::size_t iy = lo(oy); iy < hi(oy, H); ++iy)
              for (std::size_t ix = lo(ox); ix < hi(ox, W); ++ix) dx[iy * W + ix] += g;
          }
      }
    }
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
