#!/usr/bin/env bats
# Terminal (issue 3): process.terminal with --console-socket: the runtime allocates a pty in
# the container's own devpts, makes it the program's controlling terminal and stdio, applies
# process.consoleSize, and sends the master over the socket with SCM_RIGHTS. A real receiver
# (tests/helper/recvtty.c) reads from and writes to it.

load ../lib/common

# start_receiver [INPUT]: the receiver, as the user the runtime runs as, in the background.
start_receiver() {
  SOCK=$TEST_DIR/console.sock
  local args=("$SOCK" -t 40 -w "$TEST_DIR/winsize")
  [[ $# -gt 0 ]] && args+=(-i "$1")
  as_user "$NOOK_RECVTTY" "${args[@]}" >"$TEST_DIR/tty.out" 2>"$TEST_DIR/tty.err" </dev/null &
  RECV_PID=$!
  wait_for_file "$SOCK"
}

# wait_receiver: wait for the receiver; its output (CRs removed) in $output.
wait_receiver() {
  local rc=0
  wait "$RECV_PID" || rc=$?
  output=$(tr -d '\r' <"$TEST_DIR/tty.out")
  if [[ $rc -ne 0 ]]; then
    echo "receiver exited $rc: $(cat "$TEST_DIR/tty.err")" >&2
    printf 'it read:\n%s\n' "$output" >&2
    return 1
  fi
}

@test "terminal: create --console-socket hands over a working pty master" {
  cfg '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}'
  set_args sh -c '/probe isatty 0; /probe isatty 1; /probe isatty 2; /probe ttyname 0; /probe winsize; /probe ctty; /probe read-line'
  start_receiver $'hello-through-the-pty\n'
  create_container tty1 --console-socket "$SOCK"
  run nook start tty1
  assert_success
  wait_receiver
  assert_output_contains $'1\n1\n1\n/dev/pts/0\n30 100\nok sid='
  assert_output_contains "got:hello-through-the-pty"
  assert_equal "$(cat "$TEST_DIR/winsize")" "30 100" "window size seen on the master"
  wait_for_status tty1 stopped
}

@test "terminal: the program is a session leader with the pty as controlling terminal" {
  cfg '.process.terminal = true'
  set_args /probe ctty
  start_receiver
  create_container tty2 --console-socket "$SOCK"
  local pid
  pid=$(container_pid tty2)
  run nook start tty2
  assert_success
  wait_receiver
  # sid and pgrp are the program's own PID (as seen inside: 1 with a PID namespace)
  assert_output_matches 'ok sid=([0-9]+) pgrp=\1 fg=\1'
}

@test "terminal: output written by the program reaches the receiver, then EOF on exit" {
  cfg '.process.terminal = true'
  set_args sh -c 'for i in 1 2 3; do echo line-$i; done; exit 7'
  start_receiver
  create_container tty3 --console-socket "$SOCK"
  run nook start tty3
  assert_success
  wait_receiver
  assert_output $'line-1\nline-2\nline-3'
  wait_for_status tty3 stopped
}

@test "terminal: run --detach --console-socket" {
  cfg '.process.terminal = true | .process.consoleSize = {height: 24, width: 80}'
  set_args sh -c '/probe winsize; /probe read-line'
  start_receiver $'detached\n'
  nook run --detach --console-socket "$SOCK" --bundle "$BUNDLE" tty4 </dev/null \
    >"$TEST_DIR/run.out" 2>"$TEST_DIR/run.err" || {
    cat "$TEST_DIR/run.err" >&2
    return 1
  }
  wait_receiver
  assert_output_contains "24 80"
  assert_output_contains "got:detached"
  wait_for_status tty4 stopped
  run nook delete tty4
  assert_success
}

@test "terminal: the pty comes from the container's own devpts instance" {
  cfg '.process.terminal = true'
  set_args sh -c '/probe mounts /dev/pts; /probe ls /dev/pts'
  start_receiver
  create_container tty5 --console-socket "$SOCK"
  run nook start tty5
  assert_success
  wait_receiver
  assert_output_contains " devpts "
  # a fresh instance holds only the ptmx node and our one pty
  assert_equal "$(grep -vE 'devpts|^$' <<<"$output" | xargs)" "0 ptmx" "entries of /dev/pts"
}

@test "terminal: true with create and no --console-socket is an error, nothing is left" {
  cfg '.process.terminal = true'
  nook_create tty6
  assert_failure
  assert_no_container tty6
  assert_equal "$(pids_rooted_under "$ROOTFS")" "" "processes"
}

@test "terminal: a console socket nobody listens on is an error, nothing is left" {
  cfg '.process.terminal = true'
  nook_create tty7 --console-socket "$TEST_DIR/nobody.sock"
  assert_failure
  assert_no_container tty7
  assert_equal "$(pids_rooted_under "$ROOTFS")" "" "processes"
}

@test "terminal: run in the foreground with terminal true and no socket uses the caller's terminal" {
  command -v script >/dev/null || skip "script(1) (bsdutils) is not installed"
  cfg '.process.terminal = true'
  set_args sh -c '/probe isatty 0; /probe isatty 1; /probe ttyname 0; /probe ctty; exit 5'
  local cmd
  if [[ -n ${NOOK_AS_USER_UID:-} ]]; then
    cmd=$(printf '%q ' setpriv --reuid="$NOOK_AS_USER_UID" --regid="$NOOK_AS_USER_GID" --init-groups -- \
      env HOME="$TEST_DIR" "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" fgtty)
  else
    cmd=$(printf '%q ' "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" fgtty)
  fi
  # script(1) gives the runtime a terminal of its own; -e passes the exit status on.
  run timeout 60 script -qefc "$cmd" /dev/null </dev/null
  assert_status 5
  output=$(tr -d '\r\0' <<<"$output")
  assert_output_contains $'1\n1\n/dev/pts/0\nok sid='
  assert_no_container fgtty
}

@test "terminal: /dev/console is the pty the program has as stdin" {
  cfg '.process.terminal = true'
  set_args sh -c 'stat -L -c "%t:%T" /dev/console /proc/self/fd/0; echo console-done'
  start_receiver
  create_container con1 --console-socket "$SOCK"
  run nook start con1
  assert_success
  wait_receiver
  assert_output_contains "console-done"
  local a b
  a=$(sed -n 1p <<<"$output")
  b=$(sed -n 2p <<<"$output")
  assert_equal "$a" "$b" "/dev/console and stdin"
  [[ $a == 88:* ]] || { echo "stdin is not a pty (major 136..143 hex 88..8f): $a" >&2; return 1; }
}

@test "terminal: a /dev/console that is a symlink in the image is refused, not followed" {
  # The image's own /dev (no tmpfs over it), where /dev/console points into /proc/sys.
  cfg '.process.terminal = true | del(.mounts[] | select(.destination == "/dev"))'
  mkdir -p "$ROOTFS/dev/pts"
  rm -f "$ROOTFS/dev/console"
  ln -s /proc/sys/kernel/core_pattern "$ROOTFS/dev/console"
  local before
  before=$(cat /proc/sys/kernel/core_pattern)
  set_args /probe cwd
  start_receiver
  run nook create --bundle "$BUNDLE" --console-socket "$SOCK" con2
  assert_failure
  assert_output_contains "/dev/console"
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$before" "host core_pattern"
  run nook state con2
  assert_failure
  kill "$RECV_PID" 2>/dev/null || true
}
