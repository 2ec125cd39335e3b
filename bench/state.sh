#!/bin/bash
# state.sh - latency of `RUNTIME state ID` on a created container (what Buildah polls).
#
# usage: state.sh [-r RUNS] [-m root,rootless] [-o OUT] LABEL=RUNTIME...
# For each runtime and mode: `create` a container (left in "created"), then
# hyperfine -N --warmup 10 --runs RUNS 'RUNTIME --root S state ID', then `delete -f`.
# Rootless: everything as $BENCH_USER. Two floors are timed the same way: "floor" a static
# `busybox true` (start-up of a glibc program on this machine) and "exec" exit0.c, a static
# binary with no C library (fork+exec alone). Writes OUT/state.json (hyperfine's median/mean/min).
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
parse_common 200 "" "$@"
parse_runtimes "${ARGS[@]}"
ensure_tools; ensure_rootfs
command -v hyperfine >/dev/null || die "need hyperfine"

D=$OUT/hyperfine; mkdir -p "$D"; chmod 1777 "$D"; META=$OUT/state-meta.tsv; : > "$META"
log "state latency: ${LABELS[*]} x {$MODES}, hyperfine $ROUNDS runs each ..."
for m in ${MODES//,/ }; do
  tag=$(mtag "$m")
  B=$OUT/bundles/$m-0; [ -f "$B/config.json" ] || mkbundle "$m" "$B" 0
  for i in "${!RTS[@]}"; do
    lab=${LABELS[$i]}; rt=${RTS[$i]}; S=$STATE_DIR/st-$i-$tag; statedir "$S" "$m"
    id=st$$-$i-$tag; j=$D/$lab-$tag.json; e=$D/$lab-$tag.log
    if as_mode "$m" "$rt" --root "$S" create --bundle "$B" "$id" </dev/null >/dev/null 2>>"$e"; then
      as_mode "$m" "$rt" --root "$S" state "$id" > "$D/$lab-$tag.state" 2>>"$e" || true
      as_mode "$m" hyperfine -N --style basic --warmup 10 --runs "$ROUNDS" --export-json "$j" \
        "$rt --root $S state $id" </dev/null >>"$e" 2>&1 || true
      as_mode "$m" "$rt" --root "$S" delete -f "$id" </dev/null >/dev/null 2>>"$e" || true
    else
      log "$lab $m: create failed (see $e)"
    fi
    printf '%s\t%s\t%s\t%s\n' "$j" "$lab" "$m" "$D/$lab-$tag.state" >> "$META"
  done
  j=$D/floor-$tag.json
  as_mode "$m" hyperfine -N --style basic --warmup 10 --runs "$ROUNDS" --export-json "$j" \
    "$ROOTFS/bin/busybox true" </dev/null >>"$D/floor-$tag.log" 2>&1 || true
  printf '%s\t%s\t%s\t%s\n' "$j" floor "$m" none >> "$META"
  j=$D/exec-$tag.json
  as_mode "$m" hyperfine -N --style basic --warmup 10 --runs "$ROUNDS" --export-json "$j" \
    "$TOOLS/exit0" </dev/null >>"$D/exec-$tag.log" 2>&1 || true
  printf '%s\t%s\t%s\t%s\n' "$j" exec "$m" none >> "$META"
done
"$PY" "$BENCH_DIR/summarize.py" state "$META" "$OUT/state.json"
