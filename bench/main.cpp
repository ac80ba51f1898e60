/// @file main.cpp
/// Runs every registered benchmark and records what the numbers depend on:
/// the instruction set, the compiler and the peers' versions.

#include <ctnn/kernels/simd.hpp>

#include <string>

#include "common.hpp"

#if CTNN_BENCH_HAVE_EIGEN
#include <Eigen/Core>
#endif
#if CTNN_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("ctnn_simd", ctnn::kernels::simd_name());
  benchmark::AddCustomContext("ctnn_compiler", compiler());
#if CTNN_BENCH_HAVE_EIGEN
  benchmark::AddCustomContext("eigen_version", std::to_string(EIGEN_WORLD_VERSION) + "." +
                                                   std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                                   std::to_string(EIGEN_MINOR_VERSION));
#endif
#if CTNN_BENCH_HAVE_OPENBLAS
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
#endif
#ifdef CTNN_BENCH_TORCH_VERSION
  benchmark::AddCustomContext("libtorch_version", CTNN_BENCH_TORCH_VERSION);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
