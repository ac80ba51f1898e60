/// @file peak.cpp
/// The machine's FMA peak, measured rather than assumed: independent chains
/// of fused multiply-adds on the widest vectors the build targets, enough of
/// them to hide the FMA latency on every current x86 core.

#include <ctnn/kernels/simd.hpp>

#include <algorithm>
#include <vector>

#include "common.hpp"

namespace {

using ctnn::kernels::vec;

template <class T>
void fma_chains(benchmark::State& state) {
  constexpr int chains = 16;  // ≥ latency (4–5 cycles) × FMA ports (2)
  constexpr int inner = 4096;
  const int threads = int(state.range(0));
  const double flops = 2.0 * double(vec<T>::size) * chains * inner * threads;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      vec<T> acc[chains];
      for (int c = 0; c < chains; ++c) acc[c] = vec<T>(T(c) * T(1e-3));
      const vec<T> x(T(0.999999)), y(T(1e-6));
      for (int i = 0; i < inner; ++i)
        for (int c = 0; c < chains; ++c) acc[c] = xsimd::fma(acc[c], x, y);
      benchmark::DoNotOptimize(acc);
    }
  }
  ctnn_bench::count_flops(state, flops);
  state.SetLabel(ctnn::kernels::simd_name());
}

const int registered = [] {
  // A peak is a maximum: the report takes the best repetition's FLOP/s, so a
  // moment of interference lowers it less than it would a median.
  benchmark::RegisterBenchmark("fma_peak/float", fma_chains<float>)
      ->Arg(1)
      ->Arg(2)
      ->ArgName("threads")
      ->UseRealTime()
      ->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
  return 0;
}();

}  // namespace
