#!/usr/bin/env bats
# Crash consistency (issue 8): nook SIGKILLed at every step of create, start and delete leaves
# a state from which `list` and `delete --force` recover, with no stray process, mount,
# cgroup or file.
#
# NOOK_TEST_PAUSE=STEP makes nook stop itself (SIGSTOP) at a named step
# (src/lib/testpause.hpp); the test waits for the stop, SIGKILLs nook there, then recovers.
# Steps init-* stop the container process instead; the test then kills nook, its parent.

load ../lib/common

# wait_stopped PID: until PID is stopped (state T); fails if it exits first.
wait_stopped() {
  local i st
  for ((i = 0; i < 300; i++)); do
    st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [[ $st == T ]] && return 0
    [[ $st == Z || -z $st ]] && return 1
    sleep 0.05
  done
  echo "process $1 did not stop (state $st)" >&2
  return 1
}

# child_of PID: the (first) child process of PID.
child_of() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }

# crash_at STEP ARGS...: runs `nook ARGS` with NOOK_TEST_PAUSE=STEP, SIGKILLs nook at the step.
# Sets $CRASH_CHILD to the container process when the step is an init-* one.
crash_at() {
  local step=$1 target
  shift
  CRASH_CHILD=
  NOOK_TEST_PAUSE=$step nook_bg "$TEST_DIR/crash" "$@"
  if [[ $step == init-* ]]; then
    local i
    for ((i = 0; i < 300; i++)); do
      CRASH_CHILD=$(child_of "$NOOK_BG_PID")
      [[ -n $CRASH_CHILD ]] && break
      sleep 0.05
    done
    target=$CRASH_CHILD
  else
    target=$NOOK_BG_PID
  fi
  # nook says when it reaches the step; a PID namespace's init cannot stop itself, so for
  # init-* steps the line is the signal
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q "test pause at $step\$" "$TEST_DIR/crash.err" 2>/dev/null && break
    sleep 0.05
  done
  if [[ -z $target ]] || { [[ $step != init-* ]] && ! wait_stopped "$target"; } ||
    ! grep -q "test pause at $step\$" "$TEST_DIR/crash.err"; then
    echo "nook did not reach step $step; stderr:" >&2
    cat "$TEST_DIR/crash.err" >&2
    return 1
  fi
  kill -KILL "$NOOK_BG_PID"
  wait "$NOOK_BG_PID" 2>/dev/null || true
}

# cgroups_named ID: cgroup directories whose name is ID (nook's default /nook/ID). IDs carry
# the mode: the root and the unprivileged run of this file may run at the same time.
cgroups_named() {
  find /sys/fs/cgroup -type d -name "$1" 2>/dev/null
}

# recovered ID [PID...]: list works, delete --force works, and nothing is left: no state,
# no process (the given PIDs and anything rooted in the test dir), no mount, no cgroup.
recovered() {
  local id=$1 p
  shift
  run nook list
  assert_success
  run nook delete --force "$id"
  assert_success
  assert_no_container "$id"
  assert_state_root_empty
  for p in "$@"; do
    [[ -n $p ]] && { wait_pid_gone "$p" 5 || return 1; }
  done
  assert_equal "$(pids_rooted_under "$TEST_DIR")" "" "processes left in the test directory"
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "mounts left in the test directory"
  assert_equal "$(cgroups_named "$id")" "" "cgroups left"
  # and the ID is usable again
  create_container "$id"
  run nook delete --force "$id"
  assert_success
  assert_state_root_empty
}

pid_of_state() { jq -r '.pid // empty' "$STATE_ROOT/$1/state.json" 2>/dev/null || true; }

setup() {
  common_setup
  set_args /probe sleep 100
}

@test "crash: create killed at every step recovers" {
  local step id pid
  for step in create-dir create-fifo create-clone create-cgroup create-go create-ready \
    create-state create-pidfile init-go init-rootfs init-ready; do
    id=c-$step-$NOOK_TEST_MODE
    crash_at "$step" create --bundle "$BUNDLE" --pid-file "$TEST_DIR/$id.pid" "$id"
    pid=$(pid_of_state "$id")
    echo "# $step: state pid ${pid:-none}, container process ${CRASH_CHILD:-?}" >&3
    recovered "$id" $pid $CRASH_CHILD
    rm -f "$TEST_DIR/$id.pid"
  done
}

@test "crash: create killed after the process is set up: list says creating, not created" {
  crash_at create-ready create --bundle "$BUNDLE" c-ready-$NOOK_TEST_MODE
  state_both state c-ready-$NOOK_TEST_MODE
  assert_success
  assert_equal "$(jq -r .status <<<"$output")" creating "status"
  run nook start c-ready-$NOOK_TEST_MODE
  assert_failure
  run nook delete c-ready-$NOOK_TEST_MODE
  assert_failure
  recovered c-ready-$NOOK_TEST_MODE
}

@test "crash: create killed as its hooks begin (status created) recovers" {
  # the state then says created (what the hooks are told); the container process dies with
  # create (its death signal is set until READY), and delete --force removes the rest
  local id=c-hooks-$NOOK_TEST_MODE pid
  cfg '.hooks.createRuntime = [{path: "/bin/true"}]'
  crash_at create-hooks create --bundle "$BUNDLE" "$id"
  pid=$(pid_of_state "$id")
  assert_equal "$(jq -r .createHooks "$STATE_ROOT/$id/state.json")" true "createHooks in state.json"
  recovered "$id" $pid
}

