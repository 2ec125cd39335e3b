#!/usr/bin/env bats
# The state directory and the files nook writes into directories it does not own (issue 14,
# findings 5, 6, 9 and 10b): a planted symlink at the pid file's temporary name, a state root
# or container directory made by another user (the default /tmp/nook-UID squatted, a
# container planted in a shared --root with a poststop hook and a pid of its choosing), IDs
# that are hidden names, and --root "". The same rules in the pre-libc `state` path are
# compared with the full path (state_both). Two throw-away users play the other user and,
# for the default root, the victim; they are removed at the end.

load ../lib/common

SQUAT_USER=nksq-$NOOK_TEST_MODE   # the other user (one per mode: the modes may run at once)
VICTIM_USER=nkvi-$NOOK_TEST_MODE  # a caller whose default root no other suite uses

_add_user() {
  getent passwd "$1" >/dev/null && return 0
  useradd --no-create-home --home-dir /nonexistent --shell /bin/sh --user-group "$1" \
    2>/dev/null || getent passwd "$1" >/dev/null || { echo "cannot create user $1" >&2; return 1; }
}

setup_file() {
  common_setup_file
  [[ -n ${NOOK_SKIP_ALL:-} ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    export NOOK_SKIP_ALL="these tests make users: they need to run as root"
    return 0
  fi
  _add_user "$SQUAT_USER"
  _add_user "$VICTIM_USER"
  SQUAT_UID=$(id -u "$SQUAT_USER")
  VICTIM_UID=$(id -u "$VICTIM_USER")
  export SQUAT_UID VICTIM_UID
  rm -rf "/tmp/nook-$VICTIM_UID"
}

teardown_file() {
  if [[ -n ${VICTIM_UID:-} ]]; then
    rm -rf "/tmp/nook-$VICTIM_UID"
  fi
  local u
  for u in "$SQUAT_USER" "$VICTIM_USER"; do
    if getent passwd "$u" >/dev/null; then
      pkill -KILL -u "$u" 2>/dev/null || true
      userdel "$u" 2>/dev/null || true
    fi
  done
  common_teardown_file
}

teardown() {
  [[ -n ${SLEEPER:-} ]] && kill -9 "$SLEEPER" 2>/dev/null
  SLEEPER=
  # planted directories of another uid: the teardown's delete --force must not trip on them
  [[ -d ${STATE_ROOT:-/nonexistent} ]] &&
    find "$STATE_ROOT" -mindepth 1 -maxdepth 1 -user "$SQUAT_USER" -exec rm -rf {} + 2>/dev/null
  common_teardown
}

# as_victim CMD...: CMD as the dedicated victim user, without XDG_RUNTIME_DIR.
as_victim() {
  setpriv --reuid="$VICTIM_UID" --regid="$(id -g "$VICTIM_USER")" --init-groups -- \
    env -u XDG_RUNTIME_DIR HOME=/tmp USER="$VICTIM_USER" LOGNAME="$VICTIM_USER" "$@"
}

# caller_uid: the effective uid nook runs with in this mode.
caller_uid() { if is_user_mode; then echo "$NOOK_AS_USER_UID"; else echo 0; fi; }

# plant_container DIR ID MARK [PID]: what another user leaves in a state root: ROOT/ID with a
# state.json (the process PID, its real start time; 0: stopped) whose config.json has a
# poststop hook that writes the uid it runs as to MARK. Owned by the other user, readable by
# all (0755, files 0644: what an attacker leaves for nook to read), writable by no one else.
plant_container() {
  local root=$1 id=$2 mark=$3 pid=${4:-0} start=0
  [[ $pid -ne 0 ]] && start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$pid/stat")
  mkdir -p "$root/$id"
  jq -c --arg m "$mark" '.hooks = {poststop: [{path: "/bin/sh", args: ["sh", "-c", "id -u >" + $m]}]}' \
    "$BUNDLE/config.json" >"$root/$id/config.json"
  jq -nc --arg id "$id" --argjson pid "$pid" --argjson st "$start" --arg b "$BUNDLE" \
    '{id: $id, pid: $pid, startTime: $st, bundle: $b, rootfs: ($b + "/rootfs"),
      created: "2025-01-01T00:00:00.000000000Z", owner: 0, hooks: true}' >"$root/$id/state.json"
  chmod 0644 "$root/$id"/*.json
  chmod 0755 "$root/$id"
  chown -R "$SQUAT_UID:$SQUAT_UID" "$root/$id"
}

# start_sleeper: $SLEEPER, a `sleep` of the caller's (as_user), its stdio not the test's.
start_sleeper() {
  if [[ -n ${NOOK_AS_USER_UID:-} ]]; then
    (exec setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
      sleep 1000) </dev/null >/dev/null 2>&1 &
  else
    (exec sleep 1000) </dev/null >/dev/null 2>&1 &
  fi
  SLEEPER=$!
  local i
  for ((i = 0; i < 50; i++)); do
    [[ $(readlink "/proc/$SLEEPER/exe" 2>/dev/null) == */sleep ]] && return 0
    sleep 0.1
  done
}

