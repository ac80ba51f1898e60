#!/usr/bin/env bash
# Builds the training app in ./build and runs it; arguments are passed through.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j 2 --target ctnn_train
exec build/dsl/apps/ctnn_train "$@"
