#!/bin/bash
# bench.sh - interleaved start-latency benchmark for runc-compatible OCI runtimes.
#
# Copied from shared/tools/bench/bench.sh (nook's shared benchmark tool) into nook's bench/ with
# three additions, all off unless asked for, so the default output matches the shared tool:
#   -F         also time floor.c -f (the default-OCI-config floor) in the same interleaved run,
#              as "floor" rows (root: floor -R -f, rootless: floor -f), run column only;
#   -L LABELS  comma-separated display names for the runtimes (e.g. nook,crun,runc);
#   -s RT      take the config from `RT spec` instead of the first runtime's (bench/run.sh uses
#              runc: the same input for every runtime, the one floor.c -f models, and one that
#              crun 1.8 accepts; it rejects ociVersion 1.2.0).
# and, when the environment sets NOOK_BENCH_STATE, puts the state (--root) and pid-file
# directories there (bench/run.sh: a tmpfs, as /run is on a normal host).
# It also prefers /usr/bin/python3 (Debian's, with matplotlib) over a python3 shim in PATH.
#
# usage: bench.sh [-r ROUNDS] [-w WARMUP] [-u USER] [-m root,rootless] [-o OUTDIR] [-K] [-F] [-L LABELS] [-s RT] RUNTIME [RUNTIME...]
#   RUNTIME  path (or name in PATH) of any runc-compatible CLI (run/create/start/delete/spec, --root).
#   -r  measured rounds (default 30)          -w  warmup rounds (default 3)
#   -u  unprivileged user for rootless mode when run as root (default: nobody)
#   -m  modes (default: root,rootless when run as root; rootless otherwise)
#   -o  output dir (default $WORK/results/bench-<timestamp>)
#
# WORK (env NOOK_BENCH_DIR, default ${TMPDIR:-/tmp}/nook-bench) holds the compiled harness, the
# busybox rootfs and the results; the script itself may live on a read-only path.
#   -K  keep the hybrid-cgroup workaround off (see below)
#
# For every runtime and mode it measures
#   run    : `RT --root S run --bundle B ID` of /bin/true (one process invocation)
#   cycle  : `RT create --pid-file` + `RT start` + wait for container exit + `RT delete`, as
#            separate invocations; the harness is a child subreaper and waitpid()s the container
#            (what conmon does for Podman/Buildah).
# All (runtime x mode x op) tests run interleaved: each round runs every test once in a freshly
# shuffled order. Table: median (min) ms, and ratio of medians vs the FIRST runtime, plus the
# median of per-round paired ratios. Raw samples: OUTDIR/samples.csv.
#
# Hybrid cgroup hosts: crun refuses to run when /sys/fs/cgroup/unified (cgroup2 in hybrid
# mode) has controllers. If so, all runtimes are run inside one private mount namespace in
# which that cgroup2 mount is detached (identical view for every runtime; nothing global changes).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${NOOK_BENCH_DIR:-${TMPDIR:-/tmp}/nook-bench}
mkdir -p "$BASE/tools"; chmod 755 "$BASE"
ROUNDS=30; WARM=3; RUSER=nobody; MODES=""; OUT=""; HIDE=1; FLOOR=0; LABELS=""; SPECRT=""
while getopts "r:w:u:m:o:KFL:s:h" o; do
  case $o in
    r) ROUNDS=$OPTARG;; w) WARM=$OPTARG;; u) RUSER=$OPTARG;; m) MODES=$OPTARG;; o) OUT=$OPTARG;;
    K) HIDE=0;; F) FLOOR=1;; L) LABELS=$OPTARG;; s) SPECRT=$OPTARG;; *) sed -n '2,37p' "$0"; exit 2;;
  esac
