#!/bin/bash
# mounts.sh - cost of each extra bind mount in config.json.
#
# usage: mounts.sh [-r ROUNDS] [-n "0 64 256"] [-m root,rootless] [-F] [-o OUT] LABEL=RUNTIME...
# The default config plus 0, 64 and 256 bind mounts (a host directory on /mnt/b0.., options
# ["bind"]), `RUNTIME run` of /bin/true, all configs x runtimes x modes interleaved (lat.c).
# The cost per mount is the slope of run time against the number of mounts: the median over
# rounds of each round's least-squares slope (paired, so drift cancels), and the slope through
# the medians. -F adds floor.c -f -b N (the same binds by plain path) as a "floor" row.
# Writes OUT/mounts.json.
source "$(dirname "$0")/lib.sh"
enter_ns "$0" "$@"
parse_common 15 "0 64 256" "$@"
parse_runtimes "${ARGS[@]}"
ensure_tools; ensure_rootfs

SPEC=$OUT/mnt-spec.txt; META=$OUT/mnt-meta.tsv; : > "$SPEC"; : > "$META"
mkdir -p "$OUT/mnt-logs"; chmod 1777 "$OUT/mnt-logs"
for m in ${MODES//,/ }; do
  tag=$(mtag "$m"); u=$(lat_user "$m")
  for n in $PARAM; do
    B=$OUT/bundles/$m-$n; [ -f "$B/config.json" ] || mkbundle "$m" "$B" "$n"
    for i in "${!RTS[@]}"; do
      S=$STATE_DIR/mnt-$i-$tag; statedir "$S" "$m"
      echo "m$i-$tag-$n|$u|cmd|1|${RTS[$i]} --root $S run --bundle $B {ID}" >> "$SPEC"
      printf 'm%s-%s-%s\t%s\t%s\t%s\n' "$i" "$tag" "$n" "${LABELS[$i]}" "$m" "$n" >> "$META"
    done
    if [ "$FLOOR" = 1 ]; then  # floor.c -f plus the same binds by plain path (no safe resolution)
      if [ "$m" = root ]; then f="$FLOORBIN -R"; else f="$FLOORBIN"; fi
      echo "mf-$tag-$n|$u|cmd|1|$f -f -b $n:$BASE/bindsrc $ROOTFS /bin/true" >> "$SPEC"
      printf 'mf-%s-%s\tfloor\t%s\t%s\n' "$tag" "$n" "$m" "$n" >> "$META"
    fi
  done
done
log "bind mounts {$PARAM}: ${LABELS[*]} x {$MODES}, 2 warmup + $ROUNDS rounds ..."
"$LAT" -r "$ROUNDS" -w 2 -l "$OUT/mnt-logs" -o "$OUT/mnt-samples.csv" "$SPEC" 2>"$OUT/mnt-lat.err" || true
"$PY" "$BENCH_DIR/summarize.py" mounts "$OUT/mnt-samples.csv" "$META" "$OUT/mounts.json"
