/// @file attention.hpp
/// Attention (kernels/attention.hpp) as ops:
///
///   attention(q, k, v)                      q [Tq, d], k [Tk, d], v [Tk, dv] → [Tq, dv]
///   attention(q, k, v, causal{})            query i sees keys 0..i (Tq = Tk)
///   multi_head_attention<"mha", 4>(x)       self-attention of x [T, D], 4 heads of D/4
///   multi_head_attention<"mha", 4, causal>(x)
///
/// `attention` has no parameters: q, k and v come from other layers (soft
/// attention over a set of features is attention(query, features,
/// features)). `multi_head_attention` is PyTorch's nn.MultiheadAttention
/// (batch_first) for q = k = v = x, with its parameters and names:
/// "<name>.in_proj_weight" [3D, D], "<name>.in_proj_bias" [3D],
/// "<name>.out_proj.weight" [D, D], "<name>.out_proj.bias" [D].
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/attention.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/init.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace diagnostic {
/// attention(q, k, v): q [Tq, d] and k [Tk, d] share d, v [Tk, dv] has a
/// value per key; a causal mask needs as many queries as keys.
template <class QueryShape, class KeyShape, class ValueShape, bool Causal>
struct attention_shapes_differ {
  static_assert(QueryShape::rank == 2 && KeyShape::rank == 2 && ValueShape::rank == 2 &&
                    QueryShape::dims[1] == KeyShape::dims[1] && KeyShape::dims[0] == ValueShape::dims[0] &&
                    (!Causal || QueryShape::dims[0] == KeyShape::dims[0]),
                "CTNN_ATTENTION_SHAPE: attention(q, k, v) takes q [Tq, d], k [Tk, d] and v [Tk, dv] (causal: Tq = "
                "Tk); the arguments are <q shape, k shape, v shape, causal>");
};

/// multi_head_attention<name, heads>(x) splits the width of x [T, D] into heads.
template <fixed_string Layer, class InputShape, std::size_t Heads>
struct multi_head_input {
  static_assert(InputShape::rank == 2 && InputShape::dims[1] % Heads == 0,
                "CTNN_ATTENTION_SHAPE: multi_head_attention takes a sequence [T, D] whose width D is a multiple of "
                "its heads; the arguments are <layer, input shape, heads>");
};
}  // namespace diagnostic

/// Option of attention and multi_head_attention: each query sees only the
/// keys at or before its own position.
struct causal {};

namespace detail {
template <class... O>
inline constexpr bool is_causal_v = (std::is_same_v<O, causal> || ...);
}  // namespace detail

template <bool Causal>
struct attention_op {
  static constexpr auto name = no_name;
  static constexpr bool mixes_time_steps = true;  // each query reads other steps: not for ctnn::streaming
  template <class Q, class K, class V>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::attention_shapes_differ<Q, K, V, Causal>>);
    static constexpr std::size_t tq = Q::rank == 2 ? Q::dims[0] : 1, d = Q::rank == 2 ? Q::dims[1] : 1,
                                 tk = K::rank == 2 ? K::dims[0] : 1, dv = V::rank == 2 ? V::dims[1] : 1;
    static constexpr std::string_view kind = Causal ? "attention (causal)" : "attention";
    using out_shape = shape<tq, dv>;
    static constexpr std::size_t scratch_size = tq * tk;  // P
    static constexpr std::size_t temp_size = tq * tk;     // dP, one sample at a time
    static constexpr double flops = 2.0 * tq * tk * (d + dv);

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b)
        kernels::attention::forward<T>(tq, tk, d, dv, Causal, {a.in[0] + b * tq * d, d}, {a.in[1] + b * tk * d, d},
                                       {a.in[2] + b * tk * dv, dv}, a.scratch + b * tq * tk,
                                       {a.out + b * tq * dv, dv});
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b) {
        auto grad = [&](std::size_t k, std::size_t rows, std::size_t width) -> kernels::attention::rows<T> {
          return {a.din[k] ? a.din[k] + b * rows * width : nullptr, width};
        };
        kernels::attention::backward<grad_mode::adds_to_input(Mode, 0), grad_mode::adds_to_input(Mode, 1),
                                     grad_mode::adds_to_input(Mode, 2), T>(
            tq, tk, d, dv, {a.in[0] + b * tq * d, d}, {a.in[1] + b * tk * d, d}, {a.in[2] + b * tk * dv, dv},
            a.scratch + b * tq * tk, {a.dout + b * tq * dv, dv}, a.temp,
            grad_mode::wants_input(Mode, 0) ? grad(0, tq, d) : kernels::attention::rows<T>{nullptr, d},
            grad_mode::wants_input(Mode, 1) ? grad(1, tk, d) : kernels::attention::rows<T>{nullptr, d},
            grad_mode::wants_input(Mode, 2) ? grad(2, tk, dv) : kernels::attention::rows<T>{nullptr, dv});
      }
    }
  };
};

