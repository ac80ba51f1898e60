#!/usr/bin/env bash
# Regenerates docs/models.md from the network types in dsl/models.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j 2 --target ctnn_model_summaries
build/dsl/apps/ctnn_model_summaries > docs/models.md
echo "model_summaries: wrote docs/models.md"
