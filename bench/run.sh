#!/bin/bash
# bench/run.sh - measure nook against crun, runc and the kernel floor in ONE run, and regenerate
# docs/performance.md and docs/performance.png from it.
#
# usage: sudo bench/run.sh [--quick] [--nook PATH] [--only LIST] [--profile] [--out DIR]
#                          [--no-docs] [--report DIR]
#   --quick      few rounds (a few minutes less; for checking the scripts, not for numbers)
#   --nook PATH  the nook binary (default: build/nook of this checkout). If it does not exist,
#                crun stands in for it and the report says so in bold.
#   --only LIST  comma-separated subset of: latency,concurrency,mounts,syscalls,rss,state
#   --profile    also profile nook (bench/profile.sh: strace -f -T/-c, callgrind) into OUT/profile
#   --out DIR    results directory (default $NOOK_BENCH_DIR/results/run-DATE, NOOK_BENCH_DIR
#                defaults to /tmp/nook-bench)
#   --no-docs    write the report into OUT only, leave docs/ alone
#   --report DIR only regenerate the report from the results already in DIR
#
# Needs root (rootless mode runs as $BENCH_USER, default nobody), gcc, jq, busybox-static,
# strace, hyperfine, python3-matplotlib, runc and crun. Not part of the test suite: the numbers
# depend on the machine and its load; read the ratios, which come from interleaved runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
source "$HERE/lib.sh"

QUICK=0; NOOK=""; ONLY="latency,concurrency,mounts,syscalls,rss,state"; PROFILE=0; OUTDIR=""; DOCS=1
REPORT_ONLY=""; ORIG=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1;; --nook) NOOK=$2; shift;; --only) ONLY=$2; shift;; --profile) PROFILE=1;;
    --out) OUTDIR=$2; shift;; --no-docs) DOCS=0;; --report) REPORT_ONLY=$2; shift;;
    -h|--help) sed -n '2,22p' "$0"; exit 0;;
    *) echo "unknown option $1" >&2; sed -n '2,22p' "$0"; exit 2;;
  esac
  shift
done

report() {  # report OUTDIR
  local args=("$1")
  [ "$DOCS" = 1 ] && args+=(--docs "$REPO/docs" --summary "$HERE/results/summary.json")
  "$PY" "$HERE/report.py" "${args[@]}"
}
if [ -n "$REPORT_ONLY" ]; then report "$REPORT_ONLY"; exit 0; fi

[ "$(id -u)" = 0 ] || die "run as root (rootless mode runs as $RUSER)"
enter_ns "$0" "${ORIG[@]}"   # hybrid cgroup host: one private mount ns for everything (see lib.sh)

STANDIN=0
if [ -z "$NOOK" ]; then NOOK=$REPO/build/nook; fi
if [ ! -x "$NOOK" ]; then
  log "WARNING: $NOOK not found; crun stands in for nook (numbers in the nook column are crun's)"
  NOOK=$(command -v crun); STANDIN=1
