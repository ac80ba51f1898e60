#!/usr/bin/env bash
# Builds the training app in ./build, runs it and plots its curves.
# Without arguments it runs the main job's default: LeNet
# (dsl/models/lenet.hpp) by Adam at 1e-3 with cosine decay for 5 epochs
# (under two minutes on one core), which reaches >= 0.90 test accuracy
# (docs/guide.md, section 4). Arguments are passed through, e.g. the MLP
# reference run: --model mlp --optimizer adam --lr 1e-3 --schedule cosine
# --batch-norm --dropout 0.2 --epochs 20.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j 2 --target ctnn_train

build/dsl/apps/ctnn_train "$@"

# The curves, into the run's --out directory (default out), if matplotlib is there.
out=out
for ((i = 1; i <= $#; ++i)); do
  case "${!i}" in
    --out) j=$((i + 1)); out="${!j:-out}" ;;
    --out=*) out="${!i#--out=}" ;;
    --help | -h) exit 0 ;;
  esac
done
for py in /usr/bin/python3 python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import matplotlib' 2>/dev/null; then
    exec "$py" scripts/plot_curves.py "$out"
  fi
done
echo "train.sh: matplotlib not found (Debian: python3-matplotlib); curves.png not drawn" >&2
