/// @file elementwise.hpp
/// add, subtract, multiply (elementwise) and scale by a constant. Applied to
/// losses they keep the losses' batch reduction (ctnn/ops/batch_reduction.hpp),
/// so that `scale<0.3>(loss)` as a root is reduced as `loss` would be.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/real.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/batch_reduction.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace detail {
// Each rule: the value, and the gradient to each operand given upstream d.
struct add_rule {
  static constexpr fixed_string kind = "add";
  template <class V> static V apply(V a, V b) { return a + b; }
  template <class V> static V da(V d, V, V) { return d; }
  template <class V> static V db(V d, V, V) { return d; }
};
struct subtract_rule {
  static constexpr fixed_string kind = "subtract";
  template <class V> static V apply(V a, V b) { return a - b; }
  template <class V> static V da(V d, V, V) { return d; }
  template <class V> static V db(V d, V, V) { return -d; }
};
struct multiply_rule {
  static constexpr fixed_string kind = "multiply";
  template <class V> static V apply(V a, V b) { return a * b; }
  template <class V> static V da(V d, V, V b) { return d * b; }
  template <class V> static V db(V d, V a, V) { return d * a; }
};
struct divide_rule {
  static constexpr fixed_string kind = "divide";
  template <class V> static V apply(V a, V b) { return a / b; }
  template <class V> static V da(V d, V, V b) { return d / b; }
  template <class V> static V db(V d, V a, V b) { return -d * a / (b * b); }
};
}  // namespace detail

/// Two operands of the same shape, combined element by element; `Reduction`
/// is the operands' batch reduction when they are losses.
template <class Rule, batch_reduction Reduction = batch_reduction::unset>
struct binary_op {
  static constexpr auto name = no_name;
  template <class A, class B_>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::operand_shapes_differ<Rule::kind, A, B_>>);
    static constexpr std::string_view kind = Rule::kind.view();
    static constexpr batch_reduction reduction = Reduction;
    static constexpr bool batch_sum = Reduction == batch_reduction::sum;
    using out_shape = A;
    static constexpr std::size_t n = A::size;
    static constexpr double flops = double(n);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::map<B * n>(a.out, [](auto x, auto y) { return Rule::apply(x, y); }, a.in[0], a.in[1]);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * n>(
            a.din[0], [](auto d, auto x, auto y) { return Rule::da(d, x, y); }, a.dout, a.in[0], a.in[1]);
      if constexpr (grad_mode::wants_input(Mode, 1))
        kernels::map_into<grad_mode::adds_to_input(Mode, 1), B * n>(
            a.din[1], [](auto d, auto x, auto y) { return Rule::db(d, x, y); }, a.dout, a.in[0], a.in[1]);
    }
  };
};

template <class Rule>
struct binary_fn {
  template <graph_value X, graph_value Y>
  constexpr auto operator()(const X& x, const Y& y) const {
    return make_node<binary_op<Rule, detail::combined<Rule::kind, reduction_of<X>, reduction_of<Y>>()>>(x, y);
  }
};

/// `add(x, f(x))`: a skip connection (bind x and pass ref<x> when x is not a leaf).
inline constexpr binary_fn<detail::add_rule> add{};
inline constexpr binary_fn<detail::subtract_rule> subtract{};
/// Elementwise (Hadamard) product.
inline constexpr binary_fn<detail::multiply_rule> multiply{};
/// Elementwise quotient.
inline constexpr binary_fn<detail::divide_rule> divide{};

/// `scale<0.3>(aux_loss)`: multiplies by a constant, e.g. to weight a loss;
/// `Reduction` is the input's batch reduction when it is a loss.
template <real Factor, batch_reduction Reduction = batch_reduction::unset>
struct scale_op {
  static constexpr auto name = no_name;
  template <class In>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = "scale";
    static constexpr batch_reduction reduction = Reduction;
    static constexpr bool batch_sum = Reduction == batch_reduction::sum;
    using out_shape = In;
    static constexpr double flops = double(In::size);
    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::map<B * In::size>(a.out, [](auto x) { return x * decltype(x)(T(Factor.value())); }, a.in[0]);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::map_into<grad_mode::adds_to_input(Mode, 0), B * In::size>(
            a.din[0], [](auto d) { return d * decltype(d)(T(Factor.value())); }, a.dout);
    }
  };
};

template <real Factor>
struct scale_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const { return make_node<scale_op<Factor, reduction_of<X>>>(x); }
};
template <real Factor>
inline constexpr scale_fn<Factor> scale{};

}  // namespace ctnn
