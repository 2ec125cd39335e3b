#!/bin/bash
# profile.sh - where does `nook run` spend its time? (strace -f -T/-tt, strace -c -w, callgrind)
#
# usage: profile.sh [-m root,rootless] [-r RUNS] [-o OUT] NOOK [LABEL=OTHER ...]
#   NOOK          the binary to profile (e.g. build/nook)
#   LABEL=OTHER   optional runtimes profiled the same way for comparison (e.g. crun=crun)
# For each mode, on the default bench config (/bin/true, read-only busybox rootfs):
#   1. strace -f -tt -T of one `run`: a timeline per process with milestones (clone, unshare,
#      uid_map, first mount, pivot_root, exec of the container), the slowest system calls and the
#      longest gaps between system calls of one process (user-space work);
#   2. strace -f -c -w of RUNS runs: wall time spent per system call;
#   3. valgrind --tool=callgrind of `run`, `state`, `delete -f`, `state` of a missing container
#      and `--version`: instructions per process and
#      the top functions (instruction counts are stable even on a noisy machine);
#   4. perf record -e cpu-clock -g of PERF_RUNS (default 40) `run`s in a loop: user and kernel
#      time by process and library, kernel time by system call entry point (inclusive), hottest
#      symbols (a software clock: works in VMs without hardware counters).
# Writes OUT/profile.md (included in docs/performance.md by report.py) and the raw files.
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
MODES=rootless,root; OUT=""; RUNS=5
while getopts "m:o:r:h" o; do
  case $o in m) MODES=$OPTARG;; o) OUT=$OPTARG;; r) RUNS=$OPTARG;; *) sed -n '2,16p' "$0"; exit 2;; esac
done
shift $((OPTIND-1))
[ $# -ge 1 ] || { sed -n '2,16p' "$0"; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root"
first=$1; shift
parse_runtimes "nook=$first" "$@"
OUT=${OUT:-$BASE/results/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"; chmod 1777 "$OUT"
STATE_DIR=${NOOK_BENCH_STATE:-$OUT/state}; mkdir -p "$STATE_DIR"; chmod 755 "$STATE_DIR"
ensure_tools; ensure_rootfs
HAVE_VG=1; command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || HAVE_VG=0

META=$OUT/meta.tsv; : > "$META"
for m in ${MODES//,/ }; do
  tag=$(mtag "$m")
  B=$OUT/bundles/$m; [ -f "$B/config.json" ] || mkbundle "$m" "$B" 0
  for i in "${!RTS[@]}"; do
    lab=${LABELS[$i]}; rt=${RTS[$i]}; S=$STATE_DIR/prof-$i-$tag; statedir "$S" "$m"
    log "$lab $m: strace -tt -T"
    # warm the page cache / dentries first
    as_mode "$m" "$rt" --root "$S" run --bundle "$B" "w$$-$i" </dev/null >/dev/null 2>&1 || true
    as_mode "$m" strace -f -tt -T -o "$OUT/$lab-$tag.trace" -- "$rt" --root "$S" run --bundle "$B" "p$$-$i" \
      </dev/null >/dev/null 2>"$OUT/$lab-$tag.trace.err" || log "$lab $m: run under strace failed"
    log "$lab $m: strace -c -w x$RUNS"
    for r in $(seq 1 "$RUNS"); do
      as_mode "$m" strace -f -c -w -U name,calls,errors,time-total,time-avg -o "$OUT/$lab-$tag.cw$r" -- \
        "$rt" --root "$S" run --bundle "$B" "c$$-$i-$r" </dev/null >/dev/null 2>>"$OUT/$lab-$tag.trace.err" || true
    done
    if [ "$HAVE_VG" = 1 ]; then
      rt=$(ro_copy "$rt")
      log "$lab $m: callgrind run/state/--version"
      d=$OUT/cg-$lab-$tag; rm -rf "$d"; mkdir -p "$d"; chmod 1777 "$d"
      as_mode "$m" valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$d/run.%p" \
        "$rt" --root "$S" run --bundle "$B" "v$$-$i" </dev/null >/dev/null 2>"$d/run.log" && echo 0 > "$d/run.rc" || echo $? > "$d/run.rc"
      sid=s$$-$i
      if as_mode "$m" "$rt" --root "$S" create --bundle "$B" "$sid" </dev/null >/dev/null 2>>"$d/state.log"; then
        as_mode "$m" valgrind --tool=callgrind --callgrind-out-file="$d/state.%p" \
          "$rt" --root "$S" state "$sid" </dev/null >/dev/null 2>>"$d/state.log" && echo 0 > "$d/state.rc" || echo $? > "$d/state.rc"
        as_mode "$m" valgrind --tool=callgrind --callgrind-out-file="$d/delete.%p" \
          "$rt" --root "$S" delete -f "$sid" </dev/null >/dev/null 2>>"$d/delete.log" && echo 0 > "$d/delete.rc" || echo $? > "$d/delete.rc"
        as_mode "$m" "$rt" --root "$S" delete -f "$sid" </dev/null >/dev/null 2>&1 || true
      fi
      # an error path: `state` of a container that does not exist
      as_mode "$m" valgrind --tool=callgrind --callgrind-out-file="$d/state-missing.%p" \
        "$rt" --root "$S" state "nonexistent$$" </dev/null >/dev/null 2>"$d/state-missing.log" \
        && echo 0 > "$d/state-missing.rc" || echo $? > "$d/state-missing.rc"
      as_mode "$m" valgrind --tool=callgrind --callgrind-out-file="$d/version.%p" \
        "$rt" --version </dev/null >/dev/null 2>"$d/version.log" && echo 0 > "$d/version.rc" || echo $? > "$d/version.rc"
    fi
    if command -v perf >/dev/null; then
      log "$lab $m: perf record of ${PERF_RUNS:-40} runs"
      mode_prefix "$m"
      perf record -q -o "$OUT/perf-$lab-$tag.data" -F 10000 -e cpu-clock -g -- "${PREFIX[@]}" \
        sh -c 'i=0; while [ $i -lt "$1" ]; do i=$((i+1)); "$2" --root "$3" run --bundle "$4" "$5$i" || exit 1; done' \
        _ "${PERF_RUNS:-40}" "$rt" "$S" "$B" "f$$-$i-" </dev/null >/dev/null 2>"$OUT/perf-$lab-$tag.log" \
        || log "$lab $m: perf loop failed (see $OUT/perf-$lab-$tag.log)"
    fi
    printf '%s\t%s\t%s\n' "$lab" "$m" "$tag" >> "$META"
  done
done
"$PY" "$BENCH_DIR/profile.py" "$OUT" > "$OUT/profile.md"
log "wrote $OUT/profile.md"