# mark_dir: a directory any hook can write its mark into.
mark_dir() {
  mkdir -p "$TEST_DIR/marks"
  chmod 0777 "$TEST_DIR/marks"
  echo "$TEST_DIR/marks"
}

@test "statedir: --pid-file does not follow a symlink planted at its temporary name" {
  # a pid file directory another user can write (not sticky: symlinks in it are followed)
  local dir=$TEST_DIR/piddir victim=$TEST_DIR/victim
  mkdir -p "$dir"
  chmod 0777 "$dir"
  echo precious >"$victim"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$victim"
  # nook's temporary name before the fix, and the pid file itself
  ln -s "$victim" "$dir/.pid.nook-tmp"
  ln -s "$victim" "$dir/pid"
  chown -h "$SQUAT_UID" "$dir/.pid.nook-tmp" "$dir/pid"
  set_args /probe sleep 60
  create_container p1 --pid-file "$dir/pid"
  assert_equal "$(cat "$victim")" precious "the symlink's target"
  [[ -f $dir/pid && ! -L $dir/pid ]] || { echo "the pid file is not a new regular file" >&2; return 1; }
  assert_equal "$(cat "$dir/pid")" "$(container_pid p1)" "pid file"
  # nothing else is left in the directory (the temporary file was renamed)
  assert_equal "$(ls -A "$dir" | sort | tr '\n' ' ')" ".pid.nook-tmp pid " "pid directory"
  # exec's pid file takes the same way
  ln -s "$victim" "$dir/.exec.nook-tmp"
  ln -sf "$victim" "$dir/exec"
  run nook start p1
  assert_success
  nook exec -d --pid-file "$dir/exec" p1 /probe sleep 30 </dev/null >"$TEST_DIR/exec.out" 2>&1 ||
    { cat "$TEST_DIR/exec.out" >&2; return 1; }
  assert_equal "$(cat "$victim")" precious "the symlink's target (exec)"
  [[ -f $dir/exec && ! -L $dir/exec ]] || { echo "exec's pid file is not a regular file" >&2; return 1; }
}

@test "statedir: a default root squatted by another user is refused, its hook never runs" {
  # /tmp/nook-UID of a caller without XDG_RUNTIME_DIR, made first by another user (0777)
  local root=/tmp/nook-$VICTIM_UID marks
  marks=$(mark_dir)
  rm -rf "$root"
  mkdir -m 0777 "$root"
  plant_container "$root" c1 "$marks/hook"
  chown "$SQUAT_UID:$SQUAT_UID" "$root"
  chmod 0777 "$root"
  local want="state root $root is owned by uid $SQUAT_UID, not $VICTIM_UID: remove it or use --root"
  run --separate-stderr as_victim "$NOOK_BIN" delete c1
  [[ ! -e $marks/hook ]] || { echo "the planted poststop hook ran as uid $(cat "$marks/hook")" >&2; return 1; }
  assert_failure
  output=$stderr
  assert_one_error_line "$want"
  run --separate-stderr as_victim "$NOOK_BIN" delete --force c1
  [[ ! -e $marks/hook ]] || { echo "the planted poststop hook ran as uid $(cat "$marks/hook")" >&2; return 1; }
  assert_failure
  [[ -d $root/c1 ]]
  # list, state (both paths) and create refuse too, and create makes nothing
  run --separate-stderr as_victim "$NOOK_BIN" list
  assert_failure
  output=$stderr
  assert_one_error_line "$want"
  local fs=0 ss=0
  as_victim "$NOOK_BIN" state c1 >"$TEST_DIR/fast.out" 2>"$TEST_DIR/fast.err" || fs=$?
  as_victim env NOOK_NO_FAST_STATE=1 "$NOOK_BIN" state c1 >"$TEST_DIR/slow.out" 2>"$TEST_DIR/slow.err" || ss=$?
  assert_equal "$fs/$ss" "1/1" "state exit status, fast/full path"
  cmp "$TEST_DIR/fast.err" "$TEST_DIR/slow.err"
  assert_equal "$(cat "$TEST_DIR/fast.out")" "" "state output"
  # (the bundle's mappings, if any, name the test user, not the victim: nook would warn that
  # they are replaced; this is about the state root alone)
  cfg 'del(.linux.uidMappings, .linux.gidMappings)'
  run --separate-stderr as_victim "$NOOK_BIN" create --bundle "$BUNDLE" c2
  assert_failure
  output=$stderr
  assert_one_error_line "$want"
  [[ ! -e $root/c2 ]]
  # the victim's own 0777 directory: refused as well (anyone could have planted c1)
  chown -R "$VICTIM_UID" "$root"
  run --separate-stderr as_victim "$NOOK_BIN" delete c1
  assert_failure
  output=$stderr
  assert_one_error_line "state root $root is writable by group or others (mode 0777): remove it or use --root"
  [[ ! -e $marks/hook ]]
  # once removed, the default root works again
  rm -rf "$root"
  run as_victim "$NOOK_BIN" list -q
  assert_success
  assert_output ""
}

