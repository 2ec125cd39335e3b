#!/usr/bin/env bats
# pause / resume (issue 5) through the cgroup freezer: a paused container's counter stops,
# `state` says paused, resume lets it go on. Unprivileged: with a delegated cgroup v2 subtree
# (made here the way systemd's Delegate=yes makes one) the same works; without one, pause
# fails with one clear line and the container keeps running.

load ../lib/common

setup_file() {
  common_setup_file
  export CG_TAG="nookpause$$"
}

teardown() {
  common_teardown
  cleanup_delegation
  local d
  for d in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
    rmdir "$d/nook/$CG_TAG"* 2>/dev/null || true
  done
}

v2_mountpoint() { findmnt -rn -t cgroup2 -o TARGET | head -1; }

# ---------------------------------------------------------------------------------------------
# Delegation (same as in cgroup.bats)

DELEG=
make_delegation() {
  local v2
  v2=$(v2_mountpoint)
  [[ -n $v2 ]] || skip "no cgroup v2 mounted: nothing can be delegated"
  [[ -n ${NOOK_AS_USER_UID:-} ]] || skip "delegation needs a root test runner (setpriv)"
  DELEG=$v2/$CG_TAG-deleg-$BATS_TEST_NUMBER
  mkdir -p "$DELEG"
  chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$DELEG" "$DELEG/cgroup.procs" \
    "$DELEG/cgroup.subtree_control" "$DELEG/cgroup.threads"
}

cleanup_delegation() {
  [[ -n $DELEG && -d $DELEG ]] || return 0
  local v2 p d
  v2=$(v2_mountpoint)
  for d in $(find "$DELEG" -depth -type d); do
    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do echo "$p" >"$v2/cgroup.procs" 2>/dev/null; done
    rmdir "$d" 2>/dev/null || true
  done
  DELEG=
}

# has_user_cgroup: the unprivileged user could use its own cgroup (then pause works even
# without the delegation made here).
own_cgroup_writable() {
  local v2 own
  v2=$(v2_mountpoint)
  [[ -n $v2 ]] || return 1
  own=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
  as_user test -w "$v2$own/cgroup.procs"
}

# ---------------------------------------------------------------------------------------------
# The counter: a shell in the container writing an increasing number to /tmp/counter.

COUNTER_SCRIPT='i=0; while :; do i=$((i+1)); echo $i >/tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.05; done'

# start_counter ID [in-delegation]: create + start the counting container; waits until it counts.
start_counter() {
  local id=$1 where=${2:-}
  set_args sh -c "$COUNTER_SCRIPT"
  if [[ $where == in-delegation ]]; then
    status=0
    (
      echo "$BASHPID" >"$DELEG/cgroup.procs" || exit 99
      nook create --bundle "$BUNDLE" "$id" </dev/null >"$TEST_DIR/$id.out" 2>"$TEST_DIR/$id.err"
    ) || status=$?
    output=$(cat "$TEST_DIR/$id.err")
    assert_success
  else
    create_container "$id"
  fi
  run nook start "$id"
  assert_success
  wait_for_file "$ROOTFS/tmp/counter" 30
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(counter) -ge 3 ]] && return 0
    sleep 0.05
  done
  echo "counter does not count: $(counter)" >&2
  return 1
}

counter() { cat "$ROOTFS/tmp/counter" 2>/dev/null || echo 0; }

# check_pause_resume ID: the whole cycle on a counting container.
check_pause_resume() {
  local id=$1 c1 c2 c3
  run nook pause "$id"
  assert_success
  assert_equal "$(container_status "$id")" paused "status after pause"
  c1=$(counter)
  sleep 0.6
  c2=$(counter)
  assert_equal "$c2" "$c1" "counter while paused"
  run nook resume "$id"
  assert_success
  assert_equal "$(container_status "$id")" running "status after resume"
  local i
  for ((i = 0; i < 60; i++)); do
    c3=$(counter)
    [[ $c3 -gt $c1 ]] && break
    sleep 0.05
  done
  [[ $c3 -gt $c1 ]] || { echo "counter did not advance after resume: $c1 -> $c3" >&2; return 1; }
}

