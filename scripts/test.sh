#!/usr/bin/env bash
# Installs dependencies, builds everything and runs all tests, first with g++
# (./build) and then with clang 16 (./build-clang): ctnn must build with both.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# ccache is picked up by CMakeLists.txt when installed.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j 2
ctest --test-dir build --output-on-failure -j 2

echo "== the same with clang++-16"
cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-16
cmake --build build-clang -j 2
ctest --test-dir build-clang --output-on-failure -j 2
