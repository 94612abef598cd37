#!/usr/bin/env bash
# Monorepo benchmark: examples/monorepo (12 services on one shared base stage) built by kiln's
# generated ninja graph against buildah building the same Dockerfiles one after another.
#
# Each tool gets an empty store under the work directory holding only the busybox base
# (kiln-busybox:latest, from examples/busybox-base and the host's static busybox: no registry).
# Figures (wall time around the command, `date +%s%N`; CPU time of the command's descendants):
#   kiln    cold:  `kiln generate --manifest kiln.json -o OUT` + `ninja -C OUT -j2` (both timed;
#                  generate is also shown alone)
#           no-op: `ninja -C OUT -j2` again, median of BENCH_RUNS runs
#   buildah cold:  `buildah bud --layers` of the 12 Dockerfiles one after another (its layer cache
#                  shares the base stage between them, as kiln's graph does)
#           no-op: the same 12 builds again (information), median of BENCH_RUNS runs
# kiln's cold build must tag all 12 images, and a no-op must leave every image ID unchanged.
# Then a breakdown of kiln's cold build from ninja's log (.ninja_log): the time of the edges of
# each kind (hashing, FROM, COPY, RUN, config steps, image writes) and how many ran.
# Targets: kiln cold >= 4x faster than buildah; kiln no-op <= 100 ms.
#
# buildah: `bud --layers --isolation=chroot --pull=never` (as bench/build_bench.sh) with its own
# --root/--runroot under the work directory and the overlay storage driver.
#
# Usage: bench/monorepo_bench.sh
# Environment:
#   KILN=path          kiln binary to measure (default: build Release into $BUILD_DIR and use it)
#   BUILD_DIR=dir      where to build kiln when KILN is unset (default build/bench)
#   BENCH_RUNS=n       no-op runs; the median is reported (default 5)
#   BUILDAH_DRIVER=d   buildah's storage driver (default overlay)
#   BENCH_LOG=file     build output (default $TMP_ROOT/kiln-monorepo-bench.log, kept)
#   BENCH_MARKDOWN=f   also write the results as a bench/RESULTS.md section into this file
#   TMP_ROOT=dir       where the work directory goes (default /var/tmp)
# Exits 1 when a command fails, an image check fails, or a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

runs=${BENCH_RUNS:-5}
tmp_root=${TMP_ROOT:-/var/tmp}
log=${BENCH_LOG:-$tmp_root/kiln-monorepo-bench.log}
driver=${BUILDAH_DRIVER:-overlay}

require_static_busybox
require_tools python3 ninja buildah
resolve_kiln
make_work_dir