done
shift $((OPTIND-1))
[ $# -ge 1 ] || { sed -n '2,37p' "$0"; exit 2; }
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

ME=$(id -u)
if [ -z "$MODES" ]; then [ "$ME" = 0 ] && MODES=root,rootless || MODES=rootless; fi
[ "$ME" = 0 ] || RUSER=$(id -un)
if [[ $MODES == *root,* || $MODES == root ]] && [ "$ME" != 0 ]; then echo "root mode needs root" >&2; exit 2; fi
RUID=$(id -u "$RUSER"); RGID=$(id -g "$RUSER")

RTS=()
for r in "$@"; do
  p=$(command -v "$r" || true)
  [ -n "$p" ] && [ -x "$p" ] || { echo "not executable: $r" >&2; exit 2; }
  RTS+=("$(readlink -f "$p")")
done

OUT=${OUT:-$BASE/results/bench-$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$OUT"/{state,pids,logs,bundles}
SDIR=$OUT; [ -n "${NOOK_BENCH_STATE:-}" ] && { SDIR=$NOOK_BENCH_STATE/latency; mkdir -p "$SDIR"/{state,pids}; chmod 755 "$SDIR" "$SDIR"/*; }
chmod 755 "$OUT"; chmod 1777 "$OUT"/logs

# --- harness --------------------------------------------------------------------------------
LAT=$BASE/tools/lat
if [ ! -x "$LAT" ] || [ "$HERE/lat.c" -nt "$LAT" ]; then gcc -O2 -o "$LAT" "$HERE/lat.c"; fi
FLOORBIN=$BASE/tools/floor
if [ "$FLOOR" = 1 ] && { [ ! -x "$FLOORBIN" ] || [ "$HERE/floor.c" -nt "$FLOORBIN" ]; }; then
  gcc -O2 -o "$FLOORBIN" "$HERE/floor.c"; chmod 755 "$FLOORBIN"; chmod 755 "$BASE/tools"
fi

# --- rootfs + bundles -----------------------------------------------------------------------
ROOTFS=$BASE/rootfs
if [ ! -x "$ROOTFS/bin/busybox" ]; then
  BB=$(command -v busybox); file -L "$BB" | grep -q static || { echo "need busybox-static" >&2; exit 2; }
  mkdir -p "$ROOTFS"/{bin,etc,proc,dev,sys,tmp,root}
  cp "$BB" "$ROOTFS/bin/busybox"
  for a in $("$BB" --list); do [ -e "$ROOTFS/bin/$a" ] || ln -s /bin/busybox "$ROOTFS/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$ROOTFS/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$ROOTFS/etc/group"
  chmod 1777 "$ROOTFS/tmp"; chmod -R a+rX "$ROOTFS"
fi
mkspec() {  # $1 = root|rootless ; uses the first runtime's `spec` (or -s RT's)
  local d=$OUT/bundles/$1 tmp sr=${SPECRT:-${RTS[0]}}; tmp=$(mktemp -d "$OUT/bundles/tmp.XXXX")
  ( cd "$tmp" && if [ "$1" = rootless ]; then "$sr" spec --rootless; else "$sr" spec; fi ) \
    || ( cd "$tmp" && if [ "$1" = rootless ]; then runc spec --rootless; else runc spec; fi )
  mkdir -p "$d"
  jq --arg r "$ROOTFS" --argjson u "$RUID" --argjson g "$RGID" --arg m "$1" '
      .root.path=$r | .root.readonly=true | .process.args=["/bin/true"] | .process.terminal=false
      | if $m=="rootless" then (.linux.uidMappings=[{containerID:0,hostID:$u,size:1}]
                                | .linux.gidMappings=[{containerID:0,hostID:$g,size:1}]) else . end' \
      "$tmp/config.json" > "$d/config.json"
  rm -rf "$tmp"; chmod -R a+rX "$d"
}
for m in ${MODES//,/ }; do
  case $m in root|rootless) mkspec "$m";; *) echo "bad mode $m" >&2; exit 2;; esac
done

# --- spec file for lat ----------------------------------------------------------------------
SPEC=$OUT/spec.txt; : > "$SPEC"
for i in "${!RTS[@]}"; do
  rt=${RTS[$i]}; n=$((i+1))
  for m in ${MODES//,/ }; do
    if [ "$m" = root ]; then u=root; tag=root; else u=$RUSER; tag=rl; fi
    S=$SDIR/state/$n-$tag; P=$SDIR/pids/$n-$tag; mkdir -p "$S" "$P"
    if [ "$m" = rootless ] && [ "$ME" = 0 ]; then chown "$RUID:$RGID" "$S" "$P"; fi
    B=$OUT/bundles/$m
    echo "rt$n-run-$tag|$u|cmd|1|$rt --root $S run --bundle $B {ID}" >> "$SPEC"
    echo "rt$n-cycle-$tag|$u|cycle|1|$rt --root $S create --bundle $B --pid-file $P/{ID} {ID} ;; $rt --root $S start {ID} ;; $rt --root $S delete {ID}" >> "$SPEC"
  done
done
if [ "$FLOOR" = 1 ]; then  # floor.c -f: same rootfs, same interleaving
  for m in ${MODES//,/ }; do
    if [ "$m" = root ]; then echo "floor-run-root|root|cmd|1|$FLOORBIN -R -f $ROOTFS /bin/true" >> "$SPEC"
    else echo "floor-run-rl|$RUSER|cmd|1|$FLOORBIN -f $ROOTFS /bin/true" >> "$SPEC"; fi
  done
fi

WRAP=()
if [ "$HIDE" = 1 ] && [ "$ME" = 0 ] && [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] \
   && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] \
   && [ -n "$(tr -d ' \n' < /sys/fs/cgroup/unified/cgroup.controllers)" ]; then
  echo "note: hybrid cgroups with controllers in cgroup2 ($(cat /sys/fs/cgroup/unified/cgroup.controllers)); running all runtimes in a private mount ns without /sys/fs/cgroup/unified" >&2
  WRAP=(unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified && exec "$@"' _)
fi

# --- sanity: each test once -----------------------------------------------------------------
"${WRAP[@]}" "$LAT" -r 1 -w 0 -l "$OUT/logs" -o "$OUT/sanity.csv" "$SPEC" 2>"$OUT/sanity.err" || true
bad=$(awk -F, 'NR>1 && $11!=0 {print $1}' "$OUT/sanity.csv" | sort -u | tr '\n' ' ')
[ -n "$bad" ] && echo "warning: failing in sanity run: $bad (see $OUT/logs/*.err)" >&2

# --- measure --------------------------------------------------------------------------------
echo "measuring: ${#RTS[@]} runtime(s) x modes {$MODES} x {run,cycle}, $WARM warmup + $ROUNDS rounds, interleaved ..." >&2
"${WRAP[@]}" "$LAT" -r "$ROUNDS" -w "$WARM" -l "$OUT/logs" -o "$OUT/samples.csv" "$SPEC" 2>"$OUT/lat.err" || true
{ for i in "${!RTS[@]}"; do echo "rt$((i+1))=${RTS[$i]}"; done; } > "$OUT/runtimes.txt"
[ "$FLOOR" = 1 ] && echo "floor=$FLOORBIN" >> "$OUT/runtimes.txt"
echo "$LABELS" > "$OUT/labels.txt"

"$PY" - "$OUT/samples.csv" "$OUT/runtimes.txt" "$MODES" "$LABELS" <<'EOF'
import csv, sys, statistics as st
from collections import defaultdict
samples, rtfile, modes = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
rts = [l.strip().split("=", 1) for l in open(rtfile) if l.strip()]
labels = [x for x in (sys.argv[4] if len(sys.argv) > 4 else "").split(",") if x]
names = {lab: (labels[i] if i < len(labels) else path.split("/")[-1]) for i, (lab, path) in enumerate(rts)}
d = defaultdict(dict); fails = defaultdict(int)
for r in csv.DictReader(open(samples)):
    if r["rc"] == "0": d[r["name"]][int(r["round"])] = float(r["wall_ns"]) / 1e6
    else: fails[r["name"]] += 1
cols = [(op, m) for m in modes for op in ("run", "cycle")]
tag = {"root": "root", "rootless": "rl"}
def cell(name, ref):
    v = d.get(name)
    if name.startswith("floor-cycle"): return " " * 30
    if not v: return "FAIL".center(30)
    med = st.median(v.values()); s = f"{med:7.2f} ({min(v.values()):6.2f})"
    rv = d.get(ref)
    if rv and ref != name:
        pr = [v[k] / rv[k] for k in v if k in rv]
        s += f" x{med / st.median(rv.values()):4.2f}/{st.median(pr):4.2f}"
    else: s += "   ref    " if ref == name else " " * 10
    if fails.get(name): s += f" !{fails[name]}"
    return f"{s:30s}"
print("median (min) ms; xA/B = ratio of medians / median of per-round ratios vs the first runtime")
print(f"{'runtime':28s} " + " ".join(f"{op + ' ' + m:30s}" for op, m in cols))
for lab, path in rts:
    row = f"{(lab + ' ' + names[lab])[:28]:28s} "
    row += " ".join(cell(f"{lab}-{op}-{tag[m]}", f"rt1-{op}-{tag[m]}") for op, m in cols)
    print(row)
for lab, path in rts: print(f"  {lab} = {path}")
import glob, os
for f in sorted(glob.glob(os.path.join(os.path.dirname(samples), "logs", "*.err"))):
    name = os.path.basename(f)[:-4]
    if fails.get(name) or name not in d:
        lines = [l.strip() for l in open(f, errors="replace") if l.strip()]
        if lines: print(f"  {name} failed: {lines[0][:150]}")
print(f"samples: {samples}")
EOF
