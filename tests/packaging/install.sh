#!/bin/bash
# `cmake --install` (issue 19): installs the build tree into a scratch DESTDIR with the default
# prefix (/usr/local) and checks that every file is where engines, man and bash look, and that
# the drop-in and the Slurm example name the installed binary.
#
#   BUILD_DIR=build bash tests/packaging/install.sh
set -euo pipefail
BUILD_DIR=$(cd "${BUILD_DIR:?BUILD_DIR must name the build directory}" && pwd)
fail() {
  echo "FAIL: $*"
  exit 1
}
ok() { echo "ok: $*"; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
echo "CMAKE_INSTALL_PREFIX=$prefix"
DESTDIR=$D cmake --install "$BUILD_DIR" >"$D.log" 2>&1 || {
  cat "$D.log"
  rm -f "$D.log"
  fail "cmake --install"
}
sed 's/^/  /' "$D.log"
rm -f "$D.log"

bin=$D$prefix/bin/nook
[[ -x $bin ]] || fail "no $prefix/bin/nook"
"$bin" --version >/dev/null || fail "the installed nook does not run"
ok "$prefix/bin/nook: $("$bin" --version | head -1)"

verbs=$("$bin" --help | sed -n '/^Subcommands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}')
[[ -n $verbs ]] || fail "no verbs in nook --help"
for page in nook $(printf 'nook-%s ' $verbs); do
  [[ -s $D$prefix/share/man/man8/$page.8.gz ]] || fail "no $prefix/share/man/man8/$page.8.gz"
done
ok "man8: nook $(printf 'nook-%s ' $verbs)"

[[ -s $D$prefix/share/bash-completion/completions/nook ]] || fail "no bash completion"
bash -n "$D$prefix/share/bash-completion/completions/nook" || fail "bash completion does not parse"
ok "$prefix/share/bash-completion/completions/nook"

dropin=$D/etc/containers/containers.conf.d/nook.conf
[[ -f $dropin ]] || fail "no /etc/containers/containers.conf.d/nook.conf"
grep -qx "nook = \[\"$prefix/bin/nook\"\]" "$dropin" || fail "the drop-in does not name $prefix/bin/nook: $(grep 'nook =' "$dropin")"
ok "drop-in: $(grep '^nook =' "$dropin")"

oci=$D$prefix/share/doc/nook/examples/oci.conf
grep -q "^RunTimeRun=\"exec $prefix/bin/nook --root=/run/nook-slurm/%u " "$oci" || fail "oci.conf: $(grep RunTimeRun "$oci")"
! grep -q '@[A-Z_]*@' "$oci" || fail "oci.conf keeps a placeholder: $(grep '@[A-Z_]*@' "$oci")"
ok "Slurm example: $prefix/share/doc/nook/examples/oci.conf"
for f in copyright changelog.Debian.gz; do
  [[ -s $D$prefix/share/doc/nook/$f ]] || fail "no $prefix/share/doc/nook/$f"
done
echo "installed files:"
(cd "$D" && find . -type f | sort | sed 's/^\./  /')
