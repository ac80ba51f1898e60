#!/usr/bin/env bash
# Regenerates docs/gallery.md and its pictures (docs/gallery/): what the main
# job's LeNet looks at, by ctnn_explain. Trains LeNet with the main job's
# defaults (ctnn_train --model lenet: Adam, cosine decay, 5 epochs, seed 1)
# unless a checkpoint is given, then runs every method of ctnn_explain on it
# and writes the page from its report.json. Then the autoencoders and the VAE:
# ctnn_generative autoencoder, denoising and vae with their defaults (about
# half a minute each), their pictures and curves (scripts/plot_generative.py);
# and the GAN, ctnn_generative gan with its defaults (several minutes), its
# samples scored by the same LeNet. Last, ctnn_spatial with its defaults
# (LeNet against STN-LeNet on distorted images, about four minutes on one
# core): its picture and curves.
#   bash scripts/gallery.sh                  train, then explain
#   bash scripts/gallery.sh out/lenet.npz    explain this checkpoint
# BUILD (default build) is the build directory; JOBS (default 2) its jobs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${BUILD:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target ctnn_explain ctnn_generative ctnn_spatial

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

for command in autoencoder denoising vae; do
  "$build"/dsl/apps/ctnn_generative "$command" --quiet --out "out/gallery_$command"
  cp "out/gallery_$command"/*.png docs/gallery/
  /usr/bin/python3 scripts/plot_generative.py "out/gallery_$command"
  cp "out/gallery_$command/curves.png" "docs/gallery/${command}_curves.png"
done

"$build"/dsl/apps/ctnn_generative gan --quiet --classifier "$checkpoint" --out out/gallery_gan
cp out/gallery_gan/gan_samples.png docs/gallery/
cp out/gallery_gan/samples_epoch_1.png docs/gallery/gan_samples_epoch_1.png
/usr/bin/python3 scripts/plot_generative.py out/gallery_gan
cp out/gallery_gan/curves.png docs/gallery/gan_curves.png

"$build"/dsl/apps/ctnn_spatial --threads 1 --quiet --out out/gallery_spatial
cp out/gallery_spatial/spatial_transformer.png docs/gallery/
/usr/bin/python3 scripts/plot_spatial.py out/gallery_spatial
cp out/gallery_spatial/curves.png docs/gallery/spatial_curves.png

/usr/bin/python3 scripts/gallery_page.py out/gallery_report.json docs/gallery.md \
  out/gallery_autoencoder/report.json out/gallery_denoising/report.json out/gallery_vae/report.json \
  out/gallery_gan/report.json out/gallery_spatial/report.json
echo "gallery.sh: wrote docs/gallery.md"
