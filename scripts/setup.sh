#!/usr/bin/env bash
# Installs the system packages needed to build, test and train.
# Idempotent: apt is only touched when something is missing.
#   bash scripts/setup.sh          what building, testing and training need
#                                  (fortunes: the text ctnn_char_lm learns;
#                                  python3-onnx, python3-torch: the ONNX
#                                  importer's tests and the PyTorch round trip;
#                                  libonnx-testdata: ONNX's backend test
#                                  cases, run by test.sh's clang stage)
#   bash scripts/setup.sh bench    also the benchmarks' peers (Eigen,
#                                  OpenBLAS, LibTorch), matplotlib and Boost
#                                  (bench/compile/hana_vs_constexpr.py)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache
  xtensor-dev libxsimd-dev zlib1g-dev libpng-dev
  catch2 libbenchmark-dev
  clang-16 libomp-16-dev libclang-rt-16-dev
  libcli11-dev nlohmann-json3-dev
  dataset-fashion-mnist fortunes time python3-matplotlib python3-onnx
  python3-torch libonnx-testdata
)
if [[ "${1:-}" == "bench" ]]; then
  packages+=(libeigen3-dev libopenblas-dev libtorch-dev libboost-dev)
fi

missing=()
for pkg in "${packages[@]}"; do
  # dpkg-query fails for packages dpkg has never seen; treat that as missing.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" == "install ok installed" ]]; then
    echo "setup: $pkg already installed"
  else
    echo "setup: $pkg missing"
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: nothing to install"
  exit 0
fi

as_root=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup: apt-get update"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
echo "setup: apt-get install ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: done"
