#!/usr/bin/env bats
# checkpoint / restore through CRIU (issue 16). What this host can do decides what is asserted,
# and the test says which case it is in:
# - unprivileged: both verbs refuse in one sentence (CRIU needs CAP_SYS_ADMIN or
#   CAP_CHECKPOINT_RESTORE in the initial user namespace), and the container keeps running;
# - root, no criu binary: one line naming the missing binary;
# - root, `criu check` fails (CRIU 3.17 on this host's 6.18 kernel: "Unexpected rt vDSO area
#   bounds"): checkpoint fails in one line that quotes CRIU's first error and names its log, and
#   the container keeps running;
# - root, `criu check` passes: checkpoint, restore, the counter continues, state and delete work.
# The VM stage (tests/vm/checks.sh, root-checkpoint) runs the last case on Debian 12's kernel.

load ../lib/common

# A counter kept in the shell's memory, written to /tmp/counter; stdio is the container's own
# /dev/null (CRIU dumps descriptors by path in the container's mounts).
COUNTER_SCRIPT='exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.05; done'

counter() { cat "$ROOTFS/tmp/counter" 2>/dev/null || echo 0; }

# counter_passes N: the counter goes beyond N within 5 s (a busy host is slow to fork).
counter_passes() {
  local i
  for i in $(seq 100); do
    [[ $(counter) -gt $1 ]] && return 0
    sleep 0.05
  done
  echo "the counter stays at $(counter) (not beyond $1)" >&2
  return 1
}

start_counter() {
  set_args sh -c "$COUNTER_SCRIPT"
  create_container "$1"
  run nook start "$1"
  assert_success
  local i
  for i in $(seq 100); do
    [[ $(counter) -gt 0 ]] && return 0
    sleep 0.05
  done
  echo "the counter does not count" >&2
  return 1
}

# The case this host is in, printed: user, no-criu, criu-fails, criu-works.
criu_case() {
  if is_user_mode; then
    CASE=user
  elif ! command -v criu >/dev/null; then
    CASE=no-criu
  elif CRIU_CHECK=$(criu check 2>&1); then
    CASE=criu-works
  else
    CASE=criu-fails
  fi
  echo "# host case: $CASE${CRIU_CHECK:+ (criu check: $(grep -m1 Error <<<"$CRIU_CHECK"))}" >&3
}

@test "checkpoint: works, or fails in one clear line, as this host allows" {
  criu_case
  ROOTFS=$BUNDLE/rootfs
  start_counter ck1
  local img=$TEST_DIR/img
  run --separate-stderr nook checkpoint --image-path "$img" ck1
  case $CASE in
  user)
    assert_failure
    output=$stderr
    assert_one_error_line "checkpoint needs root: CRIU requires CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the initial user namespace"
    ;;
  no-criu)
    assert_failure
    output=$stderr
    assert_one_error_line "checkpoint needs the criu binary"
    ;;
  criu-fails)
    assert_failure
    output=$stderr
    assert_one_error_line "checkpoint failed in CRIU: Error ("
    # CRIU's first error, as `criu check` reports it, and where the log is
    local first
    first=$(grep -m1 -o 'Error (.*' <<<"$CRIU_CHECK")
    assert_output_contains "$first"
    # where to read more: dump.log, or criu's stderr when it failed before opening its log
    [[ $stderr == *"(log: $img/dump.log)" || $stderr == *"(log: $img/criu.stderr)" ]]
    output=$(cat "$img/criu.stderr" "$img/dump.log" 2>/dev/null)
    assert_output_contains "$first"
    ;;
  criu-works)
    assert_success
    run nook state ck1
    assert_failure # runc's behaviour: the checkpointed container is gone
    local c1 c2
    c1=$(counter)
    sleep 0.5
    c2=$(counter)
    assert_equal "$c2" "$c1"
    run --separate-stderr nook restore -d --image-path "$img" --bundle "$BUNDLE" ck1
    assert_success
    assert_equal "$(container_status ck1)" running
    local pid
    pid=$(container_pid ck1)
    pid_alive "$pid"
    counter_passes "$c2"
    run nook delete --force ck1
    assert_success
    assert_no_container ck1
    return 0
    ;;
  esac
  # The refused or failed checkpoint left the container as it was: running and counting.
  assert_equal "$(container_status ck1)" running
  counter_passes "$(counter)"
  run nook delete --force ck1
  assert_success
}

@test "restore: refused or failed in one line leaves no container behind" {
  criu_case
  local img=$TEST_DIR/img
  mkdir -p "$img"
  run --separate-stderr nook restore -d --image-path "$img" --bundle "$BUNDLE" rs1
  assert_failure
  output=$stderr
  case $CASE in
  user) assert_one_error_line "restore needs root: CRIU requires CAP_SYS_ADMIN" ;;
  no-criu) assert_one_error_line "restore needs the criu binary" ;;
  # an empty image directory: CRIU's own error about the missing images, on either kernel
  criu-fails | criu-works) assert_one_error_line "restore failed in CRIU: Error (" ;;
  esac
  assert_no_container rs1
  # a missing image directory is named
  if [[ $CASE != user ]]; then
    run --separate-stderr nook restore -d --image-path "$TEST_DIR/none" --bundle "$BUNDLE" rs2
    assert_failure
    output=$stderr
    [[ $CASE == no-criu ]] || assert_one_error_line "open $TEST_DIR/none: No such file or directory"
    assert_no_container rs2
  fi
}

@test "checkpoint: flags libcriu cannot express are refused, bad values named" {
  run --separate-stderr nook checkpoint --lazy-pages c1
  assert_failure
  output=$stderr
  assert_one_error_line "checkpoint --lazy-pages is not supported"
  run --separate-stderr nook checkpoint --empty-ns network c1
  assert_failure
  output=$stderr
  assert_one_error_line "checkpoint --empty-ns is not supported"
  run --separate-stderr nook restore --lazy-pages --bundle "$BUNDLE" c1
  assert_failure
  output=$stderr
  assert_one_error_line "restore --lazy-pages is not supported"
  run --separate-stderr nook checkpoint --status-fd 5 c1
  assert_failure
  output=$stderr
  assert_one_error_line "--status-fd is not supported"
  if is_root_mode; then
    run --separate-stderr nook checkpoint --manage-cgroups-mode bogus c1
    assert_failure
    output=$stderr
    assert_one_error_line '--manage-cgroups-mode: invalid value "bogus"'
    # a container that is not running
    set_args true
    create_container ck2
    if command -v criu >/dev/null; then
      run --separate-stderr nook checkpoint ck2
      assert_failure
      output=$stderr
      assert_one_error_line 'cannot checkpoint container "ck2": it is created, not running or paused'
    fi
    run nook delete ck2
    assert_success
  fi
}
