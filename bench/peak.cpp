/// @file peak.cpp
/// The machine's FMA peak, measured rather than assumed: independent chains
/// of fused multiply-adds on the widest vectors the build targets, enough of
/// them to hide the FMA latency on every current x86 core.

#include <ctnn/kernels/simd.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "common.hpp"

namespace {

using ctnn::kernels::vec;

template <class T>
void fma_chains(benchmark::State& state) {
  // ≥ latency (4–5 cycles) × FMA ports (2), and all of them in registers
  // with the two operands: 16 of AVX2's 16 vector registers would spill.
  constexpr int chains = sizeof(vec<T>) == 64 ? 16 : 12;
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
        for (int c = 0; c < chains; ++c) acc[c] = ctnn::kernels::fma(acc[c], x, y);
      benchmark::DoNotOptimize(acc);
    }
  }
  ctnn_bench::count_flops(state, flops);
  state.SetLabel(ctnn::kernels::simd_name());
}

/// Read bandwidth over a buffer the size of the MLP's parameters (940 KB,
/// about an L2 cache), streamed again and again: the floor of any batch-1
/// inference that has to read every weight once.
void read_bandwidth(benchmark::State& state) {
  const std::size_t n = std::size_t(state.range(0)) / sizeof(float);
  const auto data = ctnn_bench::uniform(n, 9);
  constexpr std::size_t L = vec<float>::size, chains = 8;
  for (auto _ : state) {
    vec<float> acc[chains];
    for (auto& a : acc) a = vec<float>(0.0f);
    for (std::size_t i = 0; i + chains * L <= n; i += chains * L)
      for (std::size_t c = 0; c < chains; ++c) acc[c] += vec<float>::load_unaligned(data.data() + i + c * L);
    benchmark::DoNotOptimize(acc);
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * state.range(0));
}

/// A cache line passed back and forth between two threads, as a parallel
/// step's threads pass what one wrote and the other reads: the round trip's
/// time says how far apart the two cores are (one core complex sharing an
/// L3: about 100 ns; two dies: 400 ns and more). On a virtual machine it can
/// change from one session to the next, and with it what a second thread buys.
void core_to_core(benchmark::State& state) {
  constexpr int trips = 20000;
  alignas(64) std::atomic<int> turn{0};
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(2)
    {
#if defined(_OPENMP)
      const int me = omp_get_thread_num(), team = omp_get_num_threads();
#else
      const int me = 0, team = 1;
#endif
      if (team == 2)
        for (int i = 0; i < trips; ++i) {
          while (turn.load(std::memory_order_acquire) != me) {
          }
          turn.store(1 - me, std::memory_order_release);
        }
    }
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  state.counters["round_trip_ns"] = seconds * 1e9 / (double(state.iterations()) * trips);
}

const int registered = [] {
  // Its repetitions are spread over the run: the fastest and the slowest
  // say whether the host moved the two threads' cores during it.
  benchmark::RegisterBenchmark("core_to_core", core_to_core)
      ->UseRealTime()
      ->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
      ->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
  benchmark::RegisterBenchmark("read_bandwidth", read_bandwidth)->Arg((784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10) * 4);
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
