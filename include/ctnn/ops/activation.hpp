/// @file activation.hpp
/// Activations as graph ops. Applied directly to an op that absorbs them (dense,
/// conv2d, conv2d_transpose: `absorbs_activation`, core/op.hpp) they fuse into it;
/// applied to anything else they are a pointwise node of their own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "ctnn/core/op.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/activation_functions.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

template <class F>
struct activation_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = F::name;
    using out_shape = In;
    static constexpr double flops = double(In::size);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::map<B * In::size>(a.out, [](auto x) { return F::apply(x); }, a.in[0]);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * In::size>(
            a.din[0], [](auto d, auto y) { return d * F::derivative(y); }, a.dout, a.out);
    }
  };
};

namespace detail {
/// x is a node written in place (not a handle) of a one-input op that can
/// take F into itself.
template <class X, class F>
concept fuses_activation =
    !is_ref_v<X> && X::raw_inputs::size == 1 && absorbs_activation<typename X::op, F>;
}  // namespace detail

template <class F>
struct activation_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    if constexpr (detail::fuses_activation<X, F>) {
      // relu(dense(x)) becomes one dense node whose GEMM epilogue applies relu
      // (conv2d: its per-channel bias pass); the op says how, with_activation.
      return make_node<typename X::op::template with_activation<F>>(detail::head_t<typename X::raw_inputs>{});
    } else {
      return make_node<activation_op<F>>(x);
    }
  }
};

inline constexpr activation_fn<act::identity> identity{};
inline constexpr activation_fn<act::step> step{};
inline constexpr activation_fn<act::sigmoid> sigmoid{};
inline constexpr activation_fn<act::tanh> tanh{};
inline constexpr activation_fn<act::relu> relu{};
/// `leaky_relu<0.01>(x)`: the slope is a parameter (0.1 and 0.01 are common).
template <real Slope>
inline constexpr activation_fn<act::leaky_relu<Slope>> leaky_relu{};
/// `elu<1.0>(x)`.
template <real Alpha = 1.0>
inline constexpr activation_fn<act::elu<Alpha>> elu{};

namespace detail {
// Softmax over `rows` rows of n values, and its vector-Jacobian product: the
// static op and the runtime twin (ctnn/runtime/activation.hpp) both call them.
template <class T>
inline void softmax_rows(std::size_t rows, std::size_t n, const T* x, T* y) {
  for (std::size_t b = 0; b < rows; ++b, x += n, y += n) {
    const T m = *std::max_element(x, x + n);
    T s = 0;
    for (std::size_t i = 0; i < n; ++i) s += (y[i] = std::exp(x[i] - m));
    for (std::size_t i = 0; i < n; ++i) y[i] /= s;
  }
}
/// dx (= or +=) y ⊙ (dy − ⟨dy, y⟩), row by row.
template <class T>
inline void softmax_rows_backward(std::size_t rows, std::size_t n, const T* y, const T* dy, T* dx, bool accumulate) {
  for (std::size_t b = 0; b < rows; ++b, y += n, dy += n, dx += n) {
    T dot = 0;
    for (std::size_t i = 0; i < n; ++i) dot += dy[i] * y[i];
    for (std::size_t i = 0; i < n; ++i) {
      const T g = y[i] * (dy[i] - dot);
      dx[i] = accumulate ? dx[i] + g : g;
    }
  }
}
}  // namespace detail

/// Softmax over a flat per-sample vector, computed as exp(x − max x) / sum so
/// that large logits cannot overflow.
struct softmax_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(In::rank == 1, "ctnn::softmax: the input must be a flat vector");
    static constexpr std::string_view kind = "softmax";
    using out_shape = In;
    static constexpr std::size_t n = In::size;
    static constexpr double flops = 4.0 * n;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      detail::softmax_rows(B, n, a.in[0], a.out);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        detail::softmax_rows_backward(B, n, a.out, a.dout, a.din[0], grad_mode::adds_to_input(Mode, 0));
    }
  };
};

struct softmax_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<softmax_op>(x); }
};
inline constexpr softmax_fn softmax{};

/// Maxout with K pieces: output i is the max of inputs [i·K, (i+1)·K).
template <std::size_t K>
struct maxout_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::maxout_pieces_do_not_divide<"maxout", In, K>>);
    static constexpr std::string_view kind = "maxout";
    static constexpr std::size_t n = In::size / K;
    using out_shape = shape<n>;
    static constexpr double flops = double(In::size);
    static constexpr std::size_t scratch_size = n;  // the winning piece, for backward

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t i = 0; i < B * n; ++i) {
        const T* x = a.in[0] + i * K;
        std::size_t best = 0;
        for (std::size_t k = 1; k < K; ++k) best = x[k] > x[best] ? k : best;
        a.out[i] = x[best];
        a.scratch[i] = T(best);
      }
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0)) {
        for (std::size_t i = 0; i < B * n; ++i) {
          T* dx = a.din[0] + i * K;
          const std::size_t best = std::size_t(a.scratch[i]);
          for (std::size_t k = 0; k < K; ++k) {
            const T g = k == best ? a.dout[i] : T(0);
            dx[k] = grad_mode::adds_to_input(Mode, 0) ? dx[k] + g : g;
          }
        }
      }
    }
  };
};

template <std::size_t K>
struct maxout_fn {
  static_assert(K >= 2, "ctnn::maxout: needs at least two pieces");
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<maxout_op<K>>(x); }
};
/// `maxout<2>(dense<"fc", 2 * 128>(x))` gives 128 outputs.
template <std::size_t K>
inline constexpr maxout_fn<K> maxout{};

}  // namespace ctnn