needs_freezer() {
  is_root_mode && return 0
  own_cgroup_writable && return 0
  skip "unprivileged without a delegated cgroup: see the user-mode tests below"
}

# ---------------------------------------------------------------------------------------------

@test "pause: a paused container's counter stops; resume lets it go on" {
  needs_freezer
  start_counter p1-$CG_TAG
  check_pause_resume p1-$CG_TAG
}

@test "pause: state and list show paused" {
  needs_freezer
  start_counter p2-$CG_TAG
  run nook pause p2-$CG_TAG
  assert_success
  state_both state p2-$CG_TAG
  assert_success
  assert_equal "$(jq -r .status <<<"$output")" paused "state .status"
  run nook list
  assert_success
  assert_output_matches "p2-$CG_TAG +[0-9]+ +paused"
  run nook resume p2-$CG_TAG
  assert_success
  assert_equal "$(container_status p2-$CG_TAG)" running "status after resume"
}

@test "pause: pause/resume twice in a row" {
  needs_freezer
  start_counter p3-$CG_TAG
  check_pause_resume p3-$CG_TAG
  check_pause_resume p3-$CG_TAG
}

@test "pause: the processes are really frozen (not merely stopped by a signal)" {
  needs_freezer
  start_counter p4-$CG_TAG
  local pid
  pid=$(container_pid p4-$CG_TAG)
  run nook pause p4-$CG_TAG
  assert_success
  # a frozen task is in the refrigerator: SIGCONT does not wake it, the counter stays
  local c1
  c1=$(counter)
  kill -CONT "$pid"
  sleep 0.3
  assert_equal "$(counter)" "$c1" "counter after SIGCONT while paused"
  run nook resume p4-$CG_TAG
  assert_success
}

@test "pause: a created container can be paused and resumed, then started" {
  needs_freezer
  local id=p10-$CG_TAG
  set_args sh -c "echo started >/tmp/started; exec /probe sleep 60"
  create_container "$id"
  run nook pause "$id"
  assert_success
  assert_equal "$(container_status "$id")" paused "status after pause of a created container"
  run nook start "$id"
  assert_failure
  run nook resume "$id"
  assert_success
  assert_equal "$(container_status "$id")" created "status after resume"
  run nook start "$id"
  assert_success
  wait_for_file "$ROOTFS/tmp/started"
  run nook delete --force "$id"
  assert_success
}

@test "pause: delete --force removes a paused container" {
  needs_freezer
  start_counter p5-$CG_TAG
  local pid
  pid=$(container_pid p5-$CG_TAG)
  run nook pause p5-$CG_TAG
  assert_success
  run nook delete --force p5-$CG_TAG
  assert_success
  wait_pid_gone "$pid" 5
  assert_no_container p5-$CG_TAG
}

# pending_exec ID: `exec --ignore-paused ID /bin/true` in the background; it must not return
# while the container is frozen. $NOOK_BG_PID is the exec's PID.
pending_exec() {
  if [[ -n $DELEG ]]; then
    # from inside the delegated subtree, as a user's processes are under systemd: moving a
    # process into a cgroup needs write access to the common ancestor's cgroup.procs
    (
      echo "$BASHPID" >"$DELEG/cgroup.procs" || exit 99
      exec setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
        env -u XDG_RUNTIME_DIR HOME="$TEST_DIR" "$NOOK_BIN" --root "$STATE_ROOT" \
        exec --ignore-paused "$1" /bin/true
    ) </dev/null >"$TEST_DIR/exec-$1.out" 2>"$TEST_DIR/exec-$1.err" &
    NOOK_BG_PID=$!
  else
    nook_bg "$TEST_DIR/exec-$1" exec --ignore-paused "$1" /bin/true
  fi
  sleep 0.5
  if ! kill -0 "$NOOK_BG_PID" 2>/dev/null; then
    echo "exec into the paused container returned at once: $(cat "$TEST_DIR/exec-$1.err")" >&2
    return 1
  fi
}

