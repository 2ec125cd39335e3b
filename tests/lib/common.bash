# Common helpers for nook's bats integration tests.
#
# Run one suite by hand (as root; the tests make their own bundles and test user):
#   NOOK_TEST_MODE=root bats tests/integration/run.bats            # build/nook
#   NOOK=/usr/sbin/runc NOOK_TEST_MODE=root bats tests/integration/lifecycle.bats
#   NOOK_TEST_MODE=user bats -f 'kill' tests/integration/lifecycle.bats
# or all of them through ctest: cd build && ctest -L integration (labels: root, user).
#
# Environment (all optional):
#   NOOK            runtime under test (default ${BUILD_DIR}/nook); runc works as a reference
#   BUILD_DIR       build directory (default <repo>/build)
#   NOOK_TEST_MODE  root | user: in user mode every runtime call runs as the unprivileged
#                   user $NOOK_TEST_USER (created if missing, never given an /etc/subuid entry)
#   NOOK_TEST_USER  default nooktest
#   NOOK_PROBE      the static nook-probe helper (built from tests/helper/probe.c if unset)
#   NOOK_RECVTTY    the static console-socket receiver (built from tests/helper/recvtty.c)
#   NOOK_CACHE      world-readable cache for the busybox rootfs (default /tmp/nook-test-cache)
#   NOOK_CALL_TIMEOUT  seconds any single runtime call may take (default 60)
#   NOOK_TEST_KEEP  set to 1 to keep the per-file test directories
#
# Per test, setup() makes $TEST_DIR (owned by the test user) holding:
#   $BUNDLE        a bundle: rootfs/ (a private copy of the cached busybox rootfs, with /probe)
#                  and config.json from `$NOOK spec` (--rootless in user mode), edited so that
#                  process.terminal is false and process.args is ["/probe", "cwd"]
#                  and root.readonly false
#   $STATE_ROOT    the --root given to every `nook` call (not created in advance)
#   $ROOTFS        $BUNDLE/rootfs

bats_require_minimum_version 1.5.0

NOOK_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NOOK_REPO_DIR=$(cd "$NOOK_TESTS_DIR/.." && pwd)
: "${BUILD_DIR:=$NOOK_REPO_DIR/build}"
: "${NOOK:=$BUILD_DIR/nook}"
: "${NOOK_TEST_MODE:=root}"
: "${NOOK_TEST_USER:=nooktest}"
: "${NOOK_CACHE:=/tmp/nook-test-cache}"
: "${NOOK_CALL_TIMEOUT:=60}"
export NOOK NOOK_TEST_MODE NOOK_TEST_USER NOOK_CACHE NOOK_CALL_TIMEOUT BUILD_DIR

is_user_mode() { [[ $NOOK_TEST_MODE == user ]]; }
is_root_mode() { [[ $NOOK_TEST_MODE == root ]]; }
skip_in_user_mode() { is_user_mode && skip "root mode only: $*"; return 0; }
skip_in_root_mode() { is_root_mode && skip "unprivileged mode only: $*"; return 0; }
runtime_is_runc() { [[ $(basename "$NOOK") == runc* ]]; }

# ---------------------------------------------------------------------------------------------
# Running things as the test user

# as_user CMD...: run a host command as the user the runtime runs as in this mode.
as_user() {
  if [[ -n ${NOOK_AS_USER_UID:-} ]]; then
    setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
      env -u XDG_RUNTIME_DIR HOME="${TEST_DIR:-/tmp}" USER="$NOOK_TEST_USER" \
      LOGNAME="$NOOK_TEST_USER" "$@"
  else
    "$@"
  fi
}

# nook ARGS...: the runtime with --root $STATE_ROOT, as the test user, bounded in time.
# Use `run nook ...` for calls that return once done; use nook_create / nook_bg for calls
# that leave a process holding their stdio (bats' `run` would wait for it).
nook() {
  timeout -k 5 "$NOOK_CALL_TIMEOUT" bash -c '
    if [[ -n $NOOK_AS_USER_UID ]]; then
      exec setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
        env -u XDG_RUNTIME_DIR HOME="$TEST_DIR" USER="$NOOK_TEST_USER" LOGNAME="$NOOK_TEST_USER" "$@"
    fi
    exec "$@"' nook "$NOOK_BIN" --root "$STATE_ROOT" "$@"
}

