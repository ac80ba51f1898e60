/// @file window.hpp
/// What convolution and pooling share: the sliding window's options
/// (stride, padding, dilation, groups, rounding) and the output-size rule
/// (W − F + 2P)/S + 1, which must come out whole unless the layer says how
/// to round it.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn {

/// `stride<2>`: the window moves S positions per output (default 1 for conv, F for pooling).
template <std::size_t S>
struct stride {
  static_assert(S > 0, "ctnn::stride: the stride must be positive");
};
/// `padding<P>`: P zeros (for max pooling: ignored positions) around each side.
template <std::size_t P>
struct padding {};
/// `dilation<D>`: the filter taps are D apart; the window's extent is D·(F−1)+1.
template <std::size_t D>
struct dilation {
  static_assert(D > 0, "ctnn::dilation: the dilation must be positive");
};
/// `groups<G>`: G independent convolutions over C_in/G input channels each.
template <std::size_t G>
struct groups {};

/// How the output size is rounded when the windows do not tile the input.
enum class window_rounding {
  exact,  // (W − F + 2P) must be divisible by S: anything else is a compile error
  floor,  // the last partial window is dropped (PyTorch; Caffe's convolution)
  ceil,   // pooling only: a last partial window is added (Caffe's pooling)
};
/// `floor_mode`: rows and columns past the last whole window are left out,
/// as PyTorch does (ResNet's 7×7/2 p3 convolution on 224: 111.5 → 112).
struct floor_mode {};
/// `ceil_mode`, pooling only: one more window that overhangs the padded
/// input, as Caffe's pooling does (GoogLeNet's 3×3/2 pools: 112 → 56); it
/// must start inside the input or its leading padding.
struct ceil_mode {};

namespace detail {
template <template <std::size_t> class Opt, class O>
struct option_of {
  static constexpr std::size_t count = 0, value = 0;
};
template <template <std::size_t> class Opt, std::size_t V>
struct option_of<Opt, Opt<V>> {
  static constexpr std::size_t count = 1, value = V;
};
/// The value of option Opt among Options (Default when absent), and how often it appears.
template <template <std::size_t> class Opt, std::size_t Default, class... Options>
struct window_option {
  static constexpr std::size_t count = (std::size_t(0) + ... + option_of<Opt, Options>::count);
  static constexpr std::size_t value = count ? (std::size_t(0) + ... + option_of<Opt, Options>::value) : Default;
};
template <class O>
inline constexpr bool is_window_option_v = option_of<stride, O>::count + option_of<padding, O>::count +
                                               option_of<dilation, O>::count + option_of<groups, O>::count >
                                           0;

template <class O>
inline constexpr bool is_rounding_option_v = std::is_same_v<O, floor_mode> || std::is_same_v<O, ceil_mode>;
/// The rounding Options ask for, and how many rounding options they hold.
template <class... Options>
struct rounding_option {
  static constexpr std::size_t count = (std::size_t(0) + ... + std::size_t(is_rounding_option_v<Options>));
  static constexpr window_rounding value = (std::is_same_v<Options, ceil_mode> || ...)    ? window_rounding::ceil
                                           : (std::is_same_v<Options, floor_mode> || ...) ? window_rounding::floor
                                                                                          : window_rounding::exact;
};

/// Whether a window of extent f moved by s fits w inputs padded by p under
/// the rounding r: it must not be larger than the padded input, and without
/// rounding it must tile it.
constexpr bool window_fits(std::size_t w, std::size_t f, std::size_t p, std::size_t s,
                           window_rounding r = window_rounding::exact) {
  return f <= w + 2 * p && (r != window_rounding::exact || (w + 2 * p - f) % s == 0);
}

/// The output size, or 1 when the window does not fit (the diagnostic has
/// fired; 1 keeps the follow-up errors away). Ceil rounding drops a last
/// window that would start in the trailing padding, as Caffe and PyTorch do.
constexpr std::size_t window_out(std::size_t w, std::size_t f, std::size_t p, std::size_t s,
                                 window_rounding r = window_rounding::exact) {
  if (s == 0 || !window_fits(w, f, p, s, r)) return 1;
  const std::size_t span = w + 2 * p - f;
  if (r != window_rounding::ceil) return span / s + 1;
  std::size_t n = (span + s - 1) / s + 1;
  if ((n - 1) * s >= w + p) --n;
  return n;
}

/// Dimension I of S, or 1 when S has fewer (a wrong-rank input, already diagnosed).
template <class S, std::size_t I>
inline constexpr std::size_t dim_or_one = [] {
  if constexpr (I < S::rank) return S::dims[I];
  else return std::size_t(1);
}();

/// "5x5/2": the window and stride, for the summary's op column.
template <std::size_t V>
constexpr auto number_text() {
  constexpr std::size_t digits = [] {
    std::size_t d = 1;
    for (std::size_t v = V; v >= 10; v /= 10) ++d;
    return d;
  }();
  fixed_string<digits + 1> s;
  std::size_t v = V;
  for (std::size_t i = digits; i-- > 0; v /= 10) s.chars[i] = char('0' + v % 10);
  return s;
}
template <std::size_t F, std::size_t S, std::size_t P, std::size_t D = 1, std::size_t G = 1,
          window_rounding R = window_rounding::exact>
constexpr auto window_text() {
  const auto base = number_text<F>() + "x" + number_text<F>() + "/" + number_text<S>();
  const auto with_p = [&] {
    if constexpr (P > 0) return base + " p" + number_text<P>();
    else return base;
  }();
  const auto with_d = [&] {
    if constexpr (D > 1) return with_p + " d" + number_text<D>();
    else return with_p;
  }();
  const auto with_g = [&] {
    if constexpr (G > 1) return with_d + " g" + number_text<G>();
    else return with_d;
  }();
  if constexpr (R == window_rounding::floor) return with_g + " floor";
  else if constexpr (R == window_rounding::ceil) return with_g + " ceil";
  else return with_g;
}
}  // namespace detail

}  // namespace ctnn