@test "statedir: a shared --root made by another user is refused" {
  local marks
  marks=$(mark_dir)
  mkdir -m 0777 "$STATE_ROOT"
  plant_container "$STATE_ROOT" c1 "$marks/hook"
  chown "$SQUAT_UID:$SQUAT_UID" "$STATE_ROOT"
  chmod 0777 "$STATE_ROOT"
  run --separate-stderr nook delete --force c1
  [[ ! -e $marks/hook ]] || { echo "the planted poststop hook ran as uid $(cat "$marks/hook")" >&2; return 1; }
  assert_failure
  output=$stderr
  assert_one_error_line "state root $STATE_ROOT is owned by uid $SQUAT_UID, not $(caller_uid): remove it or use --root"
  nook_create c2
  assert_failure
  assert_one_error_line "is owned by uid $SQUAT_UID"
  state_both state c1
  assert_failure
  # a sticky world-writable root of the caller's is no better: refused
  rm -rf "${STATE_ROOT:?}/c1"
  chown "$(caller_uid)" "$STATE_ROOT"
  chmod 1777 "$STATE_ROOT"
  nook_create c3
  assert_failure
  assert_one_error_line "is writable by group or others (mode 1777)"
  state_both state c3
  assert_failure
}

@test "statedir: a container directory of another user in the caller's --root is not acted on" {
  # the caller's own root (as root: a root shared with, or once open to, other users)
  local marks
  marks=$(mark_dir)
  create_container mine
  # another user's container with a running process of the caller's choosing
  start_sleeper
  plant_container "$STATE_ROOT" c1 "$marks/hook" "$SLEEPER"
  local want="container directory $STATE_ROOT/c1 is owned by uid $SQUAT_UID, not $(caller_uid): refusing to use it; remove it"
  run --separate-stderr nook delete --force c1
  pid_alive "$SLEEPER" || { echo "delete --force signalled the planted pid" >&2; return 1; }
  [[ ! -e $marks/hook ]] || { echo "the planted poststop hook ran as uid $(cat "$marks/hook")" >&2; return 1; }
  assert_failure
  output=$stderr
  assert_one_error_line "$want"
  run --separate-stderr nook kill c1 KILL
  assert_failure
  pid_alive "$SLEEPER" || { echo "kill signalled the planted pid" >&2; return 1; }
  state_both state c1
  assert_failure
  # list shows the caller's container, warns about the other one
  run --separate-stderr nook list -q
  assert_success
  assert_output "mine"
  [[ $stderr == *"$want"* ]] || { echo "list did not warn: $stderr" >&2; return 1; }
  # the caller's container directory opened up to others: refused the same way
  chmod 0777 "$STATE_ROOT/mine"
  state_both state mine
  assert_failure
  [[ $(cat "$TEST_DIR/slow.err") == *"container directory $STATE_ROOT/mine is writable by group or others (mode 0777)"* ]] ||
    { cat "$TEST_DIR/slow.err" >&2; return 1; }
  chmod 0700 "$STATE_ROOT/mine"
  state_both state mine
  assert_success
}

