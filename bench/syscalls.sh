#!/bin/bash
# syscalls.sh - system calls made by one `run` (all processes: strace -f -c).
#
# usage: syscalls.sh [-r RUNS] [-m root,rootless] [-F] [-o OUT] LABEL=RUNTIME...
# For each runtime and mode, RUNS times: strace -f -c -U name,calls,errors -o FILE --
# RUNTIME --root S run --bundle B ID (rootless: strace and the runtime run as $BENCH_USER).
# The count includes the container's own /bin/true (~30 calls, the same for everyone).
# -F adds floor.c -f. Writes OUT/syscalls.json (median total, per-syscall means).
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
parse_common 3 "" "$@"
parse_runtimes "${ARGS[@]}"
ensure_tools; ensure_rootfs
command -v strace >/dev/null || die "need strace"

D=$OUT/strace; mkdir -p "$D"; chmod 1777 "$D"; META=$OUT/sc-meta.tsv; : > "$META"
log "strace -f -c of one run: ${LABELS[*]} x {$MODES}, $ROUNDS runs each ..."
for r in $(seq 1 "$ROUNDS"); do
  for m in ${MODES//,/ }; do
    tag=$(mtag "$m")
    B=$OUT/bundles/$m-0; [ -f "$B/config.json" ] || mkbundle "$m" "$B" 0
    n=${#RTS[@]}; [ "$FLOOR" = 1 ] && n=$((n+1))
    for i in $(seq 0 $((n-1))); do
      if [ "$i" -lt "${#RTS[@]}" ]; then
        lab=${LABELS[$i]}; S=$STATE_DIR/sc-$i-$tag; statedir "$S" "$m"
        cmd=("${RTS[$i]}" --root "$S" run --bundle "$B" "sc$$-$r-$i")
      else
        lab=floor
        if [ "$m" = root ]; then cmd=("$FLOORBIN" -R -f "$ROOTFS" /bin/true); else cmd=("$FLOORBIN" -f "$ROOTFS" /bin/true); fi
      fi
      f=$D/$lab-$tag-$r.txt
      rc=0; as_mode "$m" strace -f -c -U name,calls,errors -o "$f" -- "${cmd[@]}" \
        </dev/null >/dev/null 2>>"$D/$lab-$tag.err" || rc=$?
      printf '%s\t%s\t%s\t%s\n' "$f" "$lab" "$m" "$rc" >> "$META"
    done
  done
done
"$PY" "$BENCH_DIR/summarize.py" strace "$META" "$OUT/syscalls.json"
