/// @file common.hpp
/// What every benchmark shares: deterministic synthetic data, thread control
/// for the OpenMP team, and FLOP counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace ctnn_bench {

/// Uniform values in [lo, hi), the same for the same seed in every peer.
inline std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

/// Class indices in [0, classes).
inline std::vector<std::int64_t> classes(std::size_t n, std::uint64_t seed, int classes) {
  std::mt19937_64 g(seed);
  std::uniform_int_distribution<int> d(0, classes - 1);
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

/// Sets the OpenMP team size used by ctnn's kernels (and by any peer that
/// shares the OpenMP runtime).
inline void set_threads(int n) {
#if defined(_OPENMP)
  omp_set_num_threads(n);
#else
  (void)n;
#endif
}

/// Reports FLOP/s (from FLOPs per iteration) next to the time.
inline void count_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] =
      benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["FLOP"] = flops_per_iteration;
}

/// The networks every peer implements, and their FLOPs (multiply-add = 2).
namespace shapes {
inline constexpr std::size_t tiny_in = 16, tiny_hidden = 64, tiny_out = 1;
inline constexpr double tiny_flops = 2.0 * (16 * 64 + 64 * 64 + 64 * 1);
inline constexpr std::size_t mlp_in = 784, mlp_h1 = 256, mlp_h2 = 128, mlp_out = 10;
inline constexpr double mlp_flops = 2.0 * (784 * 256 + 256 * 128 + 128 * 10);
inline constexpr std::size_t train_batch = 64;
/// The training steps' SGD rate (momentum 0.9) in every implementation:
/// small enough that tens of thousands of steps on random labels do not
/// diverge (at 0.01 LeNet's loss overflows within a few seconds of steps).
inline constexpr float train_lr = 0.001f;
/// Forward + backward (input and weight gradients, not the input layer's
/// input gradient) per sample: 3× the forward minus the first layer's dX.
inline constexpr double mlp_train_flops_per_sample = 3.0 * mlp_flops - 2.0 * 784 * 256;
/// LeNet (seed 001's Caffe prototxt) on a 1×28×28 image: its convolutions,
/// pooling and dense layers as ctnn::summary counts them.
inline constexpr std::size_t lenet_in = 28 * 28, lenet_out = 10;
inline constexpr double lenet_flops = 4'600'760.0;
/// Training: 3× the forward, minus conv1's data gradient (its input is a leaf).
inline constexpr double lenet_train_flops_per_sample = 3.0 * lenet_flops - 576'000.0;
}  // namespace shapes

}  // namespace ctnn_bench
