#!/usr/bin/env bash
# Installs dependencies, builds kiln twice (warnings as errors; ASan+UBSan) and runs the test suite:
# every test in the first build, the unit tests again under the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON
cmake --build build/ci -j "$jobs"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_WERROR=ON -DKILN_SANITIZE=ON
cmake --build build/asan -j "$jobs"

status=0
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -L unit -j "$jobs" --output-on-failure) || status=1
(cd build/ci && ctest -j "$jobs" --output-on-failure) || status=1
exit $status
