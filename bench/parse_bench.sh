#!/usr/bin/env bash
# Frontend benchmark: times `kiln parse --json` and `kiln graph --format json` on a generated
# 10,000-instruction Dockerfile and checks each median wall time against its target; the median
# CPU time (user + system) is printed beside it.
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

# Median of numbers (one a line) in nanoseconds, printed in milliseconds with 3 decimals.
median_ms() {
  sort -n | awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
                                      printf "%.3f\n", m / 1e6 }'
}

# Runs the command `runs` times after one untimed warm-up run and sets `wall_ms` and `cpu_ms`
# to the medians of its wall-clock and CPU (user + system) times; fails when the command does.
# CPU time comes from /usr/bin/time (10 ms resolution) and is "-" without it: on a shared,
# loaded machine it tells what the command costs while the wall time tells what a user waits.
measure() {
  local -a walls=() cpus=()
  "$@" >/dev/null || { echo "parse_bench: failed: $*" >&2; return 1; }
  for ((i = 0; i < runs; i++)); do
    local start end
    start=$(date +%s%N)
    if [[ -x /usr/bin/time ]]; then
      /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null
      cpus+=("$(awk '{ printf "%d", ($1 + $2) * 1e9 }' "$work/cpu")")
    else
      "$@" >/dev/null
    fi
    end=$(date +%s%N)
    walls+=($((end - start)))
  done
  wall_ms=$(printf '%s\n' "${walls[@]}" | median_ms)
  cpu_ms=-
  ((${#cpus[@]})) && cpu_ms=$(printf '%s\n' "${cpus[@]}" | median_ms)
  return 0
}

status=0
report() {  # name
  local verdict=ok
  if awk -v m="$wall_ms" -v t="$target_ms" 'BEGIN { exit !(m > t) }'; then
    verdict=MISSED
    status=1
  fi
  printf '%-26s median wall %9s ms, cpu %9s ms over %d runs (target %d ms wall): %s\n' "$1" \
    "$wall_ms" "$cpu_ms" "$runs" "$target_ms" "$verdict"
}

steps=$("$KILN" graph --format json "$work" |
  python3 -c 'import json, sys; g = json.load(sys.stdin); print(len(g["stages"]), len(g["steps"]))')
echo "graph: ${steps% *} stages, ${steps#* } steps; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

measure "$KILN" parse --json "$work/Dockerfile"
report "kiln parse --json"
measure "$KILN" graph --format json "$work"
report "kiln graph --format json"
exit $status
