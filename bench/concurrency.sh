#!/bin/bash
# concurrency.sh - wall time to start N containers at once (default 50), per runtime and mode.
#
# usage: concurrency.sh [-r ROUNDS] [-n N] [-m root,rootless] [-F] [-o OUT] LABEL=RUNTIME...
# Each sample forks N `RUNTIME --root S run --bundle B ID` of /bin/true at once (lat.c, cmd mode
# with par=N) and takes the time from the first fork to the last exit. Runtimes and modes are
# interleaved, freshly shuffled every round. -F adds floor.c -f (N at once) as a "floor" row.
# Writes OUT/concurrency.json (median/min ms per runtime and mode).
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
parse_common 8 50 "$@"
parse_runtimes "${ARGS[@]}"
ensure_tools; ensure_rootfs

SPEC=$OUT/conc-spec.txt; META=$OUT/conc-meta.tsv; : > "$SPEC"; : > "$META"
mkdir -p "$OUT/conc-logs"; chmod 1777 "$OUT/conc-logs"
for m in ${MODES//,/ }; do
  tag=$(mtag "$m"); u=$(lat_user "$m")
  B=$OUT/bundles/$m-0; [ -f "$B/config.json" ] || mkbundle "$m" "$B" 0
  for i in "${!RTS[@]}"; do
    S=$STATE_DIR/conc-$i-$tag; statedir "$S" "$m"
    echo "c$i-$tag|$u|cmd|$PARAM|${RTS[$i]} --root $S run --bundle $B {ID}" >> "$SPEC"
    printf 'c%s-%s\t%s\t%s\t%s\n' "$i" "$tag" "${LABELS[$i]}" "$m" "$PARAM" >> "$META"
  done
  if [ "$FLOOR" = 1 ]; then
    if [ "$m" = root ]; then f="$FLOORBIN -R -f $ROOTFS /bin/true"; else f="$FLOORBIN -f $ROOTFS /bin/true"; fi
    echo "cf-$tag|$u|cmd|$PARAM|$f" >> "$SPEC"
    printf 'cf-%s\tfloor\t%s\t%s\n' "$tag" "$m" "$PARAM" >> "$META"
  fi
done
log "$PARAM containers at once: ${LABELS[*]} x {$MODES}, 1 warmup + $ROUNDS rounds ..."
"$LAT" -r "$ROUNDS" -w 1 -l "$OUT/conc-logs" -o "$OUT/conc-samples.csv" "$SPEC" 2>"$OUT/conc-lat.err" || true
"$PY" "$BENCH_DIR/summarize.py" lat "$OUT/conc-samples.csv" "$META" "$OUT/concurrency.json"
