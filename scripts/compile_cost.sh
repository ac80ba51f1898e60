#!/usr/bin/env bash
# Compile time and peak compiler memory of each model in dsl/models, as a
# user's program instantiates it (trainer step and predict_one at batch 64),
# with the flags of the benchmark build and without ccache.
#   bash scripts/compile_cost.sh <configured build dir> <out.csv>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:?build directory}
out=${2:?output csv}

# The benchmark TU's compile command, minus its source and output.
mapfile -d '' command < <(python3 - "$build/compile_commands.json" <<'PY'
import json, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"].endswith("bench/nets_static.cpp"):
        args = shlex.split(entry["command"])
        keep, skip = [], False
        for a in args:
            if skip: skip = False; continue
            if a in ("-o", "-c", "-MF", "-MT"): skip = True; continue
            if a.endswith("nets_static.cpp") or a == "-MD" or a.startswith("-DCTNN_BENCH"): continue
            keep.append(a)
        sys.stdout.write("\0".join(keep) + "\0"); break
else:
    sys.exit("compile_cost: bench/nets_static.cpp not in compile_commands.json")
PY
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The network types to measure: each header's `network`, or those listed
# here for a header that defines a family of them.
declare -A types=([resnet]="resnet18<224> resnet34<224> resnet50<224>")

measure() {  # header, network type, the name in the report
  local header=$1 type=$2 model=$3
  cat > "$tmp/$model.cpp" <<CPP
#include "models/$(basename "$header")"

#include <cstdio>
#include <tuple>
#include <utility>
#include <vector>

// What a program training and running this model instantiates.
using net = ctnn::models::$(basename "$header" .hpp)::$type;
// Leaf I's data by its name; as a tuple of one, or none if output 0 does not read it.
template <std::size_t I>
auto leaf_feed(const float* p) {
  return ctnn::feed<net::template node_at<net::leaf_ids.first[I]>::op::name>(p);
}
template <std::size_t I>
auto predict_feed(const float* p) {
  if constexpr (ctnn::detail::nodes_read<net, 0>[net::leaf_ids.first[I]]) return std::tuple{leaf_feed<I>(p)};
  else return std::tuple<>{};
}
template <std::size_t... I>
float drive(std::index_sequence<I...>) {
  static ctnn::trainer<net, ctnn::batch<64>> t;
  std::vector<float> data(64 * 4096, 0.5f);
  const float loss = t.step(leaf_feed<I>(data.data())...);
  return loss + std::apply([](const auto&... f) { return t.predict_one(f...)[0]; },
                           std::tuple_cat(predict_feed<I>(data.data())...));
}
int main() {
  std::printf("%zu %zu %f\n", net::node_count, net::param_count, drive(std::make_index_sequence<net::leaf_count>{}));
}
CPP
  if ! /usr/bin/time -f "%e %M" -o "$tmp/$model.time" "${command[@]}" -c "$tmp/$model.cpp" -o "$tmp/$model.o" \
      > "$tmp/$model.log" 2>&1; then
    echo "compile_cost: $model ($type) does not compile:" >&2
    head -n 40 "$tmp/$model.log" >&2
    exit 1
  fi
  read -r seconds kb < <(tail -n 1 "$tmp/$model.time")
  printf '%s,%s,%s\n' "$model" "$seconds" "$((kb / 1024))" >> "$out.tmp.$$"
  echo "compile_cost: $model ${seconds} s, $((kb / 1024)) MB"
}

for header in dsl/models/*.hpp; do
  family=$(basename "$header" .hpp)
  if [[ -n "${types[$family]:-}" ]]; then
    for type in ${types[$family]}; do measure "$header" "$type" "${type%%<*}"; done
  elif grep -q "^using network" "$header"; then
    measure "$header" network "$family"
  else
    # The init experiment's networks are outputs only: nothing to train.
    echo "compile_cost: $family skipped (no trainable 'network' type)"
  fi
done
{ echo "model,seconds,peak_mb"; cat "$out.tmp.$$"; } > "$out"
rm -f "$out.tmp.$$"
