#!/bin/bash
# exec.sh - latency of `RUNTIME exec ID /bin/true` into a running container (Podman exec,
# containerd's exec, Slurm's RunTimeExec) and of one `run`, for runtimes given as
# LABEL=RUNTIME; several builds of nook may be compared (e.g. before/after a change).
#
# usage: exec.sh [-r RUNS] [-m root,rootless] [-o OUT] LABEL=RUNTIME...
# For each mode: a container per runtime runs `sleep 1000`; then one hyperfine -N call times
# every runtime's exec (and, separately, every runtime's `run` of /bin/true), commands
# interleaved by hyperfine's order of runs. Rootless runs as $BENCH_USER; a runtime binary
# owned by that user is the case where nook must copy itself (docs/security.md).
# Writes OUT/hyperfine/exec-MODE.json and run-MODE.json (hyperfine's export) and prints the table.
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
parse_common 60 "" "$@"
parse_runtimes "${ARGS[@]}"
ensure_tools; ensure_rootfs
command -v hyperfine >/dev/null || die "need hyperfine"
D=$OUT/hyperfine; mkdir -p "$D"; chmod 1777 "$D"

for m in ${MODES//,/ }; do
  tag=$(mtag "$m")
  B=$OUT/bundles/$m-sleep
  mkbundle "$m" "$B" 0
  jq '.process.args = ["/bin/sleep", "1000"]' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
  BT=$OUT/bundles/$m-true; [ -f "$BT/config.json" ] || mkbundle "$m" "$BT" 0
  chmod -R a+rX "$OUT/bundles"
  execs=() runs=()
  for i in "${!RTS[@]}"; do
    lab=${LABELS[$i]}; rt=${RTS[$i]}; S=$STATE_DIR/ex-$i-$tag; statedir "$S" "$m"
    as_mode "$m" "$rt" --root "$S" run -d --bundle "$B" "ex$i" </dev/null >/dev/null 2>&1 ||
      { log "$lab $m: run -d failed"; continue; }
    execs+=(-n "$lab" "$rt --root $S exec ex$i /bin/true")
    runs+=(-n "$lab" "$rt --root $S run --bundle $BT r$i")
  done
  log "exec/run latency, $m: ${LABELS[*]}, $ROUNDS runs each"
  as_mode "$m" hyperfine -N --style basic --warmup 5 --runs "$ROUNDS" \
    --export-json "$D/exec-$tag.json" "${execs[@]}" </dev/null
  as_mode "$m" hyperfine -N --style basic --warmup 5 --runs "$ROUNDS" \
    --export-json "$D/run-$tag.json" "${runs[@]}" </dev/null
  for i in "${!RTS[@]}"; do
    as_mode "$m" "${RTS[$i]}" --root "$STATE_DIR/ex-$i-$tag" delete -f "ex$i" >/dev/null 2>&1 || true
  done
done
for f in "$D"/exec-*.json "$D"/run-*.json; do
  jq -r --arg f "${f##*/}" '.results[] | [$f, .command, (.median*1000|.*100|round/100), (.mean*1000|.*100|round/100), (.min*1000|.*100|round/100)] | @tsv' "$f"
done | column -t -N FILE,COMMAND,MEDIAN_MS,MEAN_MS,MIN_MS
