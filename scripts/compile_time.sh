#!/usr/bin/env bash
# Compile-time gate: builds tests/compile_time/resnet_graph.cpp (a generated
# ResNet-shaped network, forward and backward instantiated) with g++ and
# clang++-16 at several sizes, each under /usr/bin/time, runs each binary, and
# writes the table to docs/compile-time.md.
#
# The gate is the CTNN_CT_GATE-block build (default 42 blocks = 173 nodes): it
# must compile, link and run within CTNN_CT_MAX_S wall-clock seconds (30) and
# CTNN_CT_MAX_MB MB peak RSS (2048) with every compiler found; exit status 1
# otherwise. The other sizes show the scaling and do not decide the exit
# status; neither does the baseline row (a program that only includes
# <ctnn/ctnn.hpp>), which shows what the headers alone cost.
#
# Environment: CXX (default c++), CLANGXX (default clang++-16),
# CTNN_CT_SIZES (blocks per build, default "14 42 99": 61, 173, 401 nodes),
# CTNN_CT_REPEAT (builds per row, the fastest is kept; default 1).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

gxx=${CXX:-c++}
clangxx=${CLANGXX:-clang++-16}
sizes=${CTNN_CT_SIZES:-14 42 99}
gate=${CTNN_CT_GATE:-42}
max_s=${CTNN_CT_MAX_S:-30}
max_mb=${CTNN_CT_MAX_MB:-2048}
repeat=${CTNN_CT_REPEAT:-1}
src=tests/compile_time/resnet_graph.cpp
flags=(-std=c++20 -O2 -march=x86-64-v3 -fopenmp -I include)
out_md=docs/compile-time.md

if [[ ! -x /usr/bin/time ]]; then
  echo "compile_time.sh: /usr/bin/time (GNU time) is required" >&2
  exit 2
fi

case " $sizes " in *" $gate "*) ;; *) sizes="$sizes $gate" ;; esac

# Binaries and compiler logs are kept for inspection (build*/ is git-ignored).
work=build/compile_time
mkdir -p "$work"
baseline_src="$work/header_only.cpp"
printf '#include <ctnn/ctnn.hpp>\nint main() { return 0; }\n' >"$baseline_src"

compilers=()
notes=()
for c in "$gxx" "$clangxx"; do
  if command -v "$c" >/dev/null 2>&1; then
    compilers+=("$c")
  else
    notes+=("- \`$c\` not found: skipped.")
    echo "compile_time.sh: $c not found, skipped" >&2
  fi