@test "crash: run -d killed during create recovers" {
  crash_at create-go run -d --bundle "$BUNDLE" r-go
  recovered r-go
}

@test "crash: start killed at every step recovers" {
  local step id pid
  for step in start-locked start-fifo; do
    id=s-$step-$NOOK_TEST_MODE
    create_container "$id"
    pid=$(container_pid "$id")
    crash_at "$step" start "$id"
    recovered "$id" "$pid"
  done
}

@test "crash: start killed before it wrote the fifo: the container can still be started" {
  create_container s-again-$NOOK_TEST_MODE
  crash_at start-locked start s-again-$NOOK_TEST_MODE
  run nook start s-again-$NOOK_TEST_MODE
  assert_success
  wait_for_status s-again-$NOOK_TEST_MODE running
  recovered s-again-$NOOK_TEST_MODE
}

@test "crash: delete killed at every step recovers" {
  local step id pid
  for step in delete-locked delete-killed delete-cgroup; do
    for how in created running; do
      id=d-$step-$how-$NOOK_TEST_MODE
      create_container "$id"
      pid=$(container_pid "$id")
      if [[ $how == running ]]; then
        run nook start "$id"
        assert_success
      fi
      crash_at "$step" delete --force "$id"
      recovered "$id" "$pid"
    done
  done
}

@test "crash: a state dir with a torn write (temporary file left) is still recoverable" {
  create_container torn-$NOOK_TEST_MODE
  local pid
  pid=$(container_pid torn-$NOOK_TEST_MODE)
  # what a kill between open and rename of an atomic write leaves
  cp "$STATE_ROOT/torn-$NOOK_TEST_MODE/state.json" "$STATE_ROOT/torn-$NOOK_TEST_MODE/.state.json.tmp"
  head -c 10 "$STATE_ROOT/torn-$NOOK_TEST_MODE/state.json" >"$STATE_ROOT/torn-$NOOK_TEST_MODE/.state.json.tmp"
  run nook state torn-$NOOK_TEST_MODE
  assert_success
  recovered torn-$NOOK_TEST_MODE "$pid"
}

@test "crash: a corrupt state.json: list warns, delete --force removes it" {
  create_container corrupt-$NOOK_TEST_MODE
  local pid
  pid=$(container_pid corrupt-$NOOK_TEST_MODE)
  nook kill corrupt-$NOOK_TEST_MODE KILL || true
  wait_pid_gone "$pid"
  echo "{\"id\": \"corrupt-$NOOK_TEST_MODE\", \"pid\": " >"$STATE_ROOT/corrupt-$NOOK_TEST_MODE/state.json"
  run nook list
  assert_success
  run nook delete --force corrupt-$NOOK_TEST_MODE
  echo "# delete --force of a corrupt state: status $status: $output" >&3
  assert_success
  assert_no_container corrupt-$NOOK_TEST_MODE
  # its (empty) cgroups, at the default place, go too
  assert_equal "$(cgroups_named corrupt-$NOOK_TEST_MODE)" "" "cgroups left"
}

@test "crash: delete --force of a corrupt state.json removes the cgroup its cgroupsPath named" {
  local id=cgp-$NOOK_TEST_MODE pid
  cfg --arg p "nookcrash-$NOOK_TEST_MODE/$id-cg" '.linux.cgroupsPath = $p'
  create_container "$id"
  pid=$(container_pid "$id")
  local made
  made=$(cgroups_named "$id-cg")
  is_root_mode && [[ -z $made ]] && { echo "create made no cgroup $id-cg" >&2; return 1; }
  [[ -n $made ]] || skip "this user has no delegated cgroup v2: create made no cgroup"
  nook kill "$id" KILL || true
  wait_pid_gone "$pid"
  echo garbage >"$STATE_ROOT/$id/state.json"
  run nook delete --force "$id"
  assert_success
  assert_no_container "$id"
  assert_equal "$(cgroups_named "$id-cg")" "" "cgroups left"
  # the parent directory it made stays, as after a normal delete; tidy it
  find /sys/fs/cgroup -depth -type d -name "nookcrash-$NOOK_TEST_MODE" -exec rmdir {} + 2>/dev/null || true
}

@test "crash: delete --force of a corrupt state.json leaves a populated cgroup of the same name" {
  # another --root's container with the same ID is running in /nook/ID
  is_root_mode || skip "the default cgroup is per-user unprivileged: no two roots share it"
  local other=$TEST_DIR/other-root pid
  nook_raw --root "$other" create --bundle "$BUNDLE" same-$NOOK_TEST_MODE </dev/null >/dev/null 2>&1
  pid=$(nook_raw --root "$other" state same-$NOOK_TEST_MODE | jq -r .pid)
  mkdir -p "$STATE_ROOT/same-$NOOK_TEST_MODE"
  echo garbage >"$STATE_ROOT/same-$NOOK_TEST_MODE/state.json"
  run nook delete --force same-$NOOK_TEST_MODE
  assert_success
  pid_alive "$pid"
  [[ -n $(cgroups_named same-$NOOK_TEST_MODE) ]] || { echo "the other container's cgroup went" >&2; return 1; }
  nook_raw --root "$other" delete --force same-$NOOK_TEST_MODE
  assert_equal "$(cgroups_named same-$NOOK_TEST_MODE)" "" "cgroups left"
}
