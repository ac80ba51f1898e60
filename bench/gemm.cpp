/// @file gemm.cpp
/// ctnn's GEMM at the shapes the benchmark networks run, with sizes known at
/// compile time (the static graph) and at run time (the runtime twin), next
/// to OpenBLAS's sgemm, single-threaded.

#include <ctnn/kernels/gemm.hpp>

#include <array>
#include <string>

#include "common.hpp"

#if CTNN_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using ctnn::kernels::fixed;

enum class form { nn, nt, tn };

struct operands {
  std::vector<float> a, b, c;
  operands(std::size_t m, std::size_t n, std::size_t k)
      : a(ctnn_bench::uniform(m * k, 1)), b(ctnn_bench::uniform(k * n, 2)), c(m * n) {}
};

template <form F, std::size_t M, std::size_t N, std::size_t K>
void ctnn_static(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  operands o(M, N, K);
  for (auto _ : state) {
    if constexpr (F == form::nn) ctnn::kernels::gemm_nn(fixed<M>{}, fixed<N>{}, fixed<K>{}, o.a.data(), o.b.data(), o.c.data());
    if constexpr (F == form::nt) ctnn::kernels::gemm_nt(fixed<M>{}, fixed<N>{}, fixed<K>{}, o.a.data(), o.b.data(), o.c.data());
    if constexpr (F == form::tn) ctnn::kernels::gemm_tn(fixed<M>{}, fixed<N>{}, fixed<K>{}, o.a.data(), o.b.data(), o.c.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, 2.0 * M * N * K);
}

template <form F>
void ctnn_dynamic(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  const std::size_t m = state.range(0), n = state.range(1), k = state.range(2);
  operands o(m, n, k);
  for (auto _ : state) {
    if constexpr (F == form::nn) ctnn::kernels::gemm_nn(m, n, k, o.a.data(), o.b.data(), o.c.data());
    if constexpr (F == form::nt) ctnn::kernels::gemm_nt(m, n, k, o.a.data(), o.b.data(), o.c.data());
    if constexpr (F == form::tn) ctnn::kernels::gemm_tn(m, n, k, o.a.data(), o.b.data(), o.c.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, 2.0 * m * n * k);
}

#if CTNN_BENCH_HAVE_OPENBLAS
template <form F>
void openblas(benchmark::State& state) {
  openblas_set_num_threads(1);
  const int m = int(state.range(0)), n = int(state.range(1)), k = int(state.range(2));
  operands o(m, n, k);
  // Row-major, as ctnn stores them: A[m,k] or A[k,m] (tn), B[k,n] or B[n,k] (nt).
  const auto ta = F == form::tn ? CblasTrans : CblasNoTrans;
  const auto tb = F == form::nt ? CblasTrans : CblasNoTrans;
  const int lda = F == form::tn ? m : k, ldb = F == form::nt ? k : n;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, o.a.data(), lda, o.b.data(), ldb, 0.0f, o.c.data(), n);
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, 2.0 * m * n * k);
}
#endif

template <form F, std::size_t M, std::size_t N, std::size_t K>
void register_shape(const char* form_name) {
  const std::string shape = std::string(form_name) + "/" + std::to_string(M) + "x" + std::to_string(N) + "x" +
                            std::to_string(K);
  benchmark::RegisterBenchmark(("gemm/" + shape + "/static").c_str(), ctnn_static<F, M, N, K>);
  benchmark::RegisterBenchmark(("gemm/" + shape + "/dynamic").c_str(), ctnn_dynamic<F>)->Args({M, N, K});
#if CTNN_BENCH_HAVE_OPENBLAS
  benchmark::RegisterBenchmark(("gemm/" + shape + "/openblas").c_str(), openblas<F>)->Args({M, N, K});
#endif
}

const int registered = [] {
  // The MLP's training step at batch 64: forward (A·B), input gradients
  // (A·Bᵀ), weight gradients (Aᵀ·B); then batch-1 inference.
  register_shape<form::nn, 64, 256, 784>("nn");
  register_shape<form::nn, 64, 128, 256>("nn");
  register_shape<form::nn, 64, 10, 128>("nn");
  register_shape<form::nt, 64, 256, 128>("nt");
  register_shape<form::nt, 64, 128, 10>("nt");
  register_shape<form::tn, 784, 256, 64>("tn");
  register_shape<form::tn, 256, 128, 64>("tn");
  register_shape<form::tn, 128, 10, 64>("tn");
  register_shape<form::nn, 1, 256, 784>("nn");
  register_shape<form::nn, 1, 128, 256>("nn");
  register_shape<form::nn, 1, 64, 16>("nn");
  register_shape<form::nn, 1, 64, 64>("nn");
  return 0;
}();

}  // namespace
