/// @file matmul.hpp
/// Per-sample matrix product of two graph values: [M, K] or [K] times [K, N].
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

struct matmul_op {
  static constexpr auto name = no_name;
  template <class A, class B_>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::matmul_inner_dimensions_differ<"matmul", A, B_>>);
    static constexpr std::string_view kind = "matmul";
    static constexpr std::size_t M = A::rank == 2 ? A::dims[0] : 1;
    static constexpr std::size_t K = A::dims[A::rank - 1];
    static constexpr std::size_t N = B_::rank == 2 ? B_::dims[1] : 1;
    using out_shape = std::conditional_t<A::rank == 2, shape<M, N>, shape<N>>;
    static constexpr double flops = 2.0 * M * N * K;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b)
        kernels::gemm_nn<M, N, K>(a.in[0] + b * M * K, a.in[1] + b * K * N, a.out + b * M * N);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      for (std::size_t b = 0; b < B; ++b) {
        const T* dc = a.dout + b * M * N;
        if constexpr (grad_mode::wants_input(Mode, 0))  // dA = dC · Bᵀ
          kernels::gemm_nt<M, K, N, grad_mode::adds_to_input(Mode, 0)>(dc, a.in[1] + b * K * N,
                                                                                  a.din[0] + b * M * K);
        if constexpr (grad_mode::wants_input(Mode, 1))  // dB = Aᵀ · dC
          kernels::gemm_tn<K, N, M, grad_mode::adds_to_input(Mode, 1)>(a.in[0] + b * M * K, dc,
                                                                                  a.din[1] + b * K * N);
      }
    }
  };
};

struct matmul_fn {
  template <graph_value X, graph_value Y>
  constexpr auto operator()(const X& x, const Y& y) const { return make_node<matmul_op>(x, y); }
};
inline constexpr matmul_fn matmul{};

}  // namespace ctnn
