#!/bin/bash
# rss.sh - peak resident memory of the runtime processes during one `run`.
#
# usage: rss.sh [-r RUNS] [-m root,rootless] [-F] [-o OUT] LABEL=RUNTIME...
# Runs `RUNTIME --root S run --bundle B ID` of /bin/true under rss.c, which is a child subreaper
# and reaps every process of the tree with wait4(): the figure is the maximum ru_maxrss over all
# of them (so for nook: the largest of all nook processes, whatever their number), median over
# RUNS. -F adds floor.c -f. Writes OUT/rss.json (median peak and per-process breakdown).
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
parse_common 5 "" "$@"
parse_runtimes "${ARGS[@]}"
ensure_tools; ensure_rootfs

D=$OUT/rss; mkdir -p "$D"; META=$OUT/rss-meta.tsv; : > "$META"
log "peak RSS of one run: ${LABELS[*]} x {$MODES}, $ROUNDS runs each ..."
for r in $(seq 1 "$ROUNDS"); do
  for m in ${MODES//,/ }; do
    tag=$(mtag "$m")
    B=$OUT/bundles/$m-0; [ -f "$B/config.json" ] || mkbundle "$m" "$B" 0
    n=${#RTS[@]}; [ "$FLOOR" = 1 ] && n=$((n+1))
    for i in $(seq 0 $((n-1))); do
      if [ "$i" -lt "${#RTS[@]}" ]; then
        lab=${LABELS[$i]}; S=$STATE_DIR/rss-$i-$tag; statedir "$S" "$m"
        cmd=("${RTS[$i]}" --root "$S" run --bundle "$B" "rss$$-$r-$i")
      else
        lab=floor
        if [ "$m" = root ]; then cmd=("$FLOORBIN" -R -f "$ROOTFS" /bin/true); else cmd=("$FLOORBIN" -f "$ROOTFS" /bin/true); fi
      fi
      f=$D/$lab-$tag-$r.txt
      as_mode "$m" "$RSSBIN" "${cmd[@]}" > "$f" 2>>"$D/$lab-$tag.err" || true
      printf '%s\t%s\t%s\n' "$f" "$lab" "$m" >> "$META"
    done
  done
done
"$PY" "$BENCH_DIR/summarize.py" rss "$META" "$OUT/rss.json"
