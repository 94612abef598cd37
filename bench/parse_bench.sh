#!/usr/bin/env bash
# Frontend benchmark: times `kiln parse --json` and `kiln graph --format json` on a generated
# 10,000-instruction Dockerfile and checks each median against its target.
#
# Usage: bench/parse_bench.sh
# Environment:
#   KILN=path          use this kiln binary instead of building one (Release, in $BUILD_DIR)
#   BUILD_DIR=dir      where to build kiln when KILN is unset (default build/release)
#   RUNS=n             timed runs per command (default 7; the median is reported)
#   INSTRUCTIONS=n     size of the generated Dockerfile (default 10000)
#   TARGET_MS=n        target for each median, in milliseconds (default 100)
# Exits 1 when a command fails or a median misses its target.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-7}
instructions=${INSTRUCTIONS:-10000}
target_ms=${TARGET_MS:-100}

if [[ -z "${KILN:-}" ]]; then
  build_dir=${BUILD_DIR:-build/release}
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" --target kiln -j "$(nproc)" >/dev/null
  KILN=$build_dir/cli/kiln
fi
[[ -x "$KILN" ]] || { echo "parse_bench: no kiln binary at $KILN" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_dockerfile.py -n "$instructions" -o "$work/Dockerfile"
echo "Dockerfile: $instructions instructions, $(wc -l <"$work/Dockerfile") lines," \
  "$(wc -c <"$work/Dockerfile") bytes"

# Prints the median wall time in milliseconds (3 decimals) of `runs` runs of the command, after
# one untimed warm-up run; fails when the command does.
median_ms() {
  local -a times=()
  "$@" >/dev/null || { echo "parse_bench: failed: $*" >&2; return 1; }
  for ((i = 0; i < runs; i++)); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    times+=($((end - start)))
  done
  printf '%s\n' "${times[@]}" | sort -n |
    awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
                               printf "%.3f\n", m / 1e6 }'
}

status=0
report() {  # name median
  local verdict=ok
  if awk -v m="$2" -v t="$target_ms" 'BEGIN { exit !(m > t) }'; then
    verdict=MISSED
    status=1
  fi
  printf '%-28s median %9s ms over %d runs (target %d ms): %s\n' "$1" "$2" "$runs" "$target_ms" \
    "$verdict"
}

steps=$("$KILN" graph --format json "$work" |
  python3 -c 'import json, sys; g = json.load(sys.stdin); print(len(g["stages"]), len(g["steps"]))')
echo "graph: ${steps% *} stages, ${steps#* } steps"

parse_ms=$(median_ms "$KILN" parse --json "$work/Dockerfile")
report "kiln parse --json" "$parse_ms"
graph_ms=$(median_ms "$KILN" graph --format json "$work")
report "kiln graph --format json" "$graph_ms"
exit $status
