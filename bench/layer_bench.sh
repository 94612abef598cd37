#!/usr/bin/env bash
# Layer-writing benchmark: generates a tree (about 1 GiB by default: many files of varied sizes,
# half random, half zeros), then measures on that same tree
#   (a) the peak RSS of writing its layer with kiln's LayerWriter       target < 64 MiB
#   (b) kiln's layer throughput against `tar -cf - DIR | sha256sum`     target >= 70% of tar's
# Both sides produce a tar and its SHA-256; throughput is tree bytes / best wall time of RUNS runs
# each, alternating, after one untimed warm-up that brings the tree into the page cache.
#
# Usage: bench/layer_bench.sh
# Environment:
#   LAYER_BENCH=path   use this layer_bench binary instead of building one (in $BUILD_DIR)
#   BUILD_DIR=dir      where to build it when LAYER_BENCH is unset (default build/release)
#   SIZE_MIB=n         size of the generated tree in MiB (default 1024)
#   RUNS=n             timed runs per side (default 3; the best is reported)
#   TMP_ROOT=dir       where the tree goes (default /var/tmp); it is deleted afterwards
# Exits 1 when a command fails or a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
rss_target_kib=$((64 * 1024))
ratio_target=0.70

if [[ -z "${LAYER_BENCH:-}" ]]; then
  build_dir=${BUILD_DIR:-build/release}
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build_dir" --target layer_bench -j "$(nproc)" >/dev/null
  LAYER_BENCH=$build_dir/bench/layer_bench
fi
[[ -x "$LAYER_BENCH" ]] || { echo "layer_bench: no layer_bench binary at $LAYER_BENCH" >&2; exit 1; }

work=$(mktemp -d "${TMP_ROOT:-/var/tmp}/kiln-layer-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "tree: $("$LAYER_BENCH" generate "$work/tree" "$size_mib") in $work/tree"
tree_bytes=$(du -sb --apparent-size "$work/tree" | cut -f1)

now() { date +%s.%N; }
tar_once() { tar -cf - -C "$work" tree | sha256sum >/dev/null; }
kiln_once() { "$LAYER_BENCH" write "$work/tree" /dev/null; }

tar_once  # warm-up: page cache
best_tar="" best_kiln="" peak_rss=0
for ((i = 0; i < runs; i++)); do
  start=$(now); tar_once; end=$(now)
  t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  start=$(now); line=$(kiln_once); end=$(now)
  k=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  rss=$(sed -n 's/.*peak_rss_kib=\([0-9]*\).*/\1/p' <<<"$line")
  echo "run $((i + 1)): tar|sha256sum ${t}s, kiln ${k}s ($line)"
  ((rss > peak_rss)) && peak_rss=$rss
  [[ -z "$best_tar" ]] || awk -v a="$t" -v b="$best_tar" 'BEGIN { exit !(a < b) }' && best_tar=$t
  [[ -z "$best_kiln" ]] || awk -v a="$k" -v b="$best_kiln" 'BEGIN { exit !(a < b) }' && best_kiln=$k
done

mib_s() { awk -v n="$tree_bytes" -v s="$1" 'BEGIN { printf "%.1f", n / 1048576 / s }'; }
tar_tp=$(mib_s "$best_tar")
kiln_tp=$(mib_s "$best_kiln")
ratio=$(awk -v k="$kiln_tp" -v t="$tar_tp" 'BEGIN { printf "%.2f", k / t }')

status=0
echo "tree bytes:           $tree_bytes"
echo "peak RSS (kiln):      $((peak_rss / 1024)) MiB ($peak_rss KiB; target < $((rss_target_kib / 1024)) MiB)"
echo "tar | sha256sum:      $tar_tp MiB/s (best ${best_tar}s)"
echo "kiln LayerWriter:     $kiln_tp MiB/s (best ${best_kiln}s)"
echo "throughput ratio:     $ratio (target >= $ratio_target)"
if ((peak_rss >= rss_target_kib)); then
  echo "layer_bench: FAIL peak RSS $peak_rss KiB >= $rss_target_kib KiB" >&2
  status=1
fi
if awk -v r="$ratio" -v t="$ratio_target" 'BEGIN { exit !(r < t) }'; then
  echo "layer_bench: FAIL throughput ratio $ratio < $ratio_target" >&2
  status=1
fi
((status == 0)) && echo "layer_bench: all targets met"
exit $status