cp -r examples/monorepo "$work/repo"
busybox_base_context "$work/base"
mapfile -t services < <(python3 -c '
import json, sys
for image in json.load(open(sys.argv[1]))["images"]: print(image["name"])' "$work/repo/kiln.json")
echo "== ${#services[@]} services in $work/repo"

export KILN_ROOT=$work/kiln-root
out=$work/out
kiln() { "$KILN" "$@"; }
buildah_bud() {  # CONTEXT DOCKERFILE TAG
  buildah_cmd bud --layers --isolation=chroot --pull=never -t "$3" -f "$2" "$1"
}
buildah_all() {
  local name
  for name in "${services[@]}"; do
    buildah_bud "$work/repo" "$work/repo/services/$name/Dockerfile" "monorepo/$name:dev" || return 1
  done
}

# timed FIGURE COMMAND...: run_timed with FIGURE as key and label; prints the times.
timed() {
  local figure=$1
  shift
  run_timed "$figure" "$figure" "$@"
  printf '  %-16s %10s ms  (CPU %6s ms)\n' "$figure" "$last_ms" "$last_cpu_ms"
}

status=0
image_ids() {  # prints "name id" for every service in kiln's store
  local name
  for name in "${services[@]}"; do
    echo "$name $(kiln inspect --format '{{.Id}}' "monorepo/$name:dev" 2>/dev/null || echo MISSING)"
  done
}

echo "== base image kiln-busybox:latest (not timed)"
kiln build -q -t kiln-busybox:latest "$work/base" >>"$log" 2>&1 ||
  { tail -n 30 "$log" >&2; die "kiln could not build the busybox base (see $log)"; }
buildah_bud "$work/base" "$work/base/Dockerfile" kiln-busybox:latest >>"$log" 2>&1 ||
  { tail -n 30 "$log" >&2; die "buildah could not build the busybox base (see $log)"; }

echo "== cold build of all ${#services[@]} images"
timed kiln_generate kiln generate --manifest "$work/repo/kiln.json" -o "$out"
timed kiln_ninja ninja -C "$out" -j2
cp "$out/.ninja_log" "$work/ninja_log.cold"
image_ids >"$work/ids.cold"
if grep -q MISSING "$work/ids.cold"; then
  echo "  CHECK FAILED: kiln did not tag every image: $(grep MISSING "$work/ids.cold" | cut -d' ' -f1)" >&2
  status=1
fi
timed buildah_cold buildah_all

echo "== no-op rebuild x$runs"
for ((i = 0; i < runs; i++)); do
  timed kiln_noop ninja -C "$out" -j2
  timed buildah_noop buildah_all
done
image_ids >"$work/ids.noop"
if ! cmp -s "$work/ids.cold" "$work/ids.noop"; then
  echo "  CHECK FAILED: a no-op rebuild changed kiln's images" >&2
  status=1
fi
# What one more no-op runs, for the breakdown below.
ninja -C "$out" -j2 -d stats >"$work/noop.txt" 2>&1

write_figures "$work/figures.tsv"

meta=(
  "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  "$(machine_line)"
  "scenario: examples/monorepo, ${#services[@]} images sharing one base stage (4 steps), each with COPY + RUN + USER + CMD; no-op: median of $runs runs"
  "kiln: $KILN (commit $(kiln_commit)), \`ninja -C OUT -j2\` ($(ninja --version))"
  "buildah: $(buildah --version | sed 's/^buildah version //'), storage driver $driver, --layers --isolation=chroot --pull=never, one Dockerfile after another"
)
echo
echo "== results"
printf '%s\n' "${meta[@]}"
echo
report_status=0
python3 - "$work/figures.tsv" "$out/build.ninja" "$work/ninja_log.cold" "$work/noop.txt" \
  "$work/table.md" <<'PY' || report_status=$?
import re, statistics, sys
figures_path, ninja_path, log_path, noop_path, md_path = sys.argv[1:]
wall, cpu = {}, {}
for line in open(figures_path):
    fig, walls, cpus = line.rstrip("\n").split("\t")
    wall[fig] = [float(v) for v in walls.split()]
    cpu[fig] = [float(v) for v in cpus.split()]
med = lambda d, k: statistics.median(d[k]) if k in d else None
kiln_cold = med(wall, "kiln_generate") + med(wall, "kiln_ninja")
kiln_cold_cpu = med(cpu, "kiln_generate") + med(cpu, "kiln_ninja")
rows = [
    ("cold build, 12 images", 1, kiln_cold, med(wall, "buildah_cold"), kiln_cold_cpu,
     med(cpu, "buildah_cold")),
    ("of it `kiln generate`", 1, med(wall, "kiln_generate"), None, med(cpu, "kiln_generate"),
     None),
    ("no-op rebuild", len(wall["kiln_noop"]), med(wall, "kiln_noop"), med(wall, "buildah_noop"),
     med(cpu, "kiln_noop"), med(cpu, "buildah_noop")),
]
fmt = lambda v: "—" if v is None else (f"{v:.1f}" if v < 1000 else f"{v:.0f}")
md = ["| figure | runs | kiln ms | buildah ms | kiln/buildah | speedup | kiln CPU ms | buildah CPU ms |",
      "|---|---:|---:|---:|---:|---:|---:|---:|"]
for label, n, k, b, kc, bc in rows:
    ratio = f"{k / b:.3f}" if b else "—"
    speed = f"{b / k:.1f}×" if b else "—"
    md.append(f"| {label} | {n} | {fmt(k)} | {fmt(b)} | {ratio} | {speed} | {fmt(kc)} | {fmt(bc)} |")
verdicts, missed = [], False
speedup = med(wall, "buildah_cold") / kiln_cold
ok = speedup >= 4
missed |= not ok
verdicts.append(f"- **{'PASS' if ok else 'MISS'}** cold build: kiln >= 4x faster than buildah: {speedup:.1f}x")
noop = med(wall, "kiln_noop")
ok = noop <= 100
missed |= not ok
verdicts.append(f"- **{'PASS' if ok else 'MISS'}** kiln no-op rebuild <= 100 ms: {noop:.1f} ms")

# Breakdown of the cold ninja run: edge kind -> (count, summed ms), from build.ninja's rules and
# descriptions and .ninja_log's start/end times (milliseconds since ninja started).
kind_of = {}
rule, outs = None, None
for line in open(ninja_path):
    m = re.match(r"build (.+?): (\S+)", line)
    if m:
        outs, rule = m.group(1).split(), m.group(2)
        kind = {"hash": "hash the context", "image": "write the image"}.get(rule, rule)
        for o in outs:
            kind_of[o] = kind
    m = re.match(r"  what = \[\d+/\d+\] (\S+)", line)
    if m and outs:
        for o in outs:
            kind_of[o] = m.group(1).replace("$", "")
seen, sums, first, last = set(), {}, None, 0
for line in open(log_path):
    if line.startswith("#"):
        continue
    start, end, _, out, _ = line.split("\t")
    start, end = int(start), int(end)
    # An edge with several outputs has one line per output: count it once.
    key = (start, end, kind_of.get(out, "?"))
    if kind_of.get(out) == "hash the context" and key in seen:
        continue
    seen.add(key)
    count, total = sums.get(key[2], (0, 0))
    sums[key[2]] = (count + 1, total + end - start)
    first = start if first is None else min(first, start)
    last = max(last, end)
bd = ["| edge kind | edges run | summed ms | mean ms |", "|---|---:|---:|---:|"]
for kind, (count, total) in sorted(sums.items(), key=lambda kv: -kv[1][1]):
    bd.append(f"| {kind} | {count} | {total} | {total / count:.0f} |")
bd.append(f"| all (ninja's wall time {last - first} ms at -j2) | {sum(c for c, _ in sums.values())} "
          f"| {sum(t for _, t in sums.values())} | |")
noop_edges = [l for l in open(noop_path) if re.match(r"\[\d+/\d+\] ", l)]
noop_kinds = {}
for l in noop_edges:
    what = re.sub(r"^\[\d+/\d+\] (\[\d+/\d+\] )?", "", l.strip())
    what = "hash the context" if what.startswith("Hashing") else what
    noop_kinds[what] = noop_kinds.get(what, 0) + 1
noop_line = ("a no-op runs " + str(len(noop_edges)) + " edges: " +
             ", ".join(f"{n} × {w}" for w, n in sorted(noop_kinds.items())))
text = "\n".join(md) + "\n\n" + "\n".join(verdicts) + "\n\nWhere kiln's cold build spends its time (`.ninja_log`):\n\n" + "\n".join(bd) + "\n\n" + noop_line + "\n"
print(text)
open(md_path, "w").write(text)
sys.exit(1 if missed else 0)
PY
((report_status <= 1)) || die "the report failed"
((report_status == 0)) || status=1
echo "ninja -d stats of one more no-op:"
sed -n '/metric/,$p' "$work/noop.txt"
note=""
((status == 0 || report_status == 1)) || note="kiln image checks FAILED (see the script's output)"
write_markdown "Monorepo: 12 images with ninja -j2 against buildah (bench/monorepo_bench.sh)" "$note"
echo "build output: $log"
exit $status
