#!/usr/bin/env bash
# Builds the benchmark suite, measures compile cost and run time, and writes
# docs/benchmarks.md and docs/benchmarks.png. Run on an otherwise idle machine:
# the ratios are only as good as the quiet around them.
#   bash scripts/bench.sh [--quick]      (--quick: fewer repetitions)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Repetitions of all benchmarks run in a random interleaved order, so that a
# spell of interference (another process, a noisy neighbour on the host)
# spreads over every implementation instead of landing on one.
repetitions=7
min_time=0.4
if [[ "${1:-}" == "--quick" ]]; then repetitions=2; min_time=0.1; fi

bash scripts/setup.sh bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCTNN_BUILD_BENCH=ON -DCTNN_BUILD_TESTS=OFF -DCTNN_BUILD_APPS=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
cmake --build build-bench -j 2 --target ctnn_bench

mkdir -p out
echo "bench: compile cost of each model's translation unit"
bash scripts/compile_cost.sh build-bench out/compile_cost.csv

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: load average before the run: $load"
# OpenBLAS (under LibTorch and in the GEMM comparison) runs single-threaded:
# with LibTorch's own intra-op threads on top, its pool would oversubscribe
# the cores. (LibTorch's intra-op threads and ctnn's OpenMP regions are the
# same runtime, libgomp; a ctnn training step's team runs on ctnn's own
# threads, which sleep 1.3 ms after a step, so neither spins long beside the
# other's work.)
OPENBLAS_NUM_THREADS=1 build-bench/bench/ctnn_bench \
  --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_min_time="$min_time" \
  --benchmark_out=out/bench.json --benchmark_out_format=json \
  --benchmark_context="load_average=$load,command=bash scripts/bench.sh $*"

# The same training runs with another process holding one core: a busy
# loop, bounded in time, killed when the runs end. The adaptive thread
# policy has to notice the lost core and keep close to one thread's speed.
echo "bench: MLP training runs with one core held by a busy loop"
timeout 600 sh -c 'while :; do :; done' &
busy=$!
trap 'kill "$busy" 2>/dev/null || true' EXIT
sleep 1
OPENBLAS_NUM_THREADS=1 build-bench/bench/ctnn_bench --benchmark_filter='^mlp_train_run/' \
  --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out=out/bench_busy.json --benchmark_out_format=json
kill "$busy" 2>/dev/null || true
wait "$busy" 2>/dev/null || true

# On a machine with AVX-512 the default build runs its kernels; every row
# once more with the AVX2 kernels (CTNN_SIMD=avx2), so that a regression on
# either instruction set shows, against peers held to AVX2 as well: Eigen is
# compiled with the same flags, LibTorch's kernels are chosen by
# ATEN_CPU_CAPABILITY and OpenBLAS's by OPENBLAS_CORETYPE.
report_args=(--busy out/bench_busy.json)
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
  grep -qw avx512dq /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
  echo "bench: every row with the AVX2 kernels"
  cmake -S . -B build-bench-avx2 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_SIMD=avx2 \
    -DCTNN_BUILD_BENCH=ON -DCTNN_BUILD_TESTS=OFF -DCTNN_BUILD_APPS=OFF
  cmake --build build-bench-avx2 -j 2 --target ctnn_bench
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 build-bench-avx2/bench/ctnn_bench \
    --benchmark_filter='-^mlp_train_run/' \
    --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" \
    --benchmark_out=out/bench_avx2.json --benchmark_out_format=json \
    --benchmark_context="load_average=$load"
  report_args+=(--avx2 out/bench_avx2.json)
fi

# Debian's interpreter, which has Debian's matplotlib (a python3 earlier on
# PATH, e.g. from pyenv, may not).
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
"$python" scripts/bench_report.py out/bench.json out/compile_cost.csv docs/benchmarks.md docs/benchmarks.png \
  "${report_args[@]}"
echo "bench: wrote docs/benchmarks.md and docs/benchmarks.png"
