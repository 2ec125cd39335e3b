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
# How: a uprobe (tracefs) on the entry of every function of a copy of NOOK, then nook's hot
# verbs run for real, as root and as an unprivileged user: run, create, start, state, kill,
# delete, exec, list, and a failing call (the error path). Every function entered in any nook
# process (parent, container process before its execve, exec child) is listed, most entered
# first, after the pre-libc `state` path (src/fast). This used to be callgrind; valgrind 3.19
# does not know openat2, so the container process stopped at its first path lookup and
# everything after it (most of the start) was missing from the list.
#
# Not probed: glibc's SIMD string-function variants (names with avx, evex, sse, erms, rtm).
# A uprobe on their first instruction (VEX/EVEX-encoded) made nook compute wrong results here,
# so the variants the CPU selects are appended by family instead: the AVX-512/EVEX ones a
# current x86-64 server picks (~37 KB).
#
# A stale list is harmless (unknown symbols are skipped by the linker); rerun this after
# larger changes and commit the result (the build says when the list is stale).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
NOOK=${1:-$REPO/build/nook}
USER_NAME=${BENCH_USER:-nobody}
[ "$(id -u)" = 0 ] || { echo "run as root (uprobes; the rootless half runs as $USER_NAME)" >&2; exit 1; }
T=/sys/kernel/tracing
[ -e $T/uprobe_events ] || mount -t tracefs nodev $T 2>/dev/null || true
[ -e $T/uprobe_events ] || { echo "needs tracefs with uprobes ($T/uprobe_events)" >&2; exit 1; }
GROUP=nookorder$$

WORK=$(mktemp -d /tmp/nook-order.XXXXXX)
cleanup() {
  echo 0 >$T/events/$GROUP/enable 2>/dev/null || true
  [ -z "${TRACING_ON:-}" ] || echo "$TRACING_ON" >$T/tracing_on
  # The list first: reading uprobe_events while removing from it skips entries.
  local events
  events=$(grep -o "^p:$GROUP/[^ ]*" $T/uprobe_events 2>/dev/null | cut -c3-) || true
  for e in $events; do echo "-:$e" >>$T/uprobe_events; done
  rm -rf "$WORK"
}
trap cleanup EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/b/rootfs/bin" "$WORK/state-user"
chown "$USER_NAME" "$WORK/state-user"
BB=$(command -v busybox)
cp "$BB" "$WORK/b/rootfs/bin/busybox"
for c in sh true sleep; do ln -s busybox "$WORK/b/rootfs/bin/$c"; done
# A copy of its own: uprobes are set on an inode, and no other nook should hit them.
cp "$NOOK" "$WORK/nook"

# One probe per function entry (STT_FUNC in the executable segment), named pN; names.txt maps back.
python3 - "$WORK/nook" "$GROUP" "$WORK" <<'PY'
import re, subprocess, sys
binary, group, work = sys.argv[1:]
seg = None
for l in subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout.splitlines():
    p = l.split()
    if p and p[0] == "LOAD" and "E" in p[6:-1]:
        seg = (int(p[1], 16), int(p[2], 16), int(p[5], 16))  # offset, vaddr, memsz
off0, va0, size = seg
simd = re.compile(r"^__\w*_(avx|evex|sse|ssse3|erms|rtm)")
funcs = {}
for l in subprocess.run(["readelf", "-sW", binary], capture_output=True, text=True).stdout.splitlines():
    p = l.split()
    if len(p) == 8 and p[3] == "FUNC" and p[6] != "UND" and not simd.search(p[7]):
        a = int(p[1], 16)
        if va0 <= a < va0 + size:
            funcs.setdefault(a, p[7])
with open(f"{work}/probes.txt", "w") as pr, open(f"{work}/names.txt", "w") as nm:
    for i, (a, n) in enumerate(sorted(funcs.items())):
        pr.write(f"p:{group}/p{i} {binary}:{a - va0 + off0:#x}\n")
        nm.write(f"p{i} {n}\n")
PY
# One write per probe: a write of many lines stops at the first the kernel refuses.
while read -r probe; do echo "$probe" >>$T/uprobe_events 2>/dev/null || echo "$probe" >>"$WORK/refused"; done <"$WORK/probes.txt"
[ ! -s "$WORK/refused" ] || echo "uprobes refused: $(wc -l <"$WORK/refused") (e.g. $(head -1 "$WORK/refused"))"
# Hits are counted per probe (uprobe_profile) whether or not events reach the trace buffer,
# which would overflow: tracing stays off while the probes are enabled.
TRACING_ON=$(cat $T/tracing_on)
echo 0 >$T/tracing_on
echo 1 >$T/events/$GROUP/enable