fi
NOOK=$(readlink -f "$NOOK")
OUT=${OUTDIR:-$BASE/results/run-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"; chmod 755 "$OUT"
NOOK_SRC=$NOOK
if [ "$STANDIN" = 0 ]; then  # snapshot: the binary may be rebuilt while we measure
  cp "$NOOK" "$OUT/nook"; chmod 755 "$OUT/nook"; NOOK=$OUT/nook
fi
export BENCH_SPEC_RT=runc; SPEC_RT=runc
# State directories on a tmpfs, as /run/<runtime> and $XDG_RUNTIME_DIR are on a normal host. (On
# this project's VMs /run and /tmp are ext4, where a mkdir+rmdir pair can take milliseconds under
# load, which would add the same noise to every runtime.) The rootfs stays where it is.
export NOOK_BENCH_STATE=${NOOK_BENCH_STATE:-/dev/shm/nook-bench-state-$$}
mkdir -p "$NOOK_BENCH_STATE"; chmod 755 "$NOOK_BENCH_STATE"
trap 'rm -rf "$NOOK_BENCH_STATE"' EXIT
RUNTIMES=("nook=$NOOK" "crun=$(command -v crun)" "runc=$(command -v runc)")

if [ "$QUICK" = 1 ]; then
  R_LAT=5; W_LAT=1; R_CONC=2; R_MNT=6; R_SC=1; R_RSS=3; R_STATE=50
else
  R_LAT=40; W_LAT=3; R_CONC=8; R_MNT=60; R_SC=3; R_RSS=9; R_STATE=300
fi
log "results in $OUT (quick=$QUICK, nook=$NOOK, stand-in=$STANDIN)"
ensure_tools; ensure_rootfs

# --- machine and versions -------------------------------------------------------------------
ver() { "$@" 2>&1 | head -1 | tr -d '\r' || true; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "cgroups=$(if need_hide || [ -d /sys/fs/cgroup/unified ]; then echo 'hybrid v1+v2 (cgroup2 mount at /sys/fs/cgroup/unified hidden in a private mount ns for all runtimes)'; elif [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo 'unified v2'; else echo v1; fi)"
  echo "nook=$NOOK_SRC"
  echo "nook_sha256=$(sha256sum "$NOOK" | cut -c1-16)"
  echo "repo_commit=$(git -C "$REPO" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo '?')"
  echo "nook_version=$(if [ "$STANDIN" = 1 ]; then echo "STAND-IN: $(ver crun --version)"; else ver "$NOOK" --version; fi)"
  echo "standin=$STANDIN"
  echo "crun_version=$(ver crun --version)"
  echo "runc_version=$(ver runc --version)"
  echo "strace_version=$(ver strace -V)"
  echo "hyperfine_version=$(ver hyperfine --version)"
  echo "quick=$QUICK"
  echo "rounds=latency:$R_LAT+$W_LAT warmup, concurrency:$R_CONC, mounts:$R_MNT, syscalls:$R_SC, rss:$R_RSS, state:$R_STATE"
  echo "load_start=$(load)"
  echo "user=$RUSER"
  echo "state_fs=$NOOK_BENCH_STATE ($(stat -f -c %T "$NOOK_BENCH_STATE")); rootfs $ROOTFS ($(stat -f -c %T "$ROOTFS"))"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# every runtime gets `runc spec`'s config; record how nook's own `spec` differs, for information
if [ "$STANDIN" = 0 ]; then
  for m in root rootless; do
    t=$(mktemp -d); a=(spec); [ $m = rootless ] && a=(spec --rootless)
    ( cd "$t" && mkdir n r && (cd n && "$NOOK" "${a[@]}") && (cd r && runc "${a[@]}") ) >/dev/null 2>&1 || true
    if [ -f "$t/n/config.json" ] && [ -f "$t/r/config.json" ]; then
      if diff <(jq -S . "$t/n/config.json") <(jq -S . "$t/r/config.json") > "$OUT/spec-diff-$m.txt"; then
        echo "same" > "$OUT/spec-diff-$m.txt"; fi
    else echo "nook spec failed" > "$OUT/spec-diff-$m.txt"; fi
    rm -rf "$t"
  done
fi

has() { [[ ",$ONLY," == *",$1,"* ]]; }
T0=$(date +%s)
step() {  # step NAME CMD ARGS...: a failing part is reported, the others still run
  local name=$1 t; shift
  has "$name" || return 0
  t=$(date +%s)
  "$@" >/dev/null || log "$name FAILED (rc=$?); see $OUT"
  echo "time_$name=$(( $(date +%s) - t ))" >> "$OUT/machine.txt"
  echo "load_after_$name=$(load)" >> "$OUT/machine.txt"
}
latency() {
  "$HERE/bench.sh" -r "$R_LAT" -w "$W_LAT" -F -L nook,crun,runc -s "$SPEC_RT" -o "$OUT/latency" \
    "$NOOK" "$(command -v crun)" "$(command -v runc)" > "$OUT/latency.txt" || return 1
  cat "$OUT/latency.txt" >&2
  "$PY" "$HERE/summarize.py" latency "$OUT/latency" "$OUT/latency.json"
}
step latency     latency
step concurrency "$HERE/concurrency.sh" -r "$R_CONC" -n 50 -F -o "$OUT" "${RUNTIMES[@]}"
step mounts      "$HERE/mounts.sh" -r "$R_MNT" -n "0 64 256" -F -o "$OUT" "${RUNTIMES[@]}"
step syscalls    "$HERE/syscalls.sh" -r "$R_SC" -F -o "$OUT" "${RUNTIMES[@]}"
step rss         "$HERE/rss.sh" -r "$R_RSS" -F -o "$OUT" "${RUNTIMES[@]}"
step state       "$HERE/state.sh" -r "$R_STATE" -o "$OUT" "${RUNTIMES[@]}"
if [ "$PROFILE" = 1 ]; then
  if [ "$STANDIN" = 1 ]; then log "no nook binary: skipping the profile"
  else ONLY="$ONLY,profile" step profile "$HERE/profile.sh" -o "$OUT/profile" "$NOOK" "crun=$(command -v crun)"; fi
fi
{ echo "load_end=$(load)"; echo "duration_s=$(( $(date +%s) - T0 ))"; } >> "$OUT/machine.txt"

report "$OUT"
log "done: $OUT"