# exec_status PID SECONDS: sets $EXEC_STATUS to the exit status of a background exec, waiting
# at most SECONDS ("hung" if it did not end). It must run in the test's own shell, not in
# $(...): only the shell that started the exec can wait for it, and a child that ends while a
# command substitution polls is reaped by the parent where the subshell cannot see it.
exec_status() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    kill -KILL "$1"
    EXEC_STATUS=hung
    return
  fi
  EXEC_STATUS=0
  wait "$1" || EXEC_STATUS=$?
}

# start_pausable ID: the counter where this mode can pause it: as root, or unprivileged in a
# delegated cgroup v2 subtree (the way systemd's Delegate=yes gives one) unless its own is.
start_pausable() {
  if is_root_mode || own_cgroup_writable; then
    start_counter "$1"
  else
    make_delegation
    start_counter "$1" in-delegation
  fi
}

@test "pause: delete --force of a paused container with an exec pending (issue 21)" {
  local id=p8-$CG_TAG pid
  start_pausable "$id"
  pid=$(container_pid "$id")
  run nook pause "$id"
  assert_success
  pending_exec "$id"
  local epid=$NOOK_BG_PID
  run nook delete --force "$id"  # (bounded: $NOOK_CALL_TIMEOUT)
  assert_success
  wait_pid_gone "$pid" 5
  assert_no_container "$id"
  # the pending exec ends as a killed process does: 128+9
  exec_status "$epid" 10
  assert_equal "$EXEC_STATUS" 137 "exit status of the pending exec"
  assert_equal "$(find /sys/fs/cgroup -type d -name "*$id*" 2>/dev/null)" "" "cgroups left"
}

@test "pause: resume of a paused container with an exec pending lets the exec finish" {
  local id=p9-$CG_TAG
  start_pausable "$id"
  run nook pause "$id"
  assert_success
  pending_exec "$id"
  local epid=$NOOK_BG_PID
  run nook resume "$id"
  assert_success
  exec_status "$epid" 10
  assert_equal "$EXEC_STATUS" 0 "exit status of the exec after resume"
  run nook delete --force "$id"
  assert_success
}

@test "pause: kill of a paused container's process takes effect after resume or delete" {
  needs_freezer
  start_counter p6-$CG_TAG
  run nook pause p6-$CG_TAG
  assert_success
  run nook kill p6-$CG_TAG KILL
  assert_success
  # SIGKILL ends a frozen process on cgroup v2; on the v1 freezer only after thawing
  run nook resume p6-$CG_TAG
  wait_for_status p6-$CG_TAG stopped 10
}

@test "pause: resume of a running container and pause of a stopped one fail" {
  needs_freezer
  start_counter p7-$CG_TAG
  run nook resume p7-$CG_TAG
  assert_failure
  run nook kill p7-$CG_TAG KILL
  wait_for_status p7-$CG_TAG stopped
  run nook pause p7-$CG_TAG
  assert_failure
}

# ---------------------------------------------------------------------------------------------
# Unprivileged

@test "pause (user): no cgroup: one clear error line, container keeps running" {
  skip_in_root_mode "root always has a freezer"
  own_cgroup_writable && skip "this user's own cgroup is writable here"
  start_counter u1-$CG_TAG
  run nook pause u1-$CG_TAG
  assert_failure
  assert_one_error_line "pause needs a cgroup"
  assert_output_contains "u1-$CG_TAG"
  assert_equal "$(container_status u1-$CG_TAG)" running "status after failed pause"
  run nook resume u1-$CG_TAG
  assert_failure
  local c1
  c1=$(counter)
  sleep 0.3
  [[ $(counter) -gt $c1 ]] || { echo "the container stopped counting" >&2; false; }
}

@test "pause (user): works in a delegated cgroup v2 subtree" {
  skip_in_root_mode "delegation is for the unprivileged"
  make_delegation
  start_counter u2-$CG_TAG in-delegation
  local pid
  pid=$(container_pid u2-$CG_TAG)
  run cat "/proc/$pid/cgroup"
  assert_output_contains "/nook/u2-$CG_TAG"
  check_pause_resume u2-$CG_TAG
  run nook delete --force u2-$CG_TAG
  assert_success
}
