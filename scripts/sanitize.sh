#!/bin/bash
# Sanitizer run (issue 8): builds nook with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DNOOK_SANITIZE=ON; gcc by default, clang with CC=clang-14 CXX=clang++-14) in its own build
# directory and runs, under them:
#   - the unit tests and the fuzz corpus replays (ctest -L unit),
#   - a subset of the integration suites, as root and unprivileged (default: errors,
#     lifecycle; NOOK_SANITIZE_SUITES="a b c" to choose), one after the other.
# Any sanitizer report aborts the process (-fno-sanitize-recover, halt_on_error), which fails
# the test that ran it. Budget: under 10 minutes on 2 cores.
#
#   bash scripts/sanitize.sh [CTEST_ARGS...]
# Environment: BUILD_DIR (default build-asan), NOOK_CTEST_JOBS (default 2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build-asan}
suites=${NOOK_SANITIZE_SUITES:-errors lifecycle}
jobs=${NOOK_CTEST_JOBS:-2}
start=$SECONDS

cmake -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOOK_SANITIZE=ON
cmake --build "$build_dir"

# abort_on_error gives a core-style exit (status 134) that no test mistakes for a clean
# failure. Leak checking is on for the unit tests and the corpus replays; in the integration
# suites it is off: LeakSanitizer stops the world with ptrace at exit, which fails at random
# for a process that made itself non-dumpable or joined a user namespace ("LeakSanitizer has
# encountered a fatal error", exit 1), and a runtime call that then fails is not a leak.
asan_common=halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-$asan_common:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
regex=$(printf '%s|' $suites)
regex="^(${regex%|})-(root|user)\$"

cd "$build_dir"
status=0
ctest --output-on-failure -j "$jobs" -L unit -E "^clang-format$" "$@" || status=1
# One suite at a time: the root and unprivileged runs of a suite use the same container IDs,
# and as root the default cgroup is /nook/ID whatever the --root.
ASAN_OPTIONS=${NOOK_ASAN_OPTIONS_INTEGRATION:-$asan_common:detect_leaks=0} \
  ctest --output-on-failure -j 1 -R "$regex" "$@" || status=1
echo "sanitize.sh: $((SECONDS - start)) s, $([[ $status -eq 0 ]] && echo clean || echo FAILED)"
exit $status
