#!/usr/bin/env bash
# Incremental-build benchmark: kiln against buildah on the same Dockerfile and context.
#
# Scenario (generated under $TMP_ROOT, deleted at the end): a context with deps/ (200 files of
# 750 KiB, each half random bytes and half zeros) and src/ (4,000 small source files in 40
# directories), about 160 MB; its Dockerfile builds on kiln-busybox:latest:
#   COPY deps/ · RUN over the deps · COPY src/ · RUN over the sources · ENV · CMD
# The base is built by each tool into its own empty store from examples/busybox-base (a FROM
# scratch image of the host's static busybox), so neither ever needs a registry.
#
# Figures (wall time around the command, `date +%s%N`, both tools measured the same way):
#   cold build (store holds only the base), then, median of BENCH_RUNS runs each:
#   no-op rebuild · rebuild after `touch` of one source · after editing one source · after
#   editing one dependency file; for kiln only: cold and no-op rebuild of a 100,000-file context.
# In each run the change is made once, then kiln builds, then buildah builds, so both see the
# same single change since their last build. The image IDs (--iidfile) are checked: an edit must
# give a new image, a no-op the same one.
# Targets: kiln no-op and touch <= 50 ms; one-source edit >= 10x faster than buildah; cold build
# and dependency edit >= 3x faster; no-op on 100,000 files <= 300 ms.
#
# buildah: `bud --layers --isolation=chroot --pull=never` with its own --root/--runroot under the
# work directory and the overlay storage driver (vfs if overlay does not work here: the output
# says which was used).
#
# Usage: bench/build_bench.sh
# Environment:
#   KILN=path          kiln binary to measure (default: build Release into $BUILD_DIR and use it)
#   BUILD_DIR=dir      where to build kiln when KILN is unset (default build/bench)
#   BENCH_RUNS=n       runs of each incremental figure; the median is reported (default 5)
#   BENCH_QUICK=1      a 10x smaller scenario (20 deps, 400 sources, 10,000-file context)
#   BENCH_TOOLS=list   tools to measure, of "kiln buildah" (default both; ratios need both)
#   BUILDAH_DRIVER=d   force buildah's storage driver (overlay or vfs; default overlay, vfs fallback)
#   BENCH_LOG=file     build output (default $TMP_ROOT/kiln-build-bench.log, kept)
#   BENCH_MARKDOWN=f   also write the results as a bench/RESULTS.md section into this file
#   TMP_ROOT=dir       where the work directory goes (default /var/tmp)
# Exits 1 when a command fails, an image-ID check fails, or a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

runs=${BENCH_RUNS:-5}
tools=" ${BENCH_TOOLS:-kiln buildah} "
tmp_root=${TMP_ROOT:-/var/tmp}
log=${BENCH_LOG:-$tmp_root/kiln-build-bench.log}
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  scale=quick deps=20 sources=400 source_dirs=4 many_files=10000 many_dirs=100
else
  scale=full deps=200 sources=4000 source_dirs=40 many_files=100000 many_dirs=1000
fi
many_label=$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$many_files")  # 100000 -> 100,000

uses() { [[ "$tools" == *" $1 "* ]]; }
die() {
  echo "build_bench: $*" >&2
  exit 1
}

busybox=$(command -v busybox || true)
[[ -n "$busybox" ]] || die "no busybox on the host (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
  die "$busybox is not statically linked (apt-get install busybox-static)"
command -v python3 >/dev/null || die "python3 is needed"

if uses kiln; then
  if [[ -z "${KILN:-}" ]]; then
    build_dir=${BUILD_DIR:-build/bench}
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build_dir" --target kiln -j 2 >/dev/null
    KILN=$build_dir/cli/kiln
  fi
  [[ -x "$KILN" ]] || die "no kiln binary at $KILN"
  KILN=$(realpath "$KILN")
  "$KILN" build --help >/dev/null 2>&1 || die "$KILN has no working 'build' command"
fi
if uses buildah; then
  command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"
fi

