#!/bin/sh
# bench/symbol-order-check.sh NOOK ORDER: run after every link of nook (CMakeLists.txt). Says
# when bench/symbol-order.txt names functions the binary no longer has: the list was made from
# an older build (functions renamed, moved or removed), so the start path's functions are no
# longer linked together and a start maps more pages. It never fails the build: lld skips
# unknown names; the fix is `sudo bench/symbol-order.sh` and a commit of the result.
nook=$1 order=$2
command -v nm >/dev/null 2>&1 || exit 0
defined=$(mktemp) listed=$(mktemp)
trap 'rm -f "$defined" "$listed"' EXIT
nm --defined-only "$nook" | awk 'NF == 3 {print $3}' | sort -u >"$defined"
grep -v -e '^#' -e ' ' "$order" | grep . | sort -u >"$listed"
total=$(wc -l <"$listed")
stale=$(comm -23 "$listed" "$defined" | wc -l)
if [ "$stale" -gt 0 ]; then
  echo "nook: note: $stale of $total functions in bench/symbol-order.txt are not in the binary" \
    "(the list is stale): run 'sudo bench/symbol-order.sh' and commit bench/symbol-order.txt"
  comm -23 "$listed" "$defined" | head -5 | sed 's/^/  missing: /'
fi
exit 0
