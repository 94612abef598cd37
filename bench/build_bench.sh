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
# Each tool runs its whole series (kiln first), each run making one change and building once.
# The tools are not interleaved: where the file system defers reusing freed inodes (ext4 without
# a journal skips every inode freed in the last one to six minutes, scanning past each one on
# every file it creates), buildah's deleted build containers would slow kiln's next file
# creations several-fold, and the figure would measure buildah's deletions, not kiln. For the
# same reason, start a run at least 6 minutes after the previous one's clean-up (or any other
# mass deletion) there. The image IDs (--iidfile) are checked: an edit must give a new image, a
# no-op the same one.
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
# shellcheck source=bench/lib.sh
. bench/lib.sh

runs=${BENCH_RUNS:-5}
tools=" ${BENCH_TOOLS:-kiln buildah} "
tmp_root=${TMP_ROOT:-/var/tmp}
log=${BENCH_LOG:-$tmp_root/kiln-build-bench.log}
driver=${BUILDAH_DRIVER:-overlay}
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  scale=quick deps=20 sources=400 source_dirs=4 many_files=10000 many_dirs=100
else
  scale=full deps=200 sources=4000 source_dirs=40 many_files=100000 many_dirs=1000
fi
many_label=$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$many_files")  # 100000 -> 100,000

uses() { [[ "$tools" == *" $1 "* ]]; }

require_static_busybox
require_tools python3
uses kiln && resolve_kiln
uses buildah && require_tools buildah
make_work_dir

echo "== generating the $scale scenario in $work"
python3 bench/gen_build_context.py app "$work/app" --deps "$deps" --sources "$sources" \
  --source-dirs "$source_dirs"
uses kiln && python3 bench/gen_build_context.py many "$work/many" --files "$many_files" \
  --dirs "$many_dirs"
busybox_base_context "$work/base"
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
  buildah_cmd bud --layers --isolation=chroot --pull=never --iidfile "$work/buildah.iid" \
    -t "$tag" -f "$ctx/Dockerfile" "$@" "$ctx"
}

# timed TOOL FIGURE COMMAND...: run_timed with the key "FIGURE<tab>TOOL" (the figures file's
# first two columns); prints the times.
timed() {
  local tool=$1 figure=$2
  shift 2
  run_timed "$figure"$'\t'"$tool" "$tool $figure" "$@"
  printf '  %-8s %-10s %10s ms  (CPU %6s ms)\n' "$tool" "$figure" "$last_ms" "$last_cpu_ms"
}

# check_iid TOOL same|new FIGURE: compares the image ID the build just wrote with the previous
# one. kiln must give exactly what is expected; for buildah a difference is only reported.
declare -A last_iid=()
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

build_one() {  # TOOL FIGURE EXPECT CONTEXT
  local tool=$1 figure=$2 expect=$3 ctx=$4
  timed "$tool" "$figure" "${tool}_build" "$ctx" app
  check_iid "$tool" "$expect" "$figure"
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
  driver_info=$(buildah_cmd info 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["store"]
st = s.get("GraphStatus", {})
extra = ", native overlay diff: " + st["Native Overlay Diff"] if "Native Overlay Diff" in st else ""
print(s["GraphDriverName"] + extra)')
  echo "  buildah: built, storage driver $driver_info"
fi

# series TOOL: the tool's figures on the app context, one change before each build.
series() {
  local tool=$1 i
  # Whatever is still to be written back (the generated contexts, the other tool's builds) is
  # written now: the kernel writing it back in the middle of the series would slow it.
  sync
  echo "== $tool: cold build"
  build_one "$tool" cold new "$work/app"
  echo "== $tool: no-op rebuild x$runs"
  for ((i = 0; i < runs; i++)); do build_one "$tool" noop same "$work/app"; done
  echo "== $tool: touch one source x$runs"
  for ((i = 0; i < runs; i++)); do
    touch "$work/app/src/d000/f00007.c"
    build_one "$tool" touch same "$work/app"
  done
  echo "== $tool: edit one source x$runs"
  for ((i = 0; i < runs; i++)); do
    printf '// %s edit %d at %s\n' "$tool" "$i" "$(date +%s%N)" >>"$work/app/src/d001/f00003.c"
    build_one "$tool" edit_src new "$work/app"
  done
  echo "== $tool: edit one dependency x$runs"
  for ((i = 0; i < runs; i++)); do
    # Overwrites bytes in the random half: same size, new content never seen before.
    printf '%s edit %d at %s' "$tool" "$i" "$(date +%s%N)" |
      dd of="$work/app/deps/dep0005.bin" bs=1 seek=4096 conv=notrunc status=none
    build_one "$tool" edit_dep new "$work/app"
  done
}
if uses kiln; then
  series kiln
  echo "== kiln: $many_label-file context"
  last_iid[kiln]=""
  timed kiln cold_many kiln_build "$work/many" many
  check_iid kiln new cold_many
  for ((i = 0; i < runs; i++)); do
    timed kiln noop_many kiln_build "$work/many" many
    check_iid kiln same noop_many
  done
fi
if uses buildah; then series buildah; fi

write_figures "$work/figures.tsv"

meta=(
  "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  "$(machine_line)"
  "scenario: $scale ($deps deps x 750 KiB, $sources sources in $source_dirs dirs; $many_label-file context); median of $runs runs (cold: 1 run)"
)
uses kiln && meta+=("kiln: $KILN (commit $(kiln_commit))")
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
note=""
((checks_failed == 0)) || note="kiln image-ID checks FAILED (see the script's output)"
write_markdown "Incremental builds against buildah (bench/build_bench.sh)" "$note"
echo "build output: $log"
exit $status
