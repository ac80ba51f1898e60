/// @file window.hpp
/// What the twin's convolution and pooling share: their options as run-time
/// values and the output-size rule (W − F + 2P)/S + 1 of ctnn/ops/window.hpp,
/// checked when a node is added (std::invalid_argument naming the layer and
/// giving W, F, P and S) where the static side checks it at compile time.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "ctnn/runtime/op.hpp"

namespace ctnn::runtime {

/// conv2d's window: `{.stride = 2, .padding = 1}`, or positionally
/// `{stride, padding, dilation, groups}`.
struct conv_options {
  std::size_t stride = 1;
  std::size_t padding = 0;
  std::size_t dilation = 1;  // taps D apart: the window's extent is D·(F − 1) + 1
  std::size_t groups = 1;    // independent convolutions over C_in/G channels each
};

/// A pooling window's stride and padding; a stride of 0 means the window
/// (non-overlapping windows, the static side's default).
struct pool_options {
  std::size_t stride = 0;
  std::size_t padding = 0;
};

namespace detail {

/// An image input [C, H, W], or std::invalid_argument: "<who> takes ...".
inline void require_image(const std::string& who, const op& x) {
  if (x.shape().size() != 3)
    throw std::invalid_argument("ctnn::runtime: " + who + " takes a per-sample image [channels, height, width], but " +
                                x.label() + " gives " + to_string(x.shape()));
}

/// The output size along `axis` of a window of extent f moved by s over w
/// inputs with p padding on each side: (w − f + 2p)/s + 1, which must be whole.
inline std::size_t window_out(const std::string& who, const char* axis, std::size_t w, std::size_t f, std::size_t p,
                              std::size_t s) {
  const std::string values = "W = " + std::to_string(w) + ", F = " + std::to_string(f) + ", P = " +
                             std::to_string(p) + ", S = " + std::to_string(s);
  if (s == 0) throw std::invalid_argument("ctnn::runtime: " + who + ": the stride must be positive (" + values + ")");
  if (f > w + 2 * p)
    throw std::invalid_argument("ctnn::runtime: " + who + ": along the " + axis + ", the window (extent F, " +
                                "D(F-1)+1 when dilated) is larger than the padded input, so W - F + 2P < 0 (" +
                                values + ")");
  if ((w + 2 * p - f) % s != 0)
    throw std::invalid_argument("ctnn::runtime: " + who + ": along the " + axis + ", W - F + 2P = " +
                                std::to_string(w + 2 * p - f) + " is not divisible by the stride S, so the output " +
                                "size (W - F + 2P)/S + 1 is not whole (" + values + ")");
  return (w + 2 * p - f) / s + 1;
}

}  // namespace detail

}  // namespace ctnn::runtime