struct attention_fn {
  template <graph_value Q, graph_value K, graph_value V>
  constexpr auto operator()(const Q& q, const K& k, const V& v) const {
    return make_node<attention_op<false>>(q, k, v);
  }
  template <graph_value Q, graph_value K, graph_value V>
  constexpr auto operator()(const Q& q, const K& k, const V& v, causal) const {
    return make_node<attention_op<true>>(q, k, v);
  }
};

/// `attention(q, k, v)`, `attention(q, k, v, causal{})`: softmax(q·kᵀ/√d)·v per sample.
inline constexpr attention_fn attention{};

template <fixed_string Name, std::size_t Heads, bool Causal>
struct multi_head_attention_op {
  static_assert(Heads > 0, "ctnn::multi_head_attention: at least one head");
  static constexpr auto name = Name;
  static constexpr bool mixes_time_steps = true;  // each query reads other steps: not for ctnn::streaming
  static constexpr auto in_weight_name = Name + ".in_proj_weight";
  static constexpr auto in_bias_name = Name + ".in_proj_bias";
  static constexpr auto out_weight_name = Name + ".out_proj.weight";
  static constexpr auto out_bias_name = Name + ".out_proj.bias";

  template <class In>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::multi_head_input<Name, In, Heads>>);
    static constexpr std::size_t T = In::rank == 2 ? In::dims[0] : 1, D = In::rank == 2 ? In::dims[1] : Heads,
                                 dh = D / Heads;
    static constexpr std::string_view kind = Causal ? "multi_head_attention (causal)" : "multi_head_attention";
    using out_shape = In;
    // PyTorch: xavier_uniform for in_proj_weight, zeros for the biases; the
    // output projection as an nn.Linear's weight (uniform ±1/√D here).
    static constexpr std::array<param_decl, 4> params{
        param_decl{in_weight_name.view(), info_of<shape<3 * D, D>>(), init::xavier_uniform::value, D, 3 * D},
        param_decl{in_bias_name.view(), info_of<shape<3 * D>>(), init::zeros::value, D, 3 * D, true, false},
        param_decl{out_weight_name.view(), info_of<shape<D, D>>(), init::uniform_fan_in::value, D, D},
        param_decl{out_bias_name.view(), info_of<shape<D>>(), init::zeros::value, D, D, true, false}};
    // Per sample: q|k|v [T, 3D], every head's P [T, T], the heads' outputs [T, D].
    static constexpr std::size_t qkv_size = T * 3 * D, p_size = Heads * T * T, o_size = T * D;
    static constexpr std::size_t scratch_size = qkv_size + p_size + o_size;
    // Backward: dO [T, D], dqkv [T, 3D] for the batch, and one head's dP.
    static constexpr std::size_t temp_size = T * D + T * 3 * D + T * T;
    static constexpr double flops = 2.0 * T * D * 3 * D + 2.0 * T * T * 2 * D + 2.0 * T * D * D;

    template <std::size_t B, class T_>
    static void forward(const forward_args<T_>& a) {
      using kernels::attention::rows;
      T_* qkv = a.scratch;  // the batch's [B·T, 3D], then P, then O
      T_* p = qkv + B * qkv_size;
      T_* o = p + B * p_size;
      kernels::gemm_nt<B * T, 3 * D, D>(a.in[0], a.param[0], qkv);
      for (std::size_t r = 0; r < B * T; ++r)
        kernels::map<3 * D>(qkv + r * 3 * D, [](auto y, auto bias) { return y + bias; }, qkv + r * 3 * D, a.param[1]);
      for (std::size_t b = 0; b < B; ++b)
        for (std::size_t h = 0; h < Heads; ++h) {
          const T_* s = qkv + b * qkv_size + h * dh;
          kernels::attention::forward<T_>(T, T, dh, dh, Causal, rows<const T_>{s, 3 * D}, rows<const T_>{s + D, 3 * D},
                                          rows<const T_>{s + 2 * D, 3 * D}, p + b * p_size + h * T * T,
                                          rows<T_>{o + b * o_size + h * dh, D});
        }
      kernels::gemm_nt<B * T, D, D>(o, a.param[2], a.out);
      for (std::size_t r = 0; r < B * T; ++r)
        kernels::map<D>(a.out + r * D, [](auto y, auto bias) { return y + bias; }, a.out + r * D, a.param[3]);
    }

    template <std::size_t B, unsigned Mode, class T_>
    static void backward(const backward_args<T_>& a) {
      using kernels::attention::rows;
      const T_* qkv = a.scratch;
      const T_* p = qkv + B * qkv_size;
      const T_* o = p + B * p_size;
      T_* d_o = a.temp;             // [B·T, D]
      T_* dqkv = d_o + B * T * D;   // [B·T, 3D]
      T_* dp = dqkv + B * T * 3 * D;  // [T, T]
      if constexpr (grad_mode::wants_param(Mode, 2))
        kernels::gemm_tn<D, D, B * T, grad_mode::adds_to_param(Mode, 2)>(a.dout, o, a.dparam[2]);
      if constexpr (grad_mode::wants_param(Mode, 3))
        kernels::column_sums<B * T, D, grad_mode::adds_to_param(Mode, 3)>(a.dout, a.dparam[3]);
      constexpr bool below = grad_mode::wants_input(Mode, 0) || grad_mode::wants_param(Mode, 0) ||
                             grad_mode::wants_param(Mode, 1);
      if constexpr (below) {
        kernels::gemm_nn<B * T, D, D>(a.dout, a.param[2], d_o);
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t h = 0; h < Heads; ++h) {
            const T_* s = qkv + b * qkv_size + h * dh;
            T_* ds = dqkv + b * qkv_size + h * dh;
            kernels::attention::backward<false, false, false, T_>(
                T, T, dh, dh, rows<const T_>{s, 3 * D}, rows<const T_>{s + D, 3 * D}, rows<const T_>{s + 2 * D, 3 * D},
                p + b * p_size + h * T * T, rows<const T_>{d_o + b * o_size + h * dh, D}, dp, rows<T_>{ds, 3 * D},
                rows<T_>{ds + D, 3 * D}, rows<T_>{ds + 2 * D, 3 * D});
          }
        if constexpr (grad_mode::wants_param(Mode, 0))
          kernels::gemm_tn<3 * D, D, B * T, grad_mode::adds_to_param(Mode, 0)>(dqkv, a.in[0], a.dparam[0]);
        if constexpr (grad_mode::wants_param(Mode, 1))
          kernels::column_sums<B * T, 3 * D, grad_mode::adds_to_param(Mode, 1)>(dqkv, a.dparam[1]);
        if constexpr (grad_mode::wants_input(Mode, 0))
          kernels::gemm_nn<B * T, D, 3 * D, grad_mode::adds_to_input(Mode, 0)>(dqkv, a.param[0], a.din[0]);
      }
    }
  };
};

template <fixed_string Name, std::size_t Heads, class... Options>
struct multi_head_attention_fn {
  template <graph_value X>
  constexpr auto operator()(const X& x) const {
    static_assert(((std::is_same_v<Options, causal>) && ...),
                  "ctnn::multi_head_attention: the only option is ctnn::causal");
    return make_node<multi_head_attention_op<Name, Heads, detail::is_causal_v<Options...>>>(x);
  }
};

/// `multi_head_attention<"name", heads, options...>(x)`: self-attention of
/// x [T, D] with `heads` heads of D/heads, PyTorch's parameters.
template <fixed_string Name, std::size_t Heads, class... Options>
inline constexpr multi_head_attention_fn<Name, Heads, Options...> multi_head_attention{};

}  // namespace ctnn