# Two phases, each as root and as the user: `run` alone (the start whose peak RSS and page
# faults docs/performance.md measures: its functions go first, together), then every other verb.
workload() {
  S=$WORK/state-$MODE B=$WORK/b-$MODE
  if [ "$PHASE" = run ]; then
    mkdir -p "$B" && ln -sfn ../b/rootfs "$B/rootfs"
    (cd "$B" && "$WORK/nook" spec $([ "$MODE" = user ] && echo --rootless) &&
      sed -i 's/"terminal": true/"terminal": false/; s/"readonly": true/"readonly": false/' config.json)
    "$WORK/nook" --root "$S" run --bundle "$B" r1 </dev/null >/dev/null
    return
  fi
  sed -i 's/"sh"/"sleep", "30"/' "$B/config.json"
  "$WORK/nook" --root "$S" create --bundle "$B" c1 </dev/null
  "$WORK/nook" --root "$S" state c1 >/dev/null
  "$WORK/nook" --root "$S" list >/dev/null
  "$WORK/nook" --root "$S" start c1
  "$WORK/nook" --root "$S" exec c1 true
  "$WORK/nook" --root "$S" kill c1 KILL
  sleep 0.5
  "$WORK/nook" --root "$S" delete c1
  "$WORK/nook" --root "$S" state no-such-container 2>/dev/null || true
}
export -f workload
mkdir -p "$WORK/b-user"
chown "$USER_NAME" "$WORK/b-user"
for PHASE in run rest; do
  MODE=root PHASE=$PHASE workload
  runuser -u "$USER_NAME" -- env -u XDG_RUNTIME_DIR WORK="$WORK" MODE=user PHASE=$PHASE bash -c workload
  cp $T/uprobe_profile "$WORK/profile-$PHASE"
done

# The pre-libc `state` path (src/fast/state.cpp) goes first, so a `state` call touches only the
# first pages of .text; then the functions `run` entered, most entered first (summed over all
# processes), the SIMD variants, and the functions only the other verbs entered.
FASTOBJ=$(find "$(dirname "$NOOK")" -path '*nookfast.dir*' -name 'state.cpp.o' | head -1)
EXEOBJ=$(find "$(dirname "$NOOK")" -path '*nookfast.dir*' -name 'exe.cpp.o' | head -1)
python3 - "$WORK" "$HERE/symbol-order.txt" "$FASTOBJ" "$EXEOBJ" <<'PY'
import collections, re, subprocess, sys
work, dest, fastobj, exeobj = sys.argv[1:]
names = dict(l.split() for l in open(f"{work}/names.txt"))
def entered(phase):
    hits = collections.Counter()
    for line in open(f"{work}/profile-{phase}"):
        p = line.split()
        if len(p) == 3 and p[1] in names and int(p[2]) > 0 and p[0].startswith(work):
            hits[names[p[1]]] += int(p[2])
    return [s for s, _ in hits.most_common()]
run, every = entered("run"), entered("rest")
fast = []
if fastobj:
    nm = subprocess.run(["nm", "--defined-only", fastobj], capture_output=True, text=True).stdout
    fast = ["nook_entry", "nook_prelibc"] + [l.split()[2] for l in nm.splitlines()
                                            if l.split()[1] in "tT" and "nook_" not in l]
# Then what the entry point runs and reads before the binary is mapped again
# (src/fast/exe.cpp, and NOOK_ENTRY_CONST in src/fast/raw.hpp: section .text.nook_entry_const):
# every page of a mapping the code touched before it is replaced costs a TLB flush then.
if exeobj:
    nm = subprocess.run(["nm", "--defined-only", exeobj], capture_output=True, text=True).stdout
    fast[2:2] = [l.split()[2] for l in nm.splitlines() if l.split()[1] in "tT"]
simd = [l.split()[2] for l in subprocess.run(["nm", "--defined-only", f"{work}/nook"], capture_output=True,
        text=True).stdout.splitlines() if len(l.split()) == 3 and l.split()[1] in "tT"
        and re.search(r"evex|avx512", l.split()[2])]
out = list(dict.fromkeys(fast + run + sorted(simd) + every))
with open(dest, "w") as fh:
    fh.write("\n".join(out) + "\n")
print(f"{len(run)} functions entered by run, {len(every)} by all verbs, {len(simd)} SIMD variants"
      f" -> {dest} ({len(out)} names)")
PY
