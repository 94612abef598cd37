#!/usr/bin/env bash
# Installs dependencies, builds kiln, then does kiln's main job on its default store: builds the
# busybox base and the multistage example, and lists the images.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF
cmake --build build/release -j "$(nproc)"
kiln=build/release/cli/kiln

# The base image's context: the example plus Debian's static busybox, outside the source tree.
base=$(mktemp -d)
trap 'rm -rf "$base"' EXIT
cp -r examples/busybox-base/. "$base"
cp /bin/busybox "$base/busybox"

"$kiln" build --progress=plain -t kiln-busybox:latest "$base"
"$kiln" build --progress=plain -t hello:1 examples/multistage
"$kiln" images
