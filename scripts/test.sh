#!/usr/bin/env bash
# Installs dependencies, builds everything and runs all tests:
#   gcc        g++ 12, the machine's widest instruction set      (./build)
#   clang      clang 16, the same, and ONNX's backend test cases
#              (CTNN_ONNX_CONFORMANCE)                            (./build-clang)
#   avx2       on a machine with AVX-512 only: g++ once more with
#              the AVX2 kernels (CTNN_SIMD=avx2), so that neither
#              instruction set's code goes untested; only the tests
#              that run a SIMD kernel (CTNN_KERNEL_TESTS_ONLY)    (./build-avx2)
#   sanitize   clang 16 with AddressSanitizer and UndefinedBehavior-
#              Sanitizer, the model-sized tests left out; it replays
#              the fuzz corpus under the sanitizers too           (./build-asan)
# `bash scripts/test.sh clang sanitize` runs only those stages.
#
# What runs where, so that the four stages stay under an hour on two cores
# with every compiler and every instruction set's kernels tested:
# - every test that runs kernels runs with each compiler and under each
#   instruction set; the model-sized tests (CTNN_HEAVY_TESTS, a fifth of the
#   compile time) no more than that takes: in the clang stage (AVX-512) and
#   with g++ in the avx2 stage (AVX2), and in the gcc stage only when the
#   avx2 stage does not run (the PyTorch round trips of ResNet-18 and -50,
#   GoogLeNet and AlexNet are among them: 2.5 minutes of one core a stage;
#   the avx2 stage leaves every round trip out: they check the importer);
# - the compile-fail and documentation tests are a compiler's verdict: once
#   per compiler, in the gcc and clang stages;
# - the applications (whose networks the train_* tests run), the file
#   readers, the fuzz replays and the install test do not depend on the
#   kernels: not in the avx2 stage;
# - ONNX's backend test cases once, with clang, the faster compiler of
#   their generated headers;
# - the sanitizer stage compiles with -O1 (below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stages=("$@")
if ((${#stages[@]} == 0)); then stages=(gcc clang avx2 sanitize); fi
for s in "${stages[@]}"; do
  case "$s" in
    gcc | clang | avx2 | sanitize) ;;
    *) echo "test.sh: unknown stage '$s' (gcc, clang, avx2, sanitize)" >&2; exit 2 ;;
  esac
done
wanted() { [[ " ${stages[*]} " == *" $1 "* ]]; }

bash scripts/setup.sh

# The instruction set the build probe finds (CTNN_SIMD=auto), without a build.
has_avx512() {
  grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
    grep -qw avx512dq /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo
}

summary=()
# stage NAME DIR [cmake args...]: configure, build and run the tests of one build.
stage() {
  local name=$1 dir=$2
  shift 2
  local start=$SECONDS
  echo "== $name: configure and build in $dir"
  # ccache is picked up by CMakeLists.txt when installed.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "$dir" -j 2
  local built=$SECONDS
  echo "== $name: tests"
  ctest --test-dir "$dir" --output-on-failure -j 2
  summary+=("$name: built in $((built - start)) s, tested in $((SECONDS - built)) s")
}

# The avx2 stage builds the model-sized tests with g++; without it, the gcc stage does.
# Likewise kernels_avx2, the kernel tests with the AVX2 kernels in a build
# for AVX-512: the avx2 stage runs them with the same compiler.
gcc_heavy=ON
if wanted avx2 && has_avx512; then gcc_heavy=OFF; fi

wanted gcc && stage "g++ 12" build -DCTNN_HEAVY_TESTS=$gcc_heavy -DCTNN_AVX2_KERNEL_TWIN=$gcc_heavy
wanted clang && stage "clang 16" build-clang -DCMAKE_CXX_COMPILER=clang++-16 -DCTNN_ONNX_CONFORMANCE=ON
if wanted avx2; then
  if has_avx512; then
    stage "g++ 12, AVX2 kernels on an AVX-512 machine" build-avx2 -DCTNN_SIMD=avx2 \
      -DCTNN_KERNEL_TESTS_ONLY=ON -DCTNN_COMPILE_FAIL_TESTS=OFF -DCTNN_BUILD_APPS=OFF
  else
    summary+=("AVX2 stage: not needed, the gcc and clang stages ran the AVX2 kernels")
  fi
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
