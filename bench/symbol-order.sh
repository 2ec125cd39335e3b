#!/bin/bash
# bench/symbol-order.sh - regenerate bench/symbol-order.txt, the link order of the functions a
# container start executes.
#
# usage: sudo bench/symbol-order.sh [NOOK]      (default: build/nook of this checkout)
#
# Why: a start touches a few hundred KB of nook's 2.8 MB of code, but scattered over all of it;
# the kernel maps file pages 64 KB at a time around each fault (fault-around), so peak RSS was
# nearly the whole binary. Linked in this order (ld.lld --symbol-ordering-file, see
# CMakeLists.txt), the executed functions sit together and a start maps far fewer pages.
#
# How: callgrind (exact, no sampling) runs nook's hot verbs as root and as an unprivileged user:
# run, create, start, state, kill, delete, exec, list, and a failing call (the error path).
# Every function with a cost in any of the parent or container processes is listed, most
# executed first. A stale list is harmless (unknown symbols are skipped by the linker); rerun
# this after larger changes and commit the result.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
NOOK=${1:-$REPO/build/nook}
USER_NAME=${BENCH_USER:-nobody}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (the rootless half runs as $USER_NAME)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/nook-order.XXXXXX)
trap 'umount "$WORK/ro" 2>/dev/null; rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/out" "$WORK/b/rootfs"
chmod 777 "$WORK/out"
BB=$(command -v busybox)
mkdir -p "$WORK/b/rootfs/bin"
cp "$BB" "$WORK/b/rootfs/bin/busybox"
for c in sh true sleep; do ln -s busybox "$WORK/b/rootfs/bin/$c"; done
# On a read-only mount: nook then has no reason to re-execute itself from a protected copy,
# which valgrind cannot follow (docs/security.md).
mkdir -p "$WORK/ro"
cp "$NOOK" "$WORK/ro/nook"
mount --bind "$WORK/ro" "$WORK/ro"
mount -o remount,bind,ro "$WORK/ro"
ln -s ro/nook "$WORK/nook"

vg() {  # vg TAG ARGS...: one nook call under callgrind, output per process
  valgrind -q --tool=callgrind --demangle=no --trace-children=no \
    --callgrind-out-file="$WORK/out/$TAG.%p" "$WORK/nook" --root "$WORK/out/state-$MODE" "$@" \
    </dev/null >/dev/null 2>&1 || true
}

workload() {
  (cd "$WORK/b" && "$WORK/nook" spec $([ "$MODE" = user ] && echo --rootless) &&
    sed -i 's/"terminal": true/"terminal": false/; s/"readonly": true/"readonly": false/' config.json)
  TAG=run-$MODE vg run --bundle "$WORK/b" r1
  "$WORK/nook" --root "$WORK/out/state-$MODE" delete -f r1 >/dev/null 2>&1 || true
  sed -i 's/"sh"/"sleep", "30"/' "$WORK/b/config.json"
  TAG=create-$MODE vg create --bundle "$WORK/b" c1
  TAG=state-$MODE vg state c1
  TAG=list-$MODE vg list
  TAG=start-$MODE vg start c1
  TAG=exec-$MODE vg exec c1 true
  TAG=kill-$MODE vg kill c1 KILL
  sleep 0.5
  TAG=delete-$MODE vg delete c1
  TAG=error-$MODE vg state no-such-container
}

MODE=root workload
chown -R "$USER_NAME" "$WORK/b"; ls "$WORK/out" | sed "s/\..*//" | sort | uniq -c | xargs echo "callgrind outputs (root):"
rm -f "$WORK/b/config.json"
export -f vg workload
runuser -u "$USER_NAME" -- env -u XDG_RUNTIME_DIR WORK="$WORK" MODE=user bash -c workload

ls "$WORK/out" | grep -- -user | sed "s/\..*//" | sort | uniq -c | xargs echo "callgrind outputs (user):"
# Functions by instructions executed, summed over all processes (self cost, "fn=" records).
# The pre-libc `state` path (src/fast/state.cpp) goes first: a `state` call then touches only
# the first pages of .text.
FASTOBJ=$(find "$(dirname "$NOOK")" -path '*nookfast.dir*' -name 'state.cpp.o' | head -1)
python3 - "$WORK/out" "$HERE/symbol-order.txt" "$FASTOBJ" <<'EOF'
import os, re, sys, collections, subprocess
out, dest, fastobj = sys.argv[1], sys.argv[2], sys.argv[3]
cost = collections.Counter()
for f in [f for f in os.listdir(out) if os.path.isfile(os.path.join(out, f))]:
    names, cur, skip = {}, None, False
    for line in open(os.path.join(out, f), errors="replace"):
        m = re.match(r"fn=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(2): names[m.group(1)] = m.group(2).strip()
            cur = names.get(m.group(1))
            continue
        m = re.match(r"cfn=\((\d+)\) (.*)", line)
        if m:  # a callee named for the first time
            names[m.group(1)] = m.group(2).strip()
            continue
        if line.startswith("calls="):
            skip = True  # the next cost line is the call's inclusive cost
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if not skip and cur and len(parts) >= 2 and parts[1].isdigit():
                cost[re.sub(r"'\d+$", "", cur)] += int(parts[1])
            skip = False
syms = [s for s, _ in cost.most_common() if s and not s.startswith("0x")]
fast = []
if fastobj:
    nm = subprocess.run(["nm", "--defined-only", fastobj], capture_output=True, text=True).stdout
    fast = ["nook_entry", "nook_prelibc"] + [l.split()[2] for l in nm.splitlines()
                                            if l.split()[1] in "tT" and "nook_" not in l]
syms = fast + [s for s in syms if s not in fast]
with open(dest, "w") as fh:
    fh.write("\n".join(syms) + "\n")
print(f"{len(syms)} functions -> {dest}")
EOF
