/// @file log_softmax.hpp
/// log softmax over the last axis: x − max x − log Σ e^(x − max x) per row, so
/// that logits of any size give finite log-probabilities (a naive
/// log(softmax(x)) overflows at e^1000 and gives −inf where a probability
/// underflows). Feeds negative_log_likelihood, or an attention's scores.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
template <class T>
inline void log_softmax_rows(std::size_t rows, std::size_t n, const T* x, T* y) {
  for (std::size_t r = 0; r < rows; ++r, x += n, y += n) {
    const T m = *std::max_element(x, x + n);
    T s = 0;
    for (std::size_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
    const T shift = m + std::log(s);
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] - shift;
  }
}
/// dx (= or +=) dy − softmax · Σ dy, with softmax = e^y: only the output is read.
template <class T>
inline void log_softmax_rows_backward(std::size_t rows, std::size_t n, const T* y, const T* dy, T* dx,
                                      bool accumulate) {
  for (std::size_t r = 0; r < rows; ++r, y += n, dy += n, dx += n) {
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += dy[i];
    for (std::size_t i = 0; i < n; ++i) {
      const T g = dy[i] - std::exp(y[i]) * sum;
      dx[i] = accumulate ? dx[i] + g : g;
    }
  }
}
}  // namespace detail

/// Normalizes each row along the last axis: a flat [N] is one row, a [T, D]
/// sequence T rows of D.
struct log_softmax_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::log_softmax_input_is_a_scalar<"log_softmax", In>>);
    static constexpr std::string_view kind = "log_softmax";
    using out_shape = In;
    static constexpr std::size_t n = In::rank ? In::dims[In::rank - 1] : 1;
    static constexpr std::size_t rows = In::size / n;
    static constexpr double flops = 4.0 * In::size;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      detail::log_softmax_rows(B * rows, n, a.in[0], a.out);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        detail::log_softmax_rows_backward(B * rows, n, a.out, a.dout, a.din[0],
                                          grad_mode::adds_to_input(Mode, 0));
    }
  };
};

struct log_softmax_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<log_softmax_op>(x); }
};
/// `log_softmax(logits)`: log-probabilities over the last axis.
inline constexpr log_softmax_fn log_softmax{};

}  // namespace ctnn
