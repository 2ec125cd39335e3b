#!/bin/bash
# The man pages (issue 19) against the binary's --help: nook(8) and one nook-VERB(8) per verb
# `nook --help` lists, each rendered by `man -l` without a groff warning, with the verb's
# one-line description as its NAME and every flag of `nook VERB --help` in its text. The pages
# are made from --help at build time (packaging/man/gen-man.sh); this catches a stale page, a
# verb without one, and a help text man cannot render.
#
#   NOOK=build/nook MAN_DIR=build/packaging/man bash tests/packaging/man.sh
set -euo pipefail
NOOK=${NOOK:?NOOK must name the nook binary}
MAN_DIR=${MAN_DIR:?MAN_DIR must name the directory of the generated pages}
if ! command -v man >/dev/null; then
  echo "SKIP: man is not installed (apt-get install man-db)"
  exit 77
fi
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
flags() { sed -n '/^Options:/,/^$/p' | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort -u; }

check_page() { # PAGE SUMMARY HELP...
  local page=$1 summary=$2 f=$MAN_DIR/$1.8.gz text err
  shift 2
  [[ -f $f ]] || {
    fail "$page: no $f"
    return
  }
  err=$(mktemp)
  text=$(MANWIDTH=100 MAN_KEEP_FORMATTING= man --warnings -l "$f" 2>"$err" | col -b)
  if [[ -s $err ]]; then
    fail "$page: man -l warns: $(cat "$err")"
  fi
  rm -f "$err"
  grep -q "^ *$page - $summary\$" <<<"$text" || fail "$page: NAME is not \"$page - $summary\""
  local help n=0 flag
  help=$("$NOOK" "$@" --help)
  for flag in $(flags <<<"$help"); do
    n=$((n + 1))
    grep -qE -- "(^|[ ,])$flag([ ,=]|\$)" <<<"$text" || fail "$page: flag $flag of \`nook $* --help\` is not in the page"
  done
  echo "ok: $page renders ($(wc -l <<<"$text") lines), NAME and $n flags match --help"
}

mapfile -t verbs < <("$NOOK" --help | sed -n '/^Subcommands:/,/^$/{/^  [a-z]/p}')
((${#verbs[@]} > 0)) || fail "no verbs in nook --help"
check_page nook "an unprivileged OCI container runtime"
for line in "${verbs[@]}"; do
  read -r verb summary <<<"$line"
  check_page "nook-$verb" "$summary" "$verb"
done
# No page for a verb nook no longer has.
for f in "$MAN_DIR"/nook-*.8.gz; do
  v=${f##*/nook-}
  v=${v%.8.gz}
  printf '%s\n' "${verbs[@]}" | grep -q "^  $v " || fail "page $f for a verb nook --help does not list"
done
((failed == 0)) || exit 1
echo "${#verbs[@]} verbs + nook(8): all pages match --help"
