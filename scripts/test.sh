#!/usr/bin/env bash
# Installs dependencies, builds everything and runs all tests:
#   gcc        g++ 12, the machine's widest instruction set, with the
#              model-sized tests (CTNN_HEAVY_TESTS) and, on AVX-512,
#              the kernel tests once more for AVX2 (kernels_avx2) (./build)
#   clang      clang 16; on a machine with AVX-512, for AVX2
#              (CTNN_SIMD=avx2), so that each instruction set runs
#              every test with one compiler; and ONNX's backend test
#              cases (CTNN_ONNX_CONFORMANCE)                      (./build-clang)
#   sanitize   clang 16 with AddressSanitizer and UndefinedBehavior-
#              Sanitizer, the machine's widest instruction set, on
#              what the sanitizers can see into; it replays the fuzz
#              corpus under the sanitizers too                    (./build-asan)
# `bash scripts/test.sh clang sanitize` runs only those stages.
#
# What runs where, so that the three stages stay well under an hour on two
# cores (a full build of the tests takes 14 to 18 minutes of them):
# - every test runs with both compilers, and on an AVX-512 machine under
#   both instruction sets (g++ with AVX-512, clang with AVX2); the kernels'
#   own tests run under both with g++ as well (kernels_avx2);
# - the model-sized tests (ResNet, AlexNet, VGG16, GoogLeNet, their PyTorch
#   round trips, the runtime twin: a fifth of a build's compile time) once,
#   with g++ and the widest instruction set, as the main job runs; clang
#   compiles every model's graph in ctnn_model_summaries and the 173-node
#   ResNet of the compile-time gate;
# - ONNX's backend test cases once, with clang, the faster compiler of
#   their generated headers;
# - the sanitizer stage leaves out the tests whose subject is arithmetic
#   (a model's memory is three blocks, inside which AddressSanitizer sees
#   no wrong index; tests/CMakeLists.txt lists them) and the demo apps;
# - g++ compiles at -O2 and the sanitizer stage at -O1 (below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stages=("$@")
if ((${#stages[@]} == 0)); then stages=(gcc clang sanitize); fi
for s in "${stages[@]}"; do
  case "$s" in
    gcc | clang | sanitize) ;;
    *) echo "test.sh: unknown stage '$s' (gcc, clang, sanitize)" >&2; exit 2 ;;
  esac
done
wanted() { [[ " ${stages[*]} " == *" $1 "* ]]; }

bash scripts/setup.sh

# The instruction set the build probe finds (CTNN_SIMD=auto), without a build.
has_avx512() {
  grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
    grep -qw avx512dq /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo
}

# CI builds a clean clone on a clean machine: ccache would only miss, and a
# miss costs more than the compile where a source loads a precompiled header
# (a compile-fail twin: 3.3 s through ccache, 1.2 s without).
ci_flags=()
if [[ "${CI:-}" == true ]]; then ci_flags=(-DCTNN_NO_CCACHE=ON); fi

summary=()
# stage NAME DIR [cmake args...]: configure, build and run the tests of one build.
stage() {
  local name=$1 dir=$2
  shift 2
  local start=$SECONDS
  echo "== $name: configure and build in $dir"
  # ccache is picked up by CMakeLists.txt when installed (not in CI, above).
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${ci_flags[@]}" "$@"
  cmake --build "$dir" -j 2
  local built=$SECONDS
  echo "== $name: tests"
  ctest --test-dir "$dir" --output-on-failure -j 2
  summary+=("$name: built in $((built - start)) s, tested in $((SECONDS - built)) s")
}

# -O2 for g++: a third less compile time than -O3 (tests/unit/kernels/gemm.cpp
# 40 s instead of 59 s of CPU). What -O3 adds are loop transformations that
# change no floating-point result without -ffast-math; the clang stage
# compiles at -O3, and so do the main job and the benchmarks.
wanted gcc && stage "g++ 12" build -DCTNN_HEAVY_TESTS=ON "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
if wanted clang; then
  clang_simd=()
  if has_avx512; then clang_simd=(-DCTNN_SIMD=avx2); fi
  stage "clang 16${clang_simd:+, AVX2 kernels on an AVX-512 machine}" build-clang \
    -DCMAKE_CXX_COMPILER=clang++-16 "${clang_simd[@]}" -DCTNN_HEAVY_TESTS=OFF -DCTNN_ONNX_CONFORMANCE=ON
fi
if wanted sanitize; then
  # A finding fails the test that met it (-fno-sanitize-recover=all); leaks
  # are findings too.
  export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
  export UBSAN_OPTIONS=print_stacktrace=1
  # -O1, as AddressSanitizer advises: a third less compile time than -O3
  # (train_lenet: 18 s instead of 29 s of CPU) for a fifth more run time.
  stage "clang 16, AddressSanitizer + UndefinedBehaviorSanitizer" build-asan \
    -DCMAKE_CXX_COMPILER=clang++-16 -DCTNN_SANITIZE=address,undefined -DCTNN_HEAVY_TESTS=OFF \
    -DCMAKE_CXX_FLAGS=-gline-tables-only "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG"
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
