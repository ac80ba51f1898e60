#!/usr/bin/env bash
# Installs dependencies, builds everything and runs all tests:
#   gcc        g++ 12, the machine's widest instruction set      (./build)
#   clang      clang 16, the same                                 (./build-clang)
#   avx2       on a machine with AVX-512 only: g++ once more with
#              the AVX2 kernels (CTNN_SIMD=avx2), so that neither
#              instruction set's code goes untested               (./build-avx2)
#   sanitize   clang 16 with AddressSanitizer and UndefinedBehavior-
#              Sanitizer, the model-sized tests left out; it replays
#              the fuzz corpus under the sanitizers too           (./build-asan)
# `bash scripts/test.sh clang sanitize` runs only those stages.
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

wanted gcc && stage "g++ 12" build
wanted clang && stage "clang 16" build-clang -DCMAKE_CXX_COMPILER=clang++-16
if wanted avx2; then
  if has_avx512; then
    stage "g++ 12, AVX2 kernels on an AVX-512 machine" build-avx2 -DCTNN_SIMD=avx2 -DCTNN_COMPILE_FAIL_TESTS=OFF
  else
    summary+=("AVX2 stage: not needed, the gcc and clang stages ran the AVX2 kernels")
  fi
fi
if wanted sanitize; then
  # A finding fails the test that met it (-fno-sanitize-recover=all); leaks
  # are findings too.
  export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
  export UBSAN_OPTIONS=print_stacktrace=1
  stage "clang 16, AddressSanitizer + UndefinedBehaviorSanitizer" build-asan \
    -DCMAKE_CXX_COMPILER=clang++-16 -DCTNN_SANITIZE=address,undefined -DCTNN_HEAVY_TESTS=OFF \
    -DCMAKE_CXX_FLAGS=-gline-tables-only
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