work=$(mktemp -d "$tmp_root/kiln-build-bench.XXXXXX")
buildah_root=$work/buildah-root
buildah_runroot=$work/buildah-runroot
driver=${BUILDAH_DRIVER:-overlay}
cleanup() {
  set +e  # clean up as much as possible
  if uses buildah && [[ -d "$buildah_root" ]]; then
    buildah --root "$buildah_root" --runroot "$buildah_runroot" --storage-driver "$driver" \
      rm --all >/dev/null 2>&1 || true
  fi
  # Whatever a tool left mounted under the work directory, deepest first, before removing it.
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT
: >"$log"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine may be shared: say how busy it was

echo "== generating the $scale scenario in $work"
python3 bench/gen_build_context.py app "$work/app" --deps "$deps" --sources "$sources" \
  --source-dirs "$source_dirs"
uses kiln && python3 bench/gen_build_context.py many "$work/many" --files "$many_files" \
  --dirs "$many_dirs"
mkdir "$work/base"
cp examples/busybox-base/Dockerfile "$work/base/Dockerfile"
cp "$busybox" "$work/base/busybox"
echo "app context: $(du -sb "$work/app" | cut -f1) bytes, $(find "$work/app" -type f | wc -l) files"

kiln_build() {  # CONTEXT TAG [FLAGS...]
  local ctx=$1 tag=$2
  shift 2
  KILN_ROOT=$work/kiln-root "$KILN" build -t "$tag" --progress=plain --iidfile "$work/kiln.iid" \
    -f "$ctx/Dockerfile" "$@" "$ctx"
}
buildah_build() {  # CONTEXT TAG [FLAGS...]
  local ctx=$1 tag=$2
  shift 2
  buildah --root "$buildah_root" --runroot "$buildah_runroot" --storage-driver "$driver" \
    bud --layers --isolation=chroot --pull=never --iidfile "$work/buildah.iid" -t "$tag" \
    -f "$ctx/Dockerfile" "$@" "$ctx"
}

# Sets cpu_ms to the milliseconds of CPU (user + system) used so far by this shell's waited-for
# descendants, from the `times` builtin; called without $(...), as a subshell would count its own.
children_cpu_ms() {
  times >"$work/times"
  cpu_ms=$(tail -n 1 "$work/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) {
    split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%.0f", t }')
}

# timed TOOL FIGURE COMMAND...: runs the command with its output appended to the log and adds its
# wall time in milliseconds to wall[FIGURE TOOL] (and its CPU time to cpu[...], for information:
# on a shared machine CPU time is steadier than wall time); fails the benchmark when it fails.
declare -A wall=() cpu=() last_iid=()
timed() {
  local tool=$1 figure=$2
  shift 2
  echo "==== $tool $figure: $*" >>"$log"
  local start end cpu_start cpu_end cpu_ms
  children_cpu_ms
  cpu_start=$cpu_ms
  start=$(date +%s%N)
  if ! "$@" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "$tool failed during '$figure' (command: $*; full output in $log)"
  fi
  end=$(date +%s%N)
  children_cpu_ms
  cpu_end=$cpu_ms
  local ns=$((end - start))
  local ms
  ms=$(printf '%d.%03d' $((ns / 1000000)) $((ns / 1000 % 1000)))
  wall["$figure $tool"]+=" $ms"
  cpu["$figure $tool"]+=" $((cpu_end - cpu_start))"
  echo "---- $tool $figure: $ms ms wall, $((cpu_end - cpu_start)) ms CPU" >>"$log"
  printf '  %-8s %-10s %10s ms  (CPU %6s ms)\n' "$tool" "$figure" "$ms" $((cpu_end - cpu_start))
}

# check_iid TOOL same|new FIGURE: compares the image ID the build just wrote with the previous
# one. kiln must give exactly what is expected; for buildah a difference is only reported.
status=0 checks_failed=0
check_iid() {
  local tool=$1 expect=$2 figure=$3 iid
  iid=$(<"$work/$tool.iid")
  local prev=${last_iid[$tool]:-}
  last_iid[$tool]=$iid
  [[ -n "$prev" ]] || return 0
  local got=same
  [[ "$iid" == "$prev" ]] || got=new
  [[ "$got" == "$expect" ]] && return 0
  if [[ "$tool" == kiln ]]; then
    echo "  CHECK FAILED: kiln $figure gave a $got image ID ($iid), expected $expect" >&2
    status=1 checks_failed=1
  else
    echo "  note: $tool $figure gave a $got image ID, not $expect"
  fi
}

build_both() {  # FIGURE EXPECT CONTEXT
  local figure=$1 expect=$2 ctx=$3 tool
  for tool in kiln buildah; do
    uses "$tool" || continue
    timed "$tool" "$figure" "${tool}_build" "$ctx" app
    check_iid "$tool" "$expect" "$figure"
  done
}

echo "== base image kiln-busybox:latest (not timed)"
if uses kiln; then
  kiln_build "$work/base" kiln-busybox:latest >>"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; die "kiln could not build the busybox base (see $log)"; }
  echo "  kiln: built"
fi
if uses buildah; then
  if ! buildah_build "$work/base" kiln-busybox:latest >>"$log" 2>&1; then
    [[ "$driver" == overlay && -z "${BUILDAH_DRIVER:-}" ]] ||
      { tail -n 30 "$log" >&2; die "buildah could not build the busybox base (see $log)"; }
    echo "  buildah: overlay storage failed here, falling back to vfs (see $log)"
    rm -rf "$buildah_root" "$buildah_runroot"
    driver=vfs
    buildah_build "$work/base" kiln-busybox:latest >>"$log" 2>&1 ||
      { tail -n 30 "$log" >&2; die "buildah could not build the busybox base with vfs either"; }
  fi
  driver_info=$(buildah --root "$buildah_root" --runroot "$buildah_runroot" \
    --storage-driver "$driver" info 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["store"]
st = s.get("GraphStatus", {})
extra = ", native overlay diff: " + st["Native Overlay Diff"] if "Native Overlay Diff" in st else ""
print(s["GraphDriverName"] + extra)')
  echo "  buildah: built, storage driver $driver_info"
fi

echo "== cold build"
build_both cold new "$work/app"
echo "== no-op rebuild x$runs"
for ((i = 0; i < runs; i++)); do build_both noop same "$work/app"; done
echo "== touch one source x$runs"
for ((i = 0; i < runs; i++)); do
  touch "$work/app/src/d000/f00007.c"
  build_both touch same "$work/app"
done
echo "== edit one source x$runs"
for ((i = 0; i < runs; i++)); do
  printf '// edit %d at %s\n' "$i" "$(date +%s%N)" >>"$work/app/src/d001/f00003.c"
  build_both edit_src new "$work/app"
done
echo "== edit one dependency x$runs"
for ((i = 0; i < runs; i++)); do
  # Overwrites bytes in the random half: same size, new content never seen before.
  printf 'edit %d at %s' "$i" "$(date +%s%N)" |
    dd of="$work/app/deps/dep0005.bin" bs=1 seek=4096 conv=notrunc status=none
  build_both edit_dep new "$work/app"
done
if uses kiln; then
  echo "== kiln: $many_label-file context"
  last_iid[kiln]=""
  timed kiln cold_many kiln_build "$work/many" many
  check_iid kiln new cold_many
  for ((i = 0; i < runs; i++)); do
    timed kiln noop_many kiln_build "$work/many" many
    check_iid kiln same noop_many
  done
fi

for key in "${!wall[@]}"; do
  printf '%s\t%s\t%s\t%s\n' "${key% *}" "${key#* }" "${wall[$key]# }" "${cpu[$key]# }"
done >"$work/figures.tsv"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]] ||
  commit="$commit + uncommitted changes"
meta=(
  "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  "machine: $(nproc) CPUs, $cpu, Linux $(uname -r); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  "scenario: $scale ($deps deps x 750 KiB, $sources sources in $source_dirs dirs; $many_label-file context); median of $runs runs (cold: 1 run)"
)
uses kiln && meta+=("kiln: $KILN (commit $commit)")
uses buildah && meta+=("buildah: $(buildah --version | sed 's/^buildah version //'), storage driver $driver_info, --layers --isolation=chroot --pull=never")
echo
echo "== results"
printf '%s\n' "${meta[@]}"
echo
report_status=0
python3 bench/build_bench_report.py "$work/figures.tsv" --many-files "$many_label" \
  ${BENCH_MARKDOWN:+--markdown "$work/table.md"} || report_status=$?
((report_status <= 1)) || die "the report failed"
((report_status == 0)) || status=1
if [[ -n "${BENCH_MARKDOWN:-}" ]]; then
  {
    echo "## Incremental builds against buildah (bench/build_bench.sh)"
    echo
    printf -- '- %s\n' "${meta[@]}"
    ((checks_failed == 0)) || echo "- kiln image-ID checks FAILED (see the script's output)"
    echo
    cat "$work/table.md"
  } >"$BENCH_MARKDOWN"
  echo "markdown section written to $BENCH_MARKDOWN"
fi
echo "build output: $log"
exit $status
