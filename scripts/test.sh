#!/bin/bash
# Install what the build and the tests need (Debian 12, apt), build nook, run every test.
#
#   bash scripts/test.sh [CTEST_ARGS...]     e.g. -R lifecycle, or -L root
#
# As root it installs missing packages itself; as another user it lists what is missing.
# The package list is scripts/test-packages.txt (one per line, '#' comments; every test
# suite adds what it needs there). Idempotent: with everything installed it goes straight
# to the build. The run ends with ctest's summary.
# Environment: NOOK_CTEST_JOBS (default: number of CPUs, at most 4), BUILD_DIR (default build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive
build_dir=${BUILD_DIR:-build}

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/test-packages.txt | grep . | sort -u)

missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: missing packages and not root; run: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

cmake -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir"

jobs=${NOOK_CTEST_JOBS:-$(nproc)}
((jobs > 4)) && jobs=4
cd "$build_dir"
exec ctest --output-on-failure -j "$jobs" "$@"
