# shellcheck shell=bash disable=SC2154  # tmp_root, log and driver are the sourcing script's
# What the benchmarks against buildah (build_bench.sh, monorepo_bench.sh) share: checks of the
# host, the kiln binary, the work directory and its cleanup, buildah on its own store, timing
# and the description of the machine. Sourced from the repository's root after `set -euo
# pipefail`; the script sets tmp_root, log and driver (buildah's storage driver) first.

bench_name=$(basename "$0" .sh)

die() {
  echo "$bench_name: $*" >&2
  exit 1
}

# require_tools TOOL...: dies naming the first tool that is not installed.
require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
  done
}

# require_static_busybox: sets busybox to the host's busybox, which must be statically linked
# (it becomes the only program of the base image).
require_static_busybox() {
  busybox=$(command -v busybox || true)
  [[ -n "$busybox" ]] || die "no busybox on the host (apt-get install busybox-static)"
  file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
    die "$busybox is not statically linked (apt-get install busybox-static)"
}

# resolve_kiln: sets KILN to the absolute path of a working kiln: $KILN when set, else one built
# (Release) into ${BUILD_DIR:-build/bench}.
resolve_kiln() {
  if [[ -z "${KILN:-}" ]]; then
    local build_dir=${BUILD_DIR:-build/bench}
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build_dir" --target kiln -j 2 >/dev/null
    KILN=$build_dir/cli/kiln
  fi
  [[ -x "$KILN" ]] || die "no kiln binary at $KILN"
  KILN=$(realpath "$KILN")
  "$KILN" build --help >/dev/null 2>&1 || die "$KILN has no working 'build' command"
}

# make_work_dir: sets work to a new directory under $tmp_root (and buildah_root, buildah_runroot
# inside it), removed with everything mounted below it when the script exits; empties $log and
# notes the load average in load_start.
make_work_dir() {
  work=$(mktemp -d "$tmp_root/kiln-${bench_name//_/-}.XXXXXX")
  buildah_root=$work/buildah-root
  buildah_runroot=$work/buildah-runroot
  trap cleanup_work_dir EXIT
  : >"$log"
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine may be shared: say how busy it was
}

cleanup_work_dir() {
  set +e  # clean up as much as possible
  [[ -d "$buildah_root" ]] && buildah_cmd rm --all >/dev/null 2>&1
  # Whatever a tool left mounted under the work directory, deepest first, before removing it.
  findmnt -rn -o TARGET | grep "^$work/" | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$work"
}

# busybox_base_context DIR: examples/busybox-base's Dockerfile with the host's busybox, in DIR.
busybox_base_context() {
  mkdir "$1"
  cp examples/busybox-base/Dockerfile "$1/Dockerfile"
  cp "$busybox" "$1/busybox"
}

# buildah_cmd ARGS...: buildah on the work directory's own store, with $driver.
buildah_cmd() {
  buildah --root "$buildah_root" --runroot "$buildah_runroot" --storage-driver "$driver" "$@"
}

# Sets cpu_ms to the milliseconds of CPU (user + system) used so far by this shell's waited-for
# descendants, from the `times` builtin; called without $(...), as a subshell would count its own.
children_cpu_ms() {
  times >"$work/times"
  cpu_ms=$(tail -n 1 "$work/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) {
    split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%.0f", t }')
}

# run_timed KEY LABEL COMMAND...: runs the command with its output appended to $log under LABEL;
# appends its wall time in milliseconds to wall[KEY] and its CPU time to cpu[KEY] (on a shared
# machine CPU time is steadier than wall time), and leaves both in last_ms and last_cpu_ms.
# Dies, showing the end of the log, when the command fails. KEY may hold tabs: write_figures
# writes it as it is, so a key "FIGURE<tab>TOOL" gives two columns.
declare -A wall=() cpu=()
run_timed() {
  local key=$1 label=$2
  shift 2
  echo "==== $label: $*" >>"$log"
  local start end cpu_start cpu_ms
  children_cpu_ms
  cpu_start=$cpu_ms
  start=$(date +%s%N)
  if ! "$@" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "'$label' failed (command: $*; full output in $log)"
  fi
  end=$(date +%s%N)
  children_cpu_ms
  local us=$(((end - start) / 1000))
  last_ms=$(printf '%d.%03d' $((us / 1000)) $((us % 1000)))
  last_cpu_ms=$((cpu_ms - cpu_start))
  wall[$key]+=" $last_ms"
  cpu[$key]+=" $last_cpu_ms"
  echo "---- $label: $last_ms ms wall, $last_cpu_ms ms CPU" >>"$log"
}

# write_figures FILE: a line per key of wall: KEY, its wall times, its CPU times (tab-separated;
# the times separated by spaces).
write_figures() {
  local key
  for key in "${!wall[@]}"; do
    printf '%s\t%s\t%s\n' "$key" "${wall[$key]# }" "${cpu[$key]# }"
  done >"$1"
}

# write_markdown TITLE [NOTE]: when BENCH_MARKDOWN is set, writes to it a bench/RESULTS.md
# section: "## TITLE", the lines of the meta array (and NOTE) as a list, then $work/table.md.
write_markdown() {
  [[ -n "${BENCH_MARKDOWN:-}" ]] || return 0
  {
    echo "## $1"
    echo
    printf -- '- %s\n' "${meta[@]}"
    [[ -z "${2:-}" ]] || echo "- $2"
    echo
    cat "$work/table.md"
  } >"$BENCH_MARKDOWN"
  echo "markdown section written to $BENCH_MARKDOWN"
}

# machine_line: the machine, its CPU and kernel, and how busy it was at the start and now.
machine_line() {
  local model
  model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
  echo "machine: $(nproc) CPUs, $model, Linux $(uname -r); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
}

# kiln_commit: the checkout's short commit, "+ uncommitted changes" when tracked files differ.
kiln_commit() {
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]] ||
    commit="$commit + uncommitted changes"
  echo "$commit"
}
