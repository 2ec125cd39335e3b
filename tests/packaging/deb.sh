#!/bin/bash
# The Debian package (issue 19): builds it with CPack from the build tree and checks its
# control fields and files (ctest package-deb), or, with "lintian", runs lintian on the built
# package (ctest package-lintian: errors fail; warnings are overridden in
# packaging/debian/lintian-overrides, each with its reason). The package is left in
# $BUILD_DIR/package/ for the VM stage (tests/vm/checks.sh, check "deb"), which installs it
# into a fresh Debian 12 guest and runs it from /usr/bin.
#
#   BUILD_DIR=build bash tests/packaging/deb.sh && BUILD_DIR=build bash tests/packaging/deb.sh lintian
set -euo pipefail
BUILD_DIR=$(cd "${BUILD_DIR:?BUILD_DIR must name the build directory}" && pwd)
OUT=$BUILD_DIR/package
fail() {
  echo "FAIL: $*"
  exit 1
}
ok() { echo "ok: $*"; }

if [[ ${1:-} == lintian ]]; then
  debs=("$OUT"/nook_*.deb)
  [[ -f ${debs[0]} ]] || fail "no package in $OUT (the package-deb test makes it)"
  if ! command -v lintian >/dev/null; then
    echo "SKIP: lintian is not installed (apt-get install lintian)"
    exit 77
  fi
  echo "lintian $(lintian --version | awk '{print $2}') on ${debs[0]}:"
  rc=0
  out=$(lintian --fail-on error --display-info --show-overrides "${debs[0]}" 2>&1) || rc=$?
  grep -v 'running with root privileges' <<<"$out" || true
  ((rc == 0)) || fail "lintian reports errors (exit $rc)"
  ok "lintian: no errors, $(grep -c '^W: ' <<<"$out") warnings, $(grep -c '^O: ' <<<"$out") overridden"
  exit 0
fi

rm -rf "$OUT"
mkdir -p "$OUT"
t0=$(date +%s.%N)
cpack -G DEB -B "$OUT" --config "$BUILD_DIR/CPackConfig.cmake" >"$OUT/cpack.log" 2>&1 || {
  cat "$OUT/cpack.log"
  fail "cpack -G DEB"
}
rm -rf "$OUT/_CPack_Packages"
debs=("$OUT"/nook_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one nook_*.deb in $OUT, found: ${debs[*]}"
deb=${debs[0]}
echo "built $deb in $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s: $(stat -c %s "$deb") bytes," \
  "Installed-Size $(dpkg-deb -f "$deb" Installed-Size) KiB"
dpkg-deb -I "$deb"

field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == nook ]] || fail "Package: $(field Package)"
version=$("$BUILD_DIR/nook" --version | sed -n 's/^nook version //p')
[[ $(field Version) == "$version"-* ]] || fail "Version $(field Version) is not nook's $version"
[[ $deb == */nook_$(field Version)_$(field Architecture).deb ]] || fail "file name $deb"
ok "Version $(field Version) from nook --version $version"

X=$OUT/root
dpkg-deb -x "$deb" "$X"
bin=$X/usr/bin/nook
[[ -x $bin ]] || fail "no /usr/bin/nook"
# The binary is a static PIE: nothing to depend on. If the build is dynamic
# (-DNOOK_STATIC=OFF), dpkg-shlibdeps must have filled in Depends instead.
kind=$(file -b "$bin")
echo "file: $kind"
if [[ $kind == *static-pie\ linked* ]]; then
  [[ -z $(field Depends) ]] || fail "a static binary with Depends: $(field Depends)"
  ldd "$bin" 2>&1 | grep -Eq 'not a dynamic executable|statically linked' || fail "ldd: $(ldd "$bin" 2>&1)"
  ok "static PIE ($(ldd "$bin" 2>&1 | xargs)), no Depends"
  # The systemd cgroup driver dlopens libsystemd.so.0 with the build's glibc.
  glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
  [[ $(field Recommends) == *libsystemd0* && $(field Recommends) == *"libc6 (>= $glibc)"* ]] ||
    fail "Recommends: $(field Recommends)"
  ok "Recommends: $(field Recommends)"
else
  [[ $(field Depends) == *libc6* ]] || fail "a dynamic binary without libc6 in Depends: $(field Depends)"
fi
"$bin" --version >/dev/null || fail "the packaged nook does not run"
ok "packaged nook runs: $("$bin" --version | head -1)"

# The drop-in and the Slurm example name the packaged binary, and dpkg treats the drop-in
# (in /etc) as a conffile.
dropin=$X/etc/containers/containers.conf.d/nook.conf
grep -qx 'nook = \["/usr/bin/nook"\]' "$dropin" || fail "drop-in: $(grep -n 'nook =' "$dropin")"
grep -qx 'runtime_supports_json = \[.*"nook"\]' "$dropin" || fail "drop-in: no runtime_supports_json"
grep -qx 'runtime_supports_nocgroup = \[.*"nook"\]' "$dropin" || fail "drop-in: no runtime_supports_nocgroup"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/containers/containers.conf.d/nook.conf ||
  fail "the drop-in is not a conffile"
ok "drop-in registers /usr/bin/nook, is a conffile"
grep -q '^RunTimeRun="exec /usr/bin/nook ' "$X/usr/share/doc/nook/examples/oci.conf" || fail "oci.conf example"
ok "oci.conf example runs /usr/bin/nook"

# The changelog's latest entry is this version.
top=$(zcat "$X/usr/share/doc/nook/changelog.Debian.gz" | head -1)
[[ $top == "nook ($(field Version)) "* ]] || fail "changelog.Debian.gz starts \"$top\", the package is $(field Version)"
ok "changelog: $top"
[[ -s $X/usr/share/doc/nook/copyright ]] || fail "no copyright file"

# Every verb of `nook --help` has its page.
for v in $("$bin" --help | sed -n '/^Subcommands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}'); do
  [[ -f $X/usr/share/man/man8/nook-$v.8.gz ]] || fail "no man page nook-$v.8.gz"
done
ok "man pages: $(ls "$X/usr/share/man/man8" | xargs)"
rm -rf "$X"