# nook_raw ARGS...: like nook but without the implicit --root (for flag-placement tests).
nook_raw() {
  timeout -k 5 "$NOOK_CALL_TIMEOUT" bash -c '
    if [[ -n $NOOK_AS_USER_UID ]]; then
      exec setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
        env -u XDG_RUNTIME_DIR HOME="$TEST_DIR" USER="$NOOK_TEST_USER" LOGNAME="$NOOK_TEST_USER" "$@"
    fi
    exec "$@"' nook "$NOOK_BIN" "$@"
}

# nook_bg OUT ARGS...: start `nook ARGS` in the background with stdin /dev/null, stdout in
# OUT.out and stderr in OUT.err; $NOOK_BG_PID is the runtime's own PID (no wrapper).
nook_bg() {
  local out=$1
  shift
  if [[ -n ${NOOK_AS_USER_UID:-} ]]; then
    (exec setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
      env -u XDG_RUNTIME_DIR HOME="$TEST_DIR" USER="$NOOK_TEST_USER" LOGNAME="$NOOK_TEST_USER" \
      "$NOOK_BIN" --root "$STATE_ROOT" "$@") </dev/null >"$out.out" 2>"$out.err" &
  else
    (exec "$NOOK_BIN" --root "$STATE_ROOT" "$@") </dev/null >"$out.out" 2>"$out.err" &
  fi
  NOOK_BG_PID=$!
}

# nook_create ID [ARGS...]: `nook create --bundle $BUNDLE ARGS ID` with stdio in files
# ($TEST_DIR/ID.out, ID.err), so the container's process does not hold the test's pipes.
# Sets $status like `run` does, and $output to the runtime's stderr.
nook_create() {
  local id=$1
  shift
  status=0
  nook create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_DIR/$id.out" 2>"$TEST_DIR/$id.err" ||
    status=$?
  output=$(cat "$TEST_DIR/$id.err")
  return 0
}

