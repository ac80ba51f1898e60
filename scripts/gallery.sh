#!/usr/bin/env bash
# Regenerates docs/gallery.md and its pictures (docs/gallery/): what the main
# job's LeNet looks at, by ctnn_explain. Trains LeNet with the main job's
# defaults (ctnn_train --model lenet: Adam, cosine decay, 5 epochs, seed 1)
# unless a checkpoint is given, then runs every method of ctnn_explain on it
# and writes the page from its report.json.
#   bash scripts/gallery.sh                  train, then explain
#   bash scripts/gallery.sh out/lenet.npz    explain this checkpoint
# BUILD (default build) is the build directory; JOBS (default 2) its jobs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${BUILD:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target ctnn_explain

checkpoint="${1:-}"
if [[ -z "$checkpoint" ]]; then
  cmake --build "$build" -j "${JOBS:-2}" --target ctnn_train
  checkpoint=out/gallery/lenet.npz
  "$build"/dsl/apps/ctnn_train --model lenet --quiet --out out/gallery --checkpoint "$checkpoint"
fi

# docs/gallery/ holds other pictures too: ctnn_explain replaces its own files only.
mkdir -p docs/gallery
"$build"/dsl/apps/ctnn_explain --checkpoint "$checkpoint" --out docs/gallery
mkdir -p out
mv docs/gallery/report.json out/gallery_report.json
/usr/bin/python3 scripts/gallery_page.py out/gallery_report.json docs/gallery.md
echo "gallery.sh: wrote docs/gallery.md"