done
if [[ ${#compilers[@]} -eq 0 ]]; then
  echo "compile_time.sh: no compiler found" >&2
  exit 2
fi

# Why a build failed, in one line.
failure_reason() {
  local log=$1
  if grep -q 'constexpr evaluation hit maximum step limit' "$log"; then
    echo "compile error: constexpr step limit (clang -fconstexpr-steps, default 1048576)"
  elif grep -qE 'constexpr loop iteration count exceeds|constexpr evaluation operation count exceeds' "$log"; then
    echo "compile error: constexpr operation limit (g++)"
  elif grep -qE 'template instantiation depth exceeds|recursive template instantiation exceeded maximum depth' "$log"; then
    echo "compile error: template instantiation depth limit"
  elif grep -q 'Killed\|signal 9' "$log"; then
    echo "compiler killed (out of memory?)"
  else
    local first
    first=$(grep -m1 -E 'error' "$log" | cut -c1-160)
    echo "compile error: ${first:-see log}"
  fi
}

rows=()
gate_ok=1
steps_noted=0
fmt='%-12s %8s %6s %9s %7s %8s %5s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" compiler blocks nodes seconds "CPU s" "peak MB" load result

# measure <compiler> <blocks|baseline>: one table row (the fastest of $repeat builds).
measure() {
  local c=$1 b=$2 cname tag bin log tim load build_rc secs kb usr sys mb cpu nodes verdict note role
  local best_secs="" best_line="" best_load="" i s
  cname=$(basename "$c")
  tag="${cname}_$b"
  bin="$work/resnet_$tag"
  log="$work/log_$tag.txt"
  tim="$work/time_$tag.txt"
  for ((i = 0; i < repeat; i++)); do
    rm -f "$bin"
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [[ $b == baseline ]]; then
      /usr/bin/time -o "$tim" -f '%e %M %U %S' "$c" "${flags[@]}" "$baseline_src" -o "$bin" >"$log" 2>&1
    else
      /usr/bin/time -o "$tim" -f '%e %M %U %S' "$c" "${flags[@]}" -DCTNN_BLOCKS="$b" "$src" -o "$bin" >"$log" 2>&1
    fi
    build_rc=$?
    s=$(tail -n1 "$tim" | cut -d' ' -f1)
    if [[ -z $best_secs ]] || awk -v a="$s" -v b="$best_secs" 'BEGIN { exit !(a < b) }'; then
      best_secs=$s best_line=$(tail -n1 "$tim") best_load=$load
    fi
    [[ $build_rc -ne 0 ]] && break  # a compile error does not go away on a retry
  done
  read -r secs kb usr sys <<<"$best_line"
  load=$best_load
  mb=$(awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }')
  cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  verdict=pass
  note=""
  if [[ $b == baseline ]]; then
    nodes="-"
    role="baseline"
    if [[ $build_rc -ne 0 ]]; then
      verdict=fail
      note=$(failure_reason "$log")
    else
      note="\`#include <ctnn/ctnn.hpp>\` and an empty main()"
    fi
  else
    nodes=$((5 + 4 * b))
    role=scaling
    [[ $b == "$gate" ]] && role=gate
    if [[ $build_rc -ne 0 ]]; then
      verdict=fail
      note=$(failure_reason "$log")
    else
      local run_out run_rc n
      run_out=$("$bin" 2>&1)
      run_rc=$?
      n=$(sed -n 's/.* \([0-9]*\) nodes.*/\1/p' <<<"$run_out")
      [[ -n $n ]] && nodes=$n
      if [[ $run_rc -ne 0 ]]; then
        verdict=fail
        note="binary failed: $run_out"
      else
        note="runs: ${run_out#resnet_graph: }"
      fi
    fi
    if awk -v s="$secs" -v m="$mb" -v S="$max_s" -v M="$max_mb" 'BEGIN { exit !(s > S || m > M) }'; then
      verdict=fail
      note="${note:+$note; }over the limit (${max_s} s / ${max_mb} MB)"
    fi
    [[ $role == gate && $verdict != pass ]] && gate_ok=0
  fi
  # shellcheck disable=SC2059
  printf "$fmt" "$cname" "$b" "$nodes" "$secs" "$cpu" "$mb" "$load" "$verdict ($role)${note:+  $note}"
  rows+=("| $cname | $b | $nodes | $secs | $cpu | $mb | $load | $verdict | $role | $note |")
  if [[ $note == *"constexpr step limit"* && $steps_noted -eq 0 ]]; then
    steps_noted=1
    notes+=("- The constexpr step limit is hit while clang evaluates the network's plan"
      "  (\`ctnn::graph::plan = make_plan(...)\`, include/ctnn/graph/plan.hpp): clang counts every"
      "  statement of one constant expression against \`-fconstexpr-steps\` (default 1048576), and"
      "  make_plan's steps grow about linearly with the node count (about 1,100 per node).")
  fi
  if [[ $build_rc -ne 0 ]]; then
    echo "    first lines of the log ($log):"
    grep -m3 -E 'error|note' "$log" | cut -c1-200 | sed 's/^/      /'
  fi
}

for c in "${compilers[@]}"; do
  measure "$c" baseline
  for b in $sizes; do measure "$c" "$b"; done
done

# --- docs/compile-time.md ---------------------------------------------------------
mkdir -p docs
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: *//')
versions=""
for c in "${compilers[@]}"; do versions+="- \`$c\`: $("$c" --version | head -n1)"$'\n'; done
{
  echo "# Compile time of a generated ResNet-shaped network"
  echo
  echo "Generated by \`scripts/compile_time.sh\`; do not edit by hand."
  echo
  echo "What is measured: wall-clock seconds and peak resident memory (\`/usr/bin/time -f '%e %M'\`)"
  echo "of one compile-and-link of \`$src\`: a network generated by the compiler itself"
  echo "(a stem, \`CTNN_BLOCKS\` residual blocks \`relu(x + fc2(relu(fc1(x))))\` each bound as a"
  echo "variable template and read through \`ctnn::ref<>\`, every 5th block tying its weights by"
  echo "name to an earlier one, a dense head and softmax cross-entropy; 5 + 4·blocks nodes)."
  echo "The translation unit instantiates the full training step (forward, backward, SGD update)"
  echo "through \`ctnn::trainer<Net, ctnn::batch<8>>::step\` and the batch-1 inference pass"
  echo "\`predict_one\`; the binary is run on zero data and must return a finite loss."
  echo "The gate is the ${gate}-block build ($((5 + 4 * gate)) nodes): at most ${max_s} s and ${max_mb} MB with every"
  echo "compiler; the other sizes show the scaling, and the baseline row is a program that only"
  echo "includes \`<ctnn/ctnn.hpp>\` (what the headers alone cost). No \`-ftemplate-depth\` or"
  echo "\`-fconstexpr-*\` flags are used. Each row is the fastest of ${repeat} build(s)."
  echo
  echo "Machine: $(nproc) cores, ${cpu_model}. Measured $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "The limits apply to wall-clock seconds, which depend on what else the machine runs: the"
  echo "\`load\` column is the 1-minute load average just before the build (above $(nproc), other jobs"
  echo "competed for the cores), and \`CPU s\` (user + sys of compiler and linker) is the steadier"
  echo "figure (though it too grows on a loaded machine)."
  echo
  echo "Compilers:"
  echo
  printf '%s' "$versions"
  echo
  echo "Reproduce from the repository root: \`bash scripts/compile_time.sh\` (options:"
  echo "\`CTNN_CT_SIZES=\"14 42 99\"\`, \`CTNN_CT_REPEAT=1\`, \`CXX\`, \`CLANGXX\`). Each row is"
  echo
  echo '```sh'
  echo "/usr/bin/time -f '%e %M %U %S' <compiler> ${flags[*]} -DCTNN_BLOCKS=<blocks> $src -o resnet && ./resnet"
  echo '```'
  echo
  echo "| compiler | blocks | nodes | seconds (wall) | CPU s (user+sys) | peak MB | load | result | role | note |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  if [[ ${#notes[@]} -gt 0 ]]; then
    echo
    echo "Notes:"
    echo
    printf '%s\n' "${notes[@]}"
  fi
} >"$out_md"
echo "wrote $out_md"

if [[ $gate_ok -ne 1 ]]; then
  echo "compile_time.sh: the ${gate}-block gate failed (limit ${max_s} s / ${max_mb} MB)" >&2
  exit 1
fi
exit 0