@test "statedir: root acts in another user's own state root as that user (Slurm's per-user --root)" {
  skip_in_user_mode "root's rule"
  # what `nook --root=/run/nook-slurm/%u run` of the job's user leaves when it is killed:
  # the user's root and container; root's state / kill -a / delete --force follow
  local uroot=$TEST_DIR/uroot marks
  marks=$(mark_dir)
  mkdir -m 0700 "$uroot"
  # a pid of the user's choosing: one of root's processes
  start_sleeper
  plant_container "$uroot" c1 "$marks/hook" "$SLEEPER"
  chown "$SQUAT_UID:$SQUAT_UID" "$uroot"
  local fs=0 ss=0
  nook_raw --root "$uroot" state c1 >"$TEST_DIR/fast.out" 2>"$TEST_DIR/fast.err" || fs=$?
  NOOK_NO_FAST_STATE=1 nook_raw --root "$uroot" state c1 >"$TEST_DIR/slow.out" 2>"$TEST_DIR/slow.err" || ss=$?
  assert_equal "$fs/$ss" "0/0" "state exit status, fast/full path"
  cmp "$TEST_DIR/fast.out" "$TEST_DIR/slow.out"
  assert_equal "$(jq -r .status "$TEST_DIR/fast.out")" running "status"
  run nook_raw --root "$uroot" kill -a c1 KILL
  pid_alive "$SLEEPER" || { echo "kill -a signalled root's process as root" >&2; return 1; }
  run nook_raw --root "$uroot" delete --force c1
  pid_alive "$SLEEPER" || { echo "delete --force signalled root's process as root" >&2; return 1; }
  assert_success
  assert_equal "$(cat "$marks/hook" 2>/dev/null)" "$SQUAT_UID" "uid the poststop hook ran as"
  [[ ! -e $uroot/c1 ]] || { echo "the container directory is left" >&2; return 1; }
  # root does not create containers there
  run --separate-stderr nook_raw --root "$uroot" create --bundle "$BUNDLE" c2
  assert_failure
  output=$stderr
  assert_one_error_line "state root $uroot is owned by uid $SQUAT_UID, not 0: remove it or use --root"
  [[ ! -e $uroot/c2 ]]
}

@test "statedir: a state root or container directory that is a symlink is refused, both state paths" {
  create_container s1
  ln -s "$STATE_ROOT" "$TEST_DIR/link"
  local p
  for p in "$TEST_DIR/link" "$TEST_DIR/link/" "$TEST_DIR/link//"; do
    NOOK_NO_FAST_STATE=1 nook_raw --root "$p" state s1 >/dev/null 2>"$TEST_DIR/err" &&
      { echo "state through the symlink $p succeeded" >&2; return 1; }
    assert_equal "$(cat "$TEST_DIR/err")" "nook: state root $TEST_DIR/link is a symlink: remove it or use --root" "error"
    nook_raw --root "$p" state s1 >/dev/null 2>"$TEST_DIR/err2" &&
      { echo "the fast state through the symlink $p succeeded" >&2; return 1; }
    cmp "$TEST_DIR/err" "$TEST_DIR/err2"
  done
  # a trailing slash on a real root is fine
  run nook_raw --root "$STATE_ROOT/" state s1
  assert_success
}

@test "statedir: IDs starting with a dot are refused, and . and .. still are" {
  local id
  for id in .hidden ..x .a.b; do
    nook_create "$id"
    assert_failure
    assert_one_error_line "container ID \"$id\" starts with \".\": an ID must not be a hidden name"
    state_both state "$id"
    assert_failure
    run nook run --bundle "$BUNDLE" "$id"
    assert_failure
  done
  for id in . ..; do
    nook_create "$id"
    assert_failure
    assert_one_error_line "container ID \"$id\" is not allowed"
  done
  assert_equal "$(find "$STATE_ROOT" -mindepth 1 2>/dev/null)" "" "state root content"
  # a dot inside an ID is fine, and such a container is listed
  create_container a.b
  run nook list -q
  assert_success
  assert_output "a.b"
}

@test "statedir: --root \"\" is one clear error, on every verb and both state paths" {
  local form
  for form in '--root|' '--root=' '-root|' '-root='; do
    local args=()
    if [[ $form == *'|' ]]; then args=("${form%|}" ""); else args=("$form"); fi
    run --separate-stderr nook_raw "${args[@]}" list
    assert_failure
    output=$stderr
    assert_equal "$output" "nook: --root: empty path" "list ${args[*]}"
    run --separate-stderr nook_raw "${args[@]}" create --bundle "$BUNDLE" r1
    assert_failure
    output=$stderr
    assert_equal "$output" "nook: --root: empty path" "create ${args[*]}"
    local fs=0 ss=0
    nook_raw "${args[@]}" state r1 >"$TEST_DIR/fast.out" 2>"$TEST_DIR/fast.err" || fs=$?
    NOOK_NO_FAST_STATE=1 nook_raw "${args[@]}" state r1 >"$TEST_DIR/slow.out" 2>"$TEST_DIR/slow.err" || ss=$?
    assert_equal "$fs/$ss" "1/1" "state exit status, fast/full path"
    assert_equal "$(cat "$TEST_DIR/fast.err")" "nook: --root: empty path" "state ${args[*]}"
    cmp "$TEST_DIR/fast.err" "$TEST_DIR/slow.err"
  done
}