# create_container ID [ARGS...]: nook_create that must succeed, and leaves `created`.
create_container() {
  nook_create "$@"
  if [[ $status -ne 0 ]]; then
    echo "create $1 failed with status $status: $output" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Bundles and config.json

# cfg JQ_ARGS...: edit $BUNDLE/config.json in place with jq (ownership kept).
cfg() {
  local f=$BUNDLE/config.json tmp
  tmp=$(mktemp "$TEST_DIR/cfg.XXXXXX")
  # config.json on stdin: after --args, jq takes every operand as a string, not a file
  jq "$@" <"$f" >"$tmp" || { rm -f "$tmp"; echo "cfg: jq $* failed" >&2; return 1; }
  cat "$tmp" >"$f"
  rm -f "$tmp"
}

# json_array STRING...: a JSON array of the strings (safe for any content, even "-c").
json_array() { jq -cn '$ARGS.positional' --args -- "$@"; }

# set_args ARG...: process.args
set_args() { cfg --argjson a "$(json_array "$@")" '.process.args = $a'; }

# set_env NAME=VALUE...: append to process.env
set_env() { cfg --argjson a "$(json_array "$@")" '.process.env += $a'; }

# remove_namespace TYPE / add_namespace TYPE
remove_namespace() { cfg --arg t "$1" '.linux.namespaces |= map(select(.type != $t))'; }
add_namespace() {
  cfg --arg t "$1" 'if any(.linux.namespaces[]; .type == $t) then . else .linux.namespaces += [{type: $t}] end'
}

# add_mount DEST TYPE SOURCE [OPTION...]
add_mount() {
  local dest=$1 type=$2 src=$3
  shift 3
  cfg --arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(json_array "$@")" \
    '.mounts += [{destination: $d, type: $t, source: $s, options: $o}]'
}

# make_bundle [DIR]: a fresh bundle in DIR (default $TEST_DIR/bundle), sets $BUNDLE and $ROOTFS.
make_bundle() {
  BUNDLE=${1:-$TEST_DIR/bundle}
  ROOTFS=$BUNDLE/rootfs
  mkdir -p "$BUNDLE"
  cp -a "$ROOTFS_CACHE" "$ROOTFS"
  rm -f "$ROOTFS/.complete"
  if is_user_mode; then
    chown -R -h "$NOOK_TEST_USER:" "$BUNDLE"
  fi
  local spec_args=()
  is_user_mode && spec_args=(--rootless)
  (cd "$BUNDLE" && as_user "$NOOK_BIN" spec "${spec_args[@]}") ||
    { echo "make_bundle: '$NOOK spec ${spec_args[*]}' failed" >&2; return 1; }
  [[ -s $BUNDLE/config.json ]] || { echo "make_bundle: no config.json from '$NOOK spec'" >&2; return 1; }
  # writable root: tests leave marker files in the rootfs for the host to see
  cfg '.process.terminal = false | .process.args = ["/probe", "cwd"] | .root.path = "rootfs" | .root.readonly = false'
  export BUNDLE ROOTFS
}

# ---------------------------------------------------------------------------------------------
# State and processes

# state_field ID JQFIELD: one field of `nook state ID`, empty if state fails.
state_field() {
  local out
  out=$(nook state "$1" 2>/dev/null) || return 1
  jq -r "$2" <<<"$out"
}
# state_both ARGS...: `nook ARGS` (a `state` call) answered by the pre-libc path
# (src/fast/state.cpp) and by the full command line (NOOK_NO_FAST_STATE=1): stdout, stderr and
# exit status must be the same bytes. Sets $output (stdout) and $status like `run`.
state_both() {
  local d=$TEST_DIR fs=0 ss=0
  nook "$@" >"$d/fast.out" 2>"$d/fast.err" || fs=$?
  NOOK_NO_FAST_STATE=1 nook "$@" >"$d/slow.out" 2>"$d/slow.err" || ss=$?
  if ! cmp -s "$d/fast.out" "$d/slow.out" || ! cmp -s "$d/fast.err" "$d/slow.err" ||
    [[ $fs != "$ss" ]]; then
    echo "state $*: the fast and the full path differ (exit $fs vs $ss)" >&2
    diff "$d/fast.out" "$d/slow.out" >&2
    diff "$d/fast.err" "$d/slow.err" >&2
    return 1
  fi
  output=$(cat "$d/fast.out")
  status=$fs
}
container_status() { state_field "$1" .status; }
container_pid() { state_field "$1" .pid; }

# wait_for_status ID STATUS [SECONDS]: poll state every 0.1 s.
wait_for_status() {
  local id=$1 want=$2 secs=${3:-15} i got
  for ((i = 0; i < secs * 10; i++)); do
    got=$(container_status "$id") || got="(state failed)"
    [[ $got == "$want" ]] && return 0
    sleep 0.1
  done
  echo "container $id: status '$got' after ${secs}s, wanted '$want'" >&2
  return 1
}

# wait_for_file PATH [SECONDS]
wait_for_file() {
  local i
  for ((i = 0; i < ${2:-15} * 10; i++)); do
    [[ -e $1 ]] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

# wait_pid_gone PID [SECONDS]: the process is gone (or a zombie, i.e. has exited).
pid_alive() {
  [[ -e /proc/$1 ]] || return 1
  local st
  st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ $st != Z && -n $st ]]
}
wait_pid_gone() {
  local i
  for ((i = 0; i < ${2:-15} * 10; i++)); do
    pid_alive "$1" || return 0
    sleep 0.1
  done
  echo "process $1 still alive" >&2
  return 1
}

# host_mounts_under DIR: host mount points (in the test's mount namespace) at or below DIR.
host_mounts_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo
}

