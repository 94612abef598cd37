#!/usr/bin/env bash
# Installs dependencies, builds kiln and runs its main job on an example.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF
cmake --build build/release -j "$(nproc)"
build/release/cli/kiln graph -f examples/multistage/Dockerfile examples/multistage
