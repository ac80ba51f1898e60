/// @file broadcast.hpp
/// A per-feature vector combined with every position of a tensor:
/// `broadcast_add(x, v)`, `broadcast_multiply(x, v)`. Which axis v runs along
/// follows from x's shape, as for batch_norm: on an image [C, H, W], v is [C],
/// one value per channel (a conditioning bias or gain); on anything else, v's
/// shape is x's trailing dimensions, NumPy's rule ([D] for a [T, D] sequence,
/// the same v at every step). v is a node of its own, so it may differ per
/// sample (a dense layer's output) or not (a variable).
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/elementwise.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

/// x viewed as [outer, K, inner] with v of length K: inner = H·W for an
/// image, outer = the leading positions otherwise.
template <class X, class V>
struct broadcast_layout {
  static constexpr bool per_channel = X::rank == 3;
  static constexpr std::size_t k = V::size;
  static constexpr std::size_t inner = per_channel ? X::size / k : 1;
  static constexpr std::size_t outer = per_channel ? 1 : X::size / k;
};

/// Rule: add_rule or multiply_rule (ops/elementwise.hpp): the value, and the
/// gradients to x (da) and to the vector's element (db, summed over positions).
template <class Rule>
struct broadcast_op {
  static constexpr auto name = no_name;
  template <class X, class V>
  struct spec : spec_defaults {
    static constexpr auto kind_text = fixed_string("broadcast_") + Rule::kind;
    static_assert(diagnostic::check<diagnostic::broadcast_vector_does_not_fit<kind_text, X, V>>);
    static constexpr std::string_view kind = kind_text.view();
    using out_shape = X;
    using layout = broadcast_layout<X, V>;
    static constexpr std::size_t n = X::size, k = layout::k, inner = layout::inner, outer = layout::outer;
    static constexpr double flops = double(n);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b) {
        const T* x = a.in[0] + b * n;
        const T* v = a.in[1] + b * k;
        T* y = a.out + b * n;
        if constexpr (inner == 1) {
          for (std::size_t o = 0; o < outer; ++o)
            kernels::map<k>(y + o * k, [](auto xi, auto vi) { return Rule::apply(xi, vi); }, x + o * k, v);
        } else {
          for (std::size_t c = 0; c < k; ++c)
            kernels::map<inner>(y + c * inner, [s = v[c]](auto xi) { return Rule::apply(xi, decltype(xi)(s)); },
                                x + c * inner);
        }
      }
    }

    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      constexpr bool dx_add = grad_mode::adds_to_input(Mode, 0);
      constexpr bool dv_add = grad_mode::adds_to_input(Mode, 1);
      for (std::size_t b = 0; b < B; ++b) {
        const T* x = a.in[0] + b * n;
        const T* v = a.in[1] + b * k;
        const T* d = a.dout + b * n;
        if constexpr (inner == 1) {
          if constexpr (grad_mode::wants_input(Mode, 0))
            for (std::size_t o = 0; o < outer; ++o)
              kernels::map_into<dx_add, k>(a.din[0] + b * n + o * k,
                                           [](auto di, auto xi, auto vi) { return Rule::da(di, xi, vi); },
                                           d + o * k, x + o * k, v);
          if constexpr (grad_mode::wants_input(Mode, 1)) {
            T* dv = a.din[1] + b * k;
            // The first position writes (or adds, as the plan says); the others add.
            for (std::size_t o = 0; o < outer; ++o) {
              auto g = [](auto di, auto xi, auto vi) { return Rule::db(di, xi, vi); };
              if (o == 0) kernels::map_into<dv_add, k>(dv, g, d, x, v);
              else kernels::map_add<k>(dv, g, d + o * k, x + o * k, v);
            }
          }
        } else {
          for (std::size_t c = 0; c < k; ++c) {
            const T s = v[c];
            if constexpr (grad_mode::wants_input(Mode, 0))
              kernels::map_into<dx_add, inner>(
                  a.din[0] + b * n + c * inner,
                  [s](auto di, auto xi) { return Rule::da(di, xi, decltype(xi)(s)); }, d + c * inner, x + c * inner);
            if constexpr (grad_mode::wants_input(Mode, 1)) {
              const T sum = kernels::map_sum(
                  kernels::fixed<inner>{}, [s](auto di, auto xi) { return Rule::db(di, xi, decltype(xi)(s)); },
                  d + c * inner, x + c * inner);
              T& dv = a.din[1][b * k + c];
              dv = dv_add ? dv + sum : sum;
            }
          }
        }
      }
    }
  };
};

template <class Rule>
struct broadcast_fn {
  template <graph_value X, graph_value V>
  constexpr auto operator()(const X& x, const V& v) const { return make_node<broadcast_op<Rule>>(x, v); }
};
/// `broadcast_add(x, v)`: x plus v at every position.
inline constexpr broadcast_fn<detail::add_rule> broadcast_add{};
/// `broadcast_multiply(x, v)`: x times v at every position (a per-channel gain).
inline constexpr broadcast_fn<detail::multiply_rule> broadcast_multiply{};

}  // namespace ctnn
