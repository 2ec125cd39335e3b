#!/bin/bash
# Installs what nook needs (Debian 12), builds it, makes a busybox bundle and runs a container
# from it with `nook run`, as the user who runs this script (root or not).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(cmake ninja-build g++ libseccomp-dev nlohmann-json3-dev libcli11-dev busybox-static jq)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
bundle=${NOOK_DEMO_BUNDLE:-${TMPDIR:-/tmp}/nook-demo-$(id -u)}
rm -rf "$bundle"
mkdir -p "$bundle/rootfs"/{bin,proc,sys,dev,tmp,etc,root}
cp /bin/busybox "$bundle/rootfs/bin/"
for cmd in $(/bin/busybox --list); do [ "$cmd" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$cmd"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$bundle/rootfs/etc/passwd"
echo "root:x:0:" >"$bundle/rootfs/etc/group"
build/nook spec --bundle "$bundle"
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo \"hello from nook: $(id) on $(hostname), pid $$\"; ls /"]' \
  "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
echo "+ build/nook run --bundle $bundle demo-$$"
exec build/nook run --bundle "$bundle" "demo-$$"