# pids_rooted_under DIR: processes whose root is at or below DIR (container leftovers):
# after pivot_root a process's /proc/PID/root reads "/", but its mountinfo line for "/"
# names DIR as the mount's root; a chroot'ed process shows DIR in /proc/PID/root.
pids_rooted_under() {
  [[ ${#1} -gt 1 ]] || return 0
  local re=${1//./\\.}
  {
    grep -l -E "^[0-9]+ [0-9]+ [0-9]+:[0-9]+ $re(/[^ ]*)? / " /proc/[0-9]*/mountinfo 2>/dev/null |
      sed -e 's|^/proc/||' -e 's|/mountinfo$||'
    find /proc -mindepth 2 -maxdepth 2 -name root \( -lname "$1" -o -lname "$1/*" \) \
      -printf '%h\n' 2>/dev/null | sed 's|^/proc/||'
  } | sort -un
}

# ---------------------------------------------------------------------------------------------
# Assertions (they print what they saw; bats shows it on failure)

assert_success() {
  if [[ $status -ne 0 ]]; then
    echo "expected success, got status $status; output:" >&2
    printf '%s\n' "$output" >&2
    [[ -n ${stderr:-} ]] && printf 'stderr:\n%s\n' "$stderr" >&2
    return 1
  fi
}

# assert_failure [STATUS]
assert_failure() {
  if [[ $status -eq 0 ]]; then
    echo "expected failure, got status 0; output:" >&2
    printf '%s\n' "$output" >&2
    return 1
  fi
  if [[ $# -gt 0 && $status -ne $1 ]]; then
    echo "expected status $1, got $status; output:" >&2
    printf '%s\n' "$output" >&2
    return 1
  fi
}

assert_status() {
  if [[ $status -ne $1 ]]; then
    echo "expected status $1, got $status; output:" >&2
    printf '%s\n' "$output" >&2
    [[ -n ${stderr:-} ]] && printf 'stderr:\n%s\n' "$stderr" >&2
    return 1
  fi
}

assert_output() {
  if [[ $output != "$1" ]]; then
    printf 'expected output:\n%s\ngot:\n%s\n' "$1" "$output" >&2
    return 1
  fi
}

assert_output_contains() {
  if [[ $output != *"$1"* ]]; then
    printf 'expected output to contain: %s\ngot:\n%s\n' "$1" "$output" >&2
    return 1
  fi
}

assert_output_not_contains() {
  if [[ $output == *"$1"* ]]; then
    printf 'expected output not to contain: %s\ngot:\n%s\n' "$1" "$output" >&2
    return 1
  fi
}

# assert_output_matches ERE
assert_output_matches() {
  if ! [[ $output =~ $1 ]]; then
    printf 'expected output to match /%s/\ngot:\n%s\n' "$1" "$output" >&2
    return 1
  fi
}

# assert_equal GOT WANT [WHAT]
assert_equal() {
  if [[ $1 != "$2" ]]; then
    printf '%s: expected "%s", got "%s"\n' "${3:-value}" "$2" "$1" >&2
    return 1
  fi
}

# assert_one_error_line TEXT: $output (stderr of a failing call) is exactly one non-empty
# line, and it contains TEXT (case-insensitive).
assert_one_error_line() {
  local lines
  lines=$(grep -c . <<<"$output" || true)
  if [[ $lines -ne 1 ]]; then
    printf 'expected exactly one error line, got %s:\n%s\n' "$lines" "$output" >&2
    return 1
  fi
  if [[ ${output,,} != *"${1,,}"* ]]; then
    printf 'expected the error to mention "%s", got:\n%s\n' "$1" "$output" >&2
    return 1
  fi
}

# assert_no_container ID: state fails and list does not show it, and the state root holds
# nothing for it.
assert_no_container() {
  run nook state "$1"
  if [[ $status -eq 0 ]]; then
    echo "state $1 still succeeds: $output" >&2
    return 1
  fi
  run nook list -q
  if grep -qxF -- "$1" <<<"$output"; then
    echo "list still shows $1: $output" >&2
    return 1
  fi
  if [[ -e $STATE_ROOT/$1 ]]; then
    echo "state root still holds $STATE_ROOT/$1" >&2
    return 1
  fi
}

# assert_state_root_empty: nothing left in --root (no state, fifos, sockets, locks).
assert_state_root_empty() {
  local left
  left=$(find "$STATE_ROOT" -mindepth 1 2>/dev/null | head -20)
  if [[ -n $left ]]; then
    printf 'state root not empty:\n%s\n' "$left" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# One-time preparation: test user, helper binaries, runtime binary, busybox rootfs

_ensure_test_user() {
  if ! getent passwd "$NOOK_TEST_USER" >/dev/null; then
    useradd --no-create-home --home-dir /nonexistent --shell /bin/sh --user-group \
      "$NOOK_TEST_USER" 2>/dev/null || getent passwd "$NOOK_TEST_USER" >/dev/null ||
      { echo "cannot create user $NOOK_TEST_USER" >&2; return 1; }
  fi
  # No subordinate IDs: the runtime must work with nothing but the caller's own uid/gid.
  local f
  for f in /etc/subuid /etc/subgid; do
    if [[ -f $f ]] && grep -q "^$NOOK_TEST_USER:" "$f"; then
      sed -i "/^$NOOK_TEST_USER:/d" "$f"
    fi
  done
  NOOK_AS_USER_UID=$(id -u "$NOOK_TEST_USER")
  NOOK_AS_USER_GID=$(id -g "$NOOK_TEST_USER")
  export NOOK_AS_USER_UID NOOK_AS_USER_GID
}

# _build_helper NAME VAR: make $VAR a world-executable copy of the static helper NAME in the
# cache: the binary $VAR names (ctest passes the built ones), else tests/helper/NAME.c
# compiled here. A copy, because the build directory may not be reachable by the test user.
_build_helper() {
  local name=$1 var=$2 src key out
  mkdir -p "$NOOK_CACHE/bin"
  if [[ -n ${!var:-} && -x ${!var} ]]; then
    key=$(sha256sum "${!var}" | cut -c1-16)
    out=$NOOK_CACHE/bin/nook-$name-bin-$key
    if [[ ! -x $out ]]; then
      cp "${!var}" "$out.$$" && chmod 0755 "$out.$$" && mv -f "$out.$$" "$out" ||
        { echo "cannot copy ${!var}" >&2; return 1; }
    fi
  else
    src=$NOOK_TESTS_DIR/helper/$name.c
    key=$(sha256sum "$src" | cut -c1-16)
    out=$NOOK_CACHE/bin/nook-$name-$key
    if [[ ! -x $out ]]; then
      cc -static -O2 -Wall -Wextra -o "$out.$$" "$src" || { echo "cannot build $src" >&2; return 1; }
      chmod 0755 "$out.$$"
      mv -f "$out.$$" "$out"
    fi
  fi
  printf -v "$var" %s "$out"
  export "${var?}"
}

# _publish_runtime: a private snapshot of $NOOK, executable by the test user: CI may build
# under /root (not traversable), and a rebuild during a run must not swap binaries mid-suite.
_publish_runtime() {
  local src=$NOOK key
  if [[ $src != /* ]]; then
    src=$(command -v "$src" || echo "$PWD/$src")
  fi
  key=$(sha256sum "$src" | cut -c1-16) || return 1
  mkdir -p "$NOOK_CACHE/bin"
  NOOK_BIN=$NOOK_CACHE/bin/$(basename "$src")-$key
  if [[ ! -x $NOOK_BIN ]]; then
    cp "$src" "$NOOK_BIN.$$"
    chmod 0755 "$NOOK_BIN.$$"
    mv -f "$NOOK_BIN.$$" "$NOOK_BIN"
  fi
  export NOOK_BIN
}

# _build_rootfs_cache: a busybox rootfs with /probe, built once per content key.
_build_rootfs_cache() {
  local busybox key tmp a lock
  busybox=$(command -v busybox || true)
  [[ -n $busybox ]] || { echo "busybox not found (apt-get install busybox-static)" >&2; return 1; }
  if ldd "$busybox" >/dev/null 2>&1; then
    for a in /bin/busybox /usr/bin/busybox; do
      if [[ -x $a ]] && ! ldd "$a" >/dev/null 2>&1; then busybox=$a; fi
    done
    ldd "$busybox" >/dev/null 2>&1 &&
      { echo "busybox is dynamically linked; install busybox-static" >&2; return 1; }
  fi
  # the key covers the inputs and this function itself (the layout)
  key=$({ cat "$busybox" "$NOOK_PROBE"; declare -f _build_rootfs_cache; } | sha256sum | cut -c1-16)
  ROOTFS_CACHE=$NOOK_CACHE/rootfs-$key
  export ROOTFS_CACHE
  [[ -e $ROOTFS_CACHE/.complete ]] && return 0

  exec {lock}>"$NOOK_CACHE/.lock"
  flock "$lock"
  if [[ ! -e $ROOTFS_CACHE/.complete ]]; then
    tmp=$(mktemp -d "$NOOK_CACHE/rootfs-build.XXXXXX")
    (
      set -e
      cd "$tmp"
      mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root home/tuser opt/bin var/tmp mnt
      chmod 1777 tmp var/tmp
      chmod 0755 .
      cp "$busybox" bin/busybox
      for a in $("$busybox" --list); do
        [[ $a == busybox || -e bin/$a ]] || ln -s busybox "bin/$a"
      done
      cp "$NOOK_PROBE" probe
      chmod 0755 probe bin/busybox
      ln -s ../../probe opt/bin/probe-in-path
      cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
tuser:x:1000:1000:test user:/home/tuser:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
      cat >etc/group <<'EOF'
root:x:0:
tgroup:x:1000:
extra:x:2000:tuser
nogroup:x:65534:
EOF
      echo "nook test rootfs" >etc/nook-test-marker
      chmod -R go+rX .
      touch .complete
    ) || { rm -rf "$tmp"; exec {lock}>&-; echo "cannot build the test rootfs" >&2; return 1; }
    mv "$tmp" "$ROOTFS_CACHE"
  fi
  exec {lock}>&-
}

common_setup_file() {
  if [[ $NOOK_TEST_MODE != root && $NOOK_TEST_MODE != user ]]; then
    echo "NOOK_TEST_MODE must be root or user, not '$NOOK_TEST_MODE'" >&2
    return 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    # Not root: user mode runs everything as ourselves; root mode cannot run.
    if is_root_mode; then
      export NOOK_SKIP_ALL="root mode needs the tests to run as root"
    fi
    NOOK_AS_USER_UID= NOOK_AS_USER_GID=
    export NOOK_AS_USER_UID NOOK_AS_USER_GID
  elif is_user_mode; then
    _ensure_test_user
  else
    NOOK_AS_USER_UID= NOOK_AS_USER_GID=
    export NOOK_AS_USER_UID NOOK_AS_USER_GID
  fi
  mkdir -p "$NOOK_CACHE"
  chmod 0755 "$NOOK_CACHE" 2>/dev/null || true
  _build_helper probe NOOK_PROBE
  _build_helper recvtty NOOK_RECVTTY
  if [[ ! -x $NOOK ]] && ! command -v "$NOOK" >/dev/null; then
    echo "runtime under test not found: NOOK=$NOOK (build it, or set NOOK)" >&2
    return 1
  fi
  _publish_runtime
  _build_rootfs_cache
  FILE_DIR=$(mktemp -d /tmp/nook-test-XXXXXX)
  chmod 0755 "$FILE_DIR"
  export FILE_DIR
}

common_teardown_file() {
  [[ -n ${FILE_DIR:-} && -d $FILE_DIR ]] || return 0
  local m
  for m in $(host_mounts_under "$FILE_DIR" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  [[ ${NOOK_TEST_KEEP:-} == 1 ]] || rm -rf "$FILE_DIR"
}

common_setup() {
  [[ -n ${NOOK_SKIP_ALL:-} ]] && skip "$NOOK_SKIP_ALL"
  TEST_DIR=$FILE_DIR/t$BATS_TEST_NUMBER
  rm -rf "$TEST_DIR"
  mkdir -p "$TEST_DIR"
  chmod 0755 "$TEST_DIR"
  [[ -n ${NOOK_AS_USER_UID:-} ]] && chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$TEST_DIR"
  STATE_ROOT=$TEST_DIR/state
  export TEST_DIR STATE_ROOT
  cd "$TEST_DIR"
  make_bundle
}

common_teardown() {
  [[ -n ${TEST_DIR:-} && -d $TEST_DIR ]] || return 0
  local id p m
  if [[ -d $STATE_ROOT ]]; then
    for id in $(nook list -q 2>/dev/null); do
      nook delete --force "$id" >/dev/null 2>&1 || true
    done
  fi
  for p in $(pids_rooted_under "$TEST_DIR"); do kill -9 "$p" 2>/dev/null || true; done
  for m in $(host_mounts_under "$TEST_DIR" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  cd /
  [[ ${NOOK_TEST_KEEP:-} == 1 ]] || rm -rf "$TEST_DIR"
}

export -f nook nook_raw as_user

setup_file() { common_setup_file; }
teardown_file() { common_teardown_file; }
setup() { common_setup; }
teardown() { common_teardown; }
