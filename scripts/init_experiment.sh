#!/usr/bin/env bash
# Builds and runs the initialization experiment, then plots it.
# Arguments are passed to ctnn_init_experiment (--out DIR, --seed S, --threads T).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=out/init_experiment
args=("$@")
for ((i = 0; i < ${#args[@]}; ++i)); do
  if [[ ${args[i]} == --out && $((i + 1)) -lt ${#args[@]} ]]; then out=${args[i + 1]}; fi
done

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j 2 --target ctnn_init_experiment
build/dsl/apps/ctnn_init_experiment "$@"
# Debian's interpreter has Debian's matplotlib (a python3 from pyenv may not).
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
"$python" scripts/plot_init_experiment.py "$out/init_experiment.csv" "$out/init_experiment.png" ||
  echo "init_experiment.sh: no plot; the CSV is $out/init_experiment.csv" >&2
