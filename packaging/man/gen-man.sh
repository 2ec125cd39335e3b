#!/bin/bash
# Man pages from the binary's own --help (one source of truth): nook(8) from `nook --help` and
# nook-VERB(8) from `nook VERB --help` for every verb `nook --help` lists, by help2man, then
# gzip -9n. The build runs it (packaging/CMakeLists.txt, target nook-man) after linking nook;
# tests/packaging/man.sh checks the pages against --help again.
#
#   packaging/man/gen-man.sh NOOK OUTDIR
set -euo pipefail
nook=$1
out=$2
command -v help2man >/dev/null || { echo "gen-man.sh: help2man is not installed (apt-get install help2man)" >&2; exit 1; }
version=$("$nook" --version | sed -n 's/^nook version //p')
[[ -n $version ]] || { echo "gen-man.sh: no version from $nook --version" >&2; exit 1; }
# The verbs and their one-line descriptions: the "Subcommands:" block of `nook --help`.
mapfile -t verbs < <("$nook" --help | sed -n '/^Subcommands:/,/^$/{/^  [a-z]/p}')
((${#verbs[@]})) || { echo "gen-man.sh: no verbs in $nook --help" >&2; exit 1; }
# Reproducible pages: the date is the source's (SOURCE_DATE_EPOCH), else the binary's mtime.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$nook")}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

see_also=".BR nook (8)"
for line in "${verbs[@]}"; do
  read -r verb _ <<<"$line"
  see_also+=$',\n'".BR nook\\-$verb (8)"
done
see_also+=$'\n.PP\nThe nook documentation (README.md and docs/ in the source) explains every config.json key, the security rules and the set-up of Podman, Buildah, containerd and Slurm.'

page() { # NAME HELP_OPTION SUMMARY
  local name=$1 help=$2 summary=$3
  printf '[NAME]\n%s \\- %s\n[SEE ALSO]\n%s\n' "${name//-/\\-}" "$summary" "$see_also" >"$tmp/$name.h2m"
  help2man --no-info --no-discard-stderr --section=8 --manual="System Administration" \
    --source="nook $version" --version-string="$name $version" --help-option="$help" \
    --include="$tmp/$name.h2m" --output="$tmp/$name.8" "$nook"
  gzip -9n -c "$tmp/$name.8" >"$out/$name.8.gz.new"
  mv -f "$out/$name.8.gz.new" "$out/$name.8.gz"
}

page nook --help "an unprivileged OCI container runtime"
for line in "${verbs[@]}"; do
  read -r verb summary <<<"$line"
  page "nook-$verb" "$verb --help" "$summary"
done
# Pages of verbs that no longer exist would be installed too: remove them.
for f in "$out"/nook-*.8.gz; do
  v=${f##*/nook-}
  v=${v%.8.gz}
  printf '%s\n' "${verbs[@]}" | grep -q "^  $v " || rm -f "$f"
done
