#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang 16 (in ./build-fuzz)
# and runs each for a set time, one after another:
#
#   scripts/fuzz.sh                                # every target, 60 s each
#   scripts/fuzz.sh --target npz --seconds 1800    # one target, 30 minutes
#   scripts/fuzz.sh --target idx_images --target idx_labels --seconds 300
#
# Seeds come from tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target>,
# copied into a working corpus under build-fuzz/fuzz-corpus/<target> (the
# inputs libFuzzer adds stay there, not in the repository). A crash, a leak,
# a timeout or an out-of-memory input is saved into
# tests/fuzz/regressions/<target>/ for CTest's fuzz_replay.<target> to replay
# once fixed. The end prints, per target: run time, executions, coverage
# (libFuzzer's final cov: and ft:), corpus size and any finding; the exit
# status is 1 if a target found something.
#
# Options: --target NAME (repeatable; default all), --seconds N (default 60),
# --jobs N (build parallelism, default: all cores), --no-build, and anything
# after `--` goes to libFuzzer (e.g. -- -max_len=8192).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all_targets=(idx_images idx_labels npz checkpoint command_line)
targets=()
seconds=60
jobs=$(nproc)
build=1
extra=()
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) targets+=("${2:?--target needs a name}"); shift 2 ;;
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds takes a positive whole number, got '$seconds'" >&2; exit 2; }
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: no fuzz target '$t' (targets: ${all_targets[*]})" >&2; exit 2; }
done

if [[ $build -eq 1 ]]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-16 \
    -DCTNN_BUILD_FUZZ=ON -DCTNN_BUILD_APPS=OFF >/dev/null
  cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"
fi

# Stack traces with names: ASan finds no symbolizer under clang 16's own name.
for s in llvm-symbolizer-16 llvm-symbolizer; do
  if command -v "$s" >/dev/null; then export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v "$s")}"; break; fi
done

summary=()
found=0
for t in "${targets[@]}"; do
  work="build-fuzz/fuzz-corpus/$t"
  regressions="tests/fuzz/regressions/$t"
  log="build-fuzz/fuzz-$t.log"
  mkdir -p "$work" "$regressions"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  find "$regressions" -maxdepth 1 -type f ! -name '.*' ! -name 'README.md' -exec cp -n {} "$work"/ \;
  before=$(find "$regressions" -maxdepth 1 -type f | wc -l)
  echo "== fuzz_$t for ${seconds} s (log: $log)"
  start=$(date +%s)
  rc=0
  own=()
  # The command line's usage errors go to stderr on most inputs: closed, or
  # they would flood the log and slow the run down.
  [[ $t == command_line ]] && own=(-close_fd_mask=3)
  # -timeout: an input that takes 10 s is a finding (saved as timeout-*);
  # -rss_limit_mb: so is one that needs 2 GB (oom-*).
  "build-fuzz/tests/fuzz_$t" "$work" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$regressions/" "${own[@]}" "${extra[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: [0-9]+' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  after=$(find "$regressions" -maxdepth 1 -type f | wc -l)
  status="no finding"
  if [[ $rc -ne 0 || $after -ne $before ]]; then
    status="FINDING (exit $rc), input saved in $regressions/; see $log"
    found=1
    grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -5 || true
  fi
  summary+=("$(printf '%-11s %6s s  %12s execs  cov %-6s ft %-7s corpus %-5s %s' \
    "$t" "$elapsed" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$status")")
done

echo
echo "== summary (libFuzzer's final stats)"
printf '%s\n' "${summary[@]}"
exit $found
