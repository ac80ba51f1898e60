/// @file window.hpp
/// What the twin's convolution and pooling share: their options as run-time
/// values and the output-size rule (W − F + 2P)/S + 1 of ctnn/ops/window.hpp,
/// checked when a node is added (std::invalid_argument naming the layer and
/// giving W, F, P and S) where the static side checks it at compile time.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/ops/window.hpp"
#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// conv2d's window: `{.stride = 2, .padding = 1}`, or positionally
/// `{stride, padding, dilation, groups, rounding}`.
struct conv_options {
  std::size_t stride = 1;
  std::size_t padding = 0;
  std::size_t dilation = 1;  // taps D apart: the window's extent is D·(F − 1) + 1
  std::size_t groups = 1;    // independent convolutions over C_in/G channels each
  window_rounding rounding = window_rounding::exact;  // floor: drop a last partial window (ceil is for pooling)
};

/// A pooling window's stride and padding; a stride of 0 means the window
/// (non-overlapping windows, the static side's default).
struct pool_options {
  std::size_t stride = 0;
  std::size_t padding = 0;
  window_rounding rounding = window_rounding::exact;  // floor or ceil: windows that need not tile the input
};

namespace detail {

/// An image input [C, H, W], or std::invalid_argument: "<who> takes ...".
inline void require_image(const std::string& who, const op& x) {
  if (x.shape().size() != 3)
    throw std::invalid_argument("ctnn::runtime: " + who + " takes a per-sample image [channels, height, width], but " +
                                x.label() + " gives " + to_string(x.shape()));
}

/// The output size along `axis` of a window of extent f moved by s over w
/// inputs with p padding on each side: (w − f + 2p)/s + 1, which must be
/// whole unless rounded.
inline std::size_t window_out(const std::string& who, const char* axis, std::size_t w, std::size_t f, std::size_t p,
                              std::size_t s, window_rounding r = window_rounding::exact) {
  const std::string values = "W = " + std::to_string(w) + ", F = " + std::to_string(f) + ", P = " +
                             std::to_string(p) + ", S = " + std::to_string(s);
  if (s == 0) throw std::invalid_argument("ctnn::runtime: " + who + ": the stride must be positive (" + values + ")");
  if (f > w + 2 * p)
    throw std::invalid_argument("ctnn::runtime: " + who + ": along the " + axis + ", the window (extent F, " +
                                "D(F-1)+1 when dilated) is larger than the padded input, so W - F + 2P < 0 (" +
                                values + ")");
  if (r == window_rounding::exact && (w + 2 * p - f) % s != 0)
    throw std::invalid_argument("ctnn::runtime: " + who + ": along the " + axis + ", W - F + 2P = " +
                                std::to_string(w + 2 * p - f) + " is not divisible by the stride S, so the output " +
                                "size (W - F + 2P)/S + 1 is not whole (" + values + "); to round it, set the " +
                                "options' rounding to floor (or, for pooling, ceil)");
  return ::ctnn::detail::window_out(w, f, p, s, r);
}

}  // namespace detail

}  // namespace ctnn::runtime
