#!/usr/bin/env bats
# Container lifecycle (issue 3): create, start, state, kill, delete, run --detach, list, ps,
# every state transition and the errors the OCI runtime spec requires.

load ../lib/common

# A program that says it started (a file in the rootfs the host can see) and then sleeps.
marker_program() {
  set_args sh -c "echo started >/tmp/started; exec /probe sleep ${1:-60}"
}

@test "create: leaves the container created, with the program not yet started" {
  marker_program
  create_container c1 --pid-file "$TEST_DIR/pid"
  assert_equal "$(container_status c1)" created "status"
  local pid
  pid=$(container_pid c1)
  [[ $pid =~ ^[0-9]+$ && $pid -gt 1 ]] || { echo "bad pid in state: $pid" >&2; return 1; }
  pid_alive "$pid"
  # the user's program has not run
  sleep 0.5
  [[ ! -e $ROOTFS/tmp/started ]] || { echo "program ran before start" >&2; return 1; }
}

@test "create: the pid file holds the PID of what becomes the user's program" {
  marker_program
  create_container c1 --pid-file "$TEST_DIR/pid"
  local pid
  pid=$(cat "$TEST_DIR/pid")
  [[ $pid =~ ^[0-9]+$ ]] || { echo "pid file content: '$pid'" >&2; return 1; }
  assert_equal "$pid" "$(container_pid c1)" "pid file vs state"
  run nook start c1
  assert_success
  wait_for_file "$ROOTFS/tmp/started"
  # sh exec'd the probe: the same PID now runs "/probe sleep 60"
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  assert_equal "$cmdline" "/probe sleep 60 " "cmdline of the pid-file process"
  assert_equal "$(container_pid c1)" "$pid" "pid in state after start"
}

@test "create: a relative --pid-file is relative to the caller's cwd" {
  create_container c1 --pid-file rel.pid
  [[ -s $TEST_DIR/rel.pid ]]
  assert_equal "$(cat "$TEST_DIR/rel.pid")" "$(container_pid c1)" "pid file"
}

@test "create: without a terminal, the program's stdio are the caller's, untouched" {
  set_args sh -c '/probe fdstat 1; /probe fdstat 2 >&2; /probe read-line'
  : >"$TEST_DIR/in"
  echo "from-stdin" >"$TEST_DIR/in"
  chmod 0644 "$TEST_DIR/in"
  local out=$TEST_DIR/create.out err=$TEST_DIR/create.err
  : >"$out"
  : >"$err"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$out" "$err"
  nook create --bundle "$BUNDLE" c1 <"$TEST_DIR/in" >"$out" 2>"$err"
  run nook start c1
  assert_success
  wait_for_status c1 stopped
  assert_equal "$(sed -n 1p "$out")" "$(stat -c '%d %i' "$out")" "fd 1 inside vs the caller's file"
  assert_equal "$(cat "$err")" "$(stat -c '%d %i' "$err")" "fd 2 inside vs the caller's file"
  assert_equal "$(sed -n 2p "$out")" "got:from-stdin" "stdin"
}

@test "create: an ID that exists already is refused and the first container is untouched" {
  marker_program
  create_container c1
  local pid
  pid=$(container_pid c1)
  nook_create c1
  assert_failure
  assert_equal "$(container_status c1)" created "status of the first"
  assert_equal "$(container_pid c1)" "$pid" "pid of the first"
  pid_alive "$pid"
  run nook start c1
  assert_success
  wait_for_file "$ROOTFS/tmp/started"
}

@test "create: terminal true without --console-socket is an error and leaves nothing" {
  cfg '.process.terminal = true'
  nook_create tty1
  assert_failure
  [[ -n $output ]] || { echo "no error message" >&2; return 1; }
  assert_no_container tty1
}

@test "start: runs the program and the container becomes running" {
  marker_program
  create_container c1
  run nook start c1
  assert_success
  assert_equal "$(container_status c1)" running "status"
  wait_for_file "$ROOTFS/tmp/started"
}

@test "start: twice is an error, the container keeps running" {
  marker_program
  create_container c1
  run nook start c1
  assert_success
  run nook start c1
  assert_failure
  assert_equal "$(container_status c1)" running "status"
}

@test "start: an unknown container is an error" {
  run nook start no-such-container
  assert_failure
}

@test "start: a stopped container is an error" {
  set_args /probe exit 0
  create_container c1
  run nook start c1
  assert_success
  wait_for_status c1 stopped
  run nook start c1
  assert_failure
  assert_equal "$(container_status c1)" stopped "status"
}

@test "state: the spec's fields, with annotations and the absolute bundle path" {
  cfg '.annotations = {"org.nook.test": "yes", "other": "two words"}'
  create_container c1
  run nook state c1
  assert_success
  local s=$output
  assert_equal "$(jq -r .id <<<"$s")" c1 "id"
  assert_equal "$(jq -r .status <<<"$s")" created "status"
  assert_equal "$(jq -r .bundle <<<"$s")" "$BUNDLE" "bundle"
  assert_equal "$(jq -r '.pid | type' <<<"$s")" number "pid type"
  [[ $(jq -r .ociVersion <<<"$s") =~ ^1\.[0-9]+\.[0-9]+ ]] || { echo "ociVersion: $s" >&2; return 1; }
  assert_equal "$(jq -r '.annotations["org.nook.test"]' <<<"$s")" yes "annotation"
  assert_equal "$(jq -r '.annotations.other' <<<"$s")" "two words" "annotation"
}

@test "state: the bundle path is absolute even when --bundle was relative" {
  cd "$TEST_DIR"
  nook create --bundle bundle c1 </dev/null >/dev/null 2>"$TEST_DIR/err" || {
    cat "$TEST_DIR/err" >&2
    return 1
  }
  assert_equal "$(state_field c1 .bundle)" "$BUNDLE" "bundle"
}

@test "state: an unknown container is an error" {
  run nook state no-such-container
  assert_failure
}

@test "state: stopped after the program exits on its own" {
  set_args /probe exit 0
  create_container c1
  run nook start c1
  assert_success
  wait_for_status c1 stopped
}

@test "state: stopped after the program's PID is reused by an unrelated process" {
  [[ -w /proc/sys/kernel/ns_last_pid ]] || skip "cannot write /proc/sys/kernel/ns_last_pid here"
  set_args /probe exit 0
  create_container c1
  local pid
  pid=$(container_pid c1)
  run nook start c1
  assert_success
  wait_for_status c1 stopped
  wait_pid_gone "$pid"
  # The dead program's PID must be free (reaped) before it can be reused.
  local i spid=
  for i in 1 2 3 4 5 6 7 8 9 10; do
    [[ -e /proc/$pid ]] && { sleep 0.5; continue; }
    echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid
    sleep 30 &
    if [[ $! -eq $pid ]]; then
      spid=$!
      break
    fi
    kill $! 2>/dev/null
  done
  [[ -n $spid ]] || skip "could not get PID $pid reused (busy machine or unreaped zombie)"
  local st
  st=$(container_status c1)
  kill "$spid"
  assert_equal "$st" stopped "status with the PID reused"
}

@test "kill: default signal is SIGTERM" {
  set_args /probe sigwait /tmp/sig 60
  create_container c1
  run nook start c1
  assert_success
  wait_for_file "$ROOTFS/tmp/sig.ready"
  run nook kill c1
  assert_success
  wait_for_status c1 stopped
  assert_equal "$(cat "$ROOTFS/tmp/sig")" SIGTERM "signal received"
}

@test "kill: signal by name, by SIG name and by number" {
  local form n=0
  for form in USR1 SIGUSR2 1 sighup; do
    n=$((n + 1))
    set_args /probe sigwait /tmp/sig$n 60
    create_container k$n
    run nook start k$n
    assert_success
    wait_for_file "$ROOTFS/tmp/sig$n.ready"
    run nook kill k$n "$form"
    if [[ $form == sighup && $status -ne 0 ]]; then
      # lower-case names are a courtesy runc does not extend; not required
      nook kill k$n HUP
    else
      assert_success
    fi
    wait_for_status k$n stopped
    case $form in
      USR1) want=SIGUSR1 ;; SIGUSR2) want=SIGUSR2 ;; 1 | sighup) want=SIGHUP ;;
    esac
    assert_equal "$(cat "$ROOTFS/tmp/sig$n")" "$want" "signal received for '$form'"
  done
}

@test "kill: KILL stops a program that ignores SIGTERM" {
  set_args /probe ignore-term-sleep 60
  create_container c1
  run nook start c1
  assert_success
  run nook kill c1 TERM
  assert_success
  sleep 0.5
  assert_equal "$(container_status c1)" running "status after TERM"
  run nook kill c1 KILL
  assert_success
  wait_for_status c1 stopped
}

@test "kill: a created container can be killed, and becomes stopped" {
  marker_program
  create_container c1
  local pid
  pid=$(container_pid c1)
  run nook kill c1 KILL
  assert_success
  wait_for_status c1 stopped
  wait_pid_gone "$pid"
  [[ ! -e $ROOTFS/tmp/started ]]
}

@test "kill: a stopped container is an error" {
  set_args /probe exit 0
  create_container c1
  run nook start c1
  assert_success
  wait_for_status c1 stopped
  run nook kill c1 KILL
  assert_failure
}

@test "kill: an unknown container is an error" {
  run nook kill no-such-container KILL
  assert_failure
}

@test "kill: an unknown signal is an error and the container keeps running" {
  marker_program
  create_container c1
  run nook start c1
  run nook kill c1 NOSUCHSIGNAL
  assert_failure
  assert_equal "$(container_status c1)" running "status"
}

@test "kill: signal 0 checks that the container's process exists, as kill(2) does" {
  set_args /probe sleep 100
  create_container c1
  run nook kill c1 0
  assert_success
  run nook start c1
  run nook kill c1 0
  assert_success
  run nook kill --all c1 0
  assert_success
  assert_equal "$(container_status c1)" running "status after signal 0"
  run nook kill c1 KILL
  wait_for_status c1 stopped
  run nook kill c1 0
  assert_failure
}

@test "kill --all: every process of the container gets the signal" {
  set_args sh -c '/probe sleep 60 & /probe sleep 60 & echo started >/tmp/started; wait'
  create_container c1
  run nook start c1
  assert_success
  wait_for_file "$ROOTFS/tmp/started"
  local pids
  pids=$(pids_rooted_under "$ROOTFS")
  [[ $(wc -w <<<"$pids") -ge 3 ]] || { echo "expected 3 processes, got: $pids" >&2; return 1; }
  run nook kill --all c1 KILL
  assert_success
  wait_for_status c1 stopped
  local p
  for p in $pids; do wait_pid_gone "$p"; done
}

@test "delete: a running container is an error and it keeps running" {
  marker_program
  create_container c1
  run nook start c1
  assert_success
  run nook delete c1
  assert_failure
  assert_equal "$(container_status c1)" running "status"
}

@test "delete: a stopped container leaves no trace" {
  set_args /probe exit 0
  create_container c1
  run nook start c1
  assert_success
  wait_for_status c1 stopped
  run nook delete c1
  assert_success
  assert_no_container c1
  assert_state_root_empty
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts"
}

@test "delete: an unknown container is an error" {
  run nook delete no-such-container
  assert_failure
}

@test "delete --force: an unknown container succeeds quietly" {
  run --separate-stderr nook delete --force no-such-container
  assert_success
  assert_equal "$output" "" "stdout"
  assert_equal "$stderr" "" "stderr"
}

@test "delete --force: a running container is killed and removed" {
  marker_program
  create_container c1
  run nook start c1
  assert_success
  local pid
  pid=$(container_pid c1)
  run nook delete --force c1
  assert_success
  assert_no_container c1
  wait_pid_gone "$pid" 5
  assert_equal "$(pids_rooted_under "$ROOTFS")" "" "processes in the container"
  assert_state_root_empty
}

@test "delete --force: a created container is killed and removed" {
  marker_program
  create_container c1
  local pid
  pid=$(container_pid c1)
  run nook delete --force c1
  assert_success
  assert_no_container c1
  wait_pid_gone "$pid" 5
  [[ ! -e $ROOTFS/tmp/started ]]
  assert_state_root_empty
}

@test "delete: a created container is deleted without --force, as runc does" {
  # containerd's shim deletes a container whose start failed with a plain delete
  marker_program
  create_container c1
  local pid
  pid=$(container_pid c1)
  run nook delete c1
  assert_success
  assert_no_container c1
  wait_pid_gone "$pid" 5
  [[ ! -e $ROOTFS/tmp/started ]]
  assert_state_root_empty
}

@test "delete: the ID can be used again afterwards" {
  set_args /probe exit 0
  create_container c1
  run nook delete --force c1
  assert_success
  create_container c1
  assert_equal "$(container_status c1)" created "status"
}

@test "run --detach: returns while the program runs; pid file; then kill and delete" {
  marker_program
  nook run --detach --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" d1 </dev/null \
    >"$TEST_DIR/d1.out" 2>"$TEST_DIR/d1.err" || {
    cat "$TEST_DIR/d1.err" >&2
    return 1
  }
  assert_equal "$(container_status d1)" running "status"
  assert_equal "$(cat "$TEST_DIR/pid")" "$(container_pid d1)" "pid file"
  wait_for_file "$ROOTFS/tmp/started"
  run nook kill d1 KILL
  assert_success
  wait_for_status d1 stopped
  run nook delete d1
  assert_success
  assert_no_container d1
}

@test "run: in the foreground, forwards a signal it receives to the program" {
  set_args /probe sigwait /tmp/sig 60
  nook_bg "$TEST_DIR/fg" run --bundle "$BUNDLE" fg1
  wait_for_file "$ROOTFS/tmp/sig.ready"
  kill -USR1 "$NOOK_BG_PID"
  local rc=0
  wait "$NOOK_BG_PID" || rc=$?
  assert_equal "$rc" 0 "exit status of run"
  assert_equal "$(cat "$ROOTFS/tmp/sig")" SIGUSR1 "signal the program got"
  assert_equal "$(cat "$TEST_DIR/fg.out")" SIGUSR1 "program's stdout"
  assert_no_container fg1
}

@test "run: in the foreground, SIGTERM to the runtime reaches the program" {
  set_args /probe sigwait /tmp/sig 60
  nook_bg "$TEST_DIR/fg" run --bundle "$BUNDLE" fg2
  wait_for_file "$ROOTFS/tmp/sig.ready"
  kill -TERM "$NOOK_BG_PID"
  local rc=0
  wait "$NOOK_BG_PID" || rc=$?
  assert_equal "$rc" 0 "exit status of run"
  assert_equal "$(cat "$ROOTFS/tmp/sig")" SIGTERM "signal the program got"
  assert_no_container fg2
}

@test "list: shows containers with their status; -q prints only IDs" {
  marker_program
  create_container a1
  create_container b2
  run nook start b2
  assert_success
  run nook list -q
  assert_success
  assert_equal "$(sort <<<"$output" | xargs)" "a1 b2" "list -q"
  run nook list
  assert_success
  assert_equal "$(head -1 <<<"$output" | awk '{print $1, $2, $3}')" "ID PID STATUS" "table header"
  [[ $(grep -cE '^a1 +[0-9]+ +created ' <<<"$output") -eq 1 ]] || { echo "$output" >&2; return 1; }
  [[ $(grep -cE '^b2 +[0-9]+ +running ' <<<"$output") -eq 1 ]] || { echo "$output" >&2; return 1; }
}

@test "list --format json: one object per container" {
  marker_program
  create_container a1
  create_container b2
  run nook start b2
  run nook list --format json
  assert_success
  assert_equal "$(jq length <<<"$output")" 2 "number of containers"
  assert_equal "$(jq -r '.[] | select(.id == "a1") | .status' <<<"$output")" created "a1"
  assert_equal "$(jq -r '.[] | select(.id == "b2") | .status' <<<"$output")" running "b2"
  assert_equal "$(jq -r '.[] | select(.id == "b2") | .pid' <<<"$output")" "$(container_pid b2)" "b2 pid"
  assert_equal "$(jq -r '.[] | select(.id == "a1") | .bundle' <<<"$output")" "$BUNDLE" "a1 bundle"
}

@test "list: no containers" {
  run nook list -q
  assert_success
  assert_output ""
  run nook list --format json
  assert_success
  # runc prints null for none; an empty array is as good
  assert_equal "$(jq length <<<"$output")" 0 "length"
}

@test "ps: lists the container's processes" {
  set_args sh -c '/probe sleep 60 & echo started >/tmp/started; wait'
  create_container c1
  run nook start c1
  assert_success
  wait_for_file "$ROOTFS/tmp/started"
  local pid
  pid=$(container_pid c1)
  run nook ps --format json c1
  assert_success
  jq -e --argjson p "$pid" 'index($p) != null' <<<"$output" >/dev/null ||
    { echo "init pid $pid not in: $output" >&2; return 1; }
  assert_equal "$(jq length <<<"$output")" 2 "number of processes"
  run nook ps c1
  assert_success
  assert_output_contains PID
  assert_output_contains "$pid"
}

@test "ps: options after the ID go to ps(1), whose lines are filtered to the container's" {
  set_args sh -c '/probe sleep 60 & echo started >/tmp/started; wait'
  create_container c1
  run nook start c1
  assert_success
  wait_for_file "$ROOTFS/tmp/started"
  local pids n
  run nook ps --format json c1
  assert_success
  pids=$(jq -r '.[]' <<<"$output" | sort -n | tr '\n' ' ')
  n=$(jq length <<<"$output")
  assert_equal "$n" 2 "number of processes"
  # -o pid,comm: ps(1)'s header, then exactly the container's processes (sh and probe)
  run --separate-stderr nook ps c1 -o pid,comm
  assert_success
  assert_equal "$(head -1 <<<"$output" | awk '{print $1, $2}')" "PID COMMAND" "header"
  assert_equal "$(tail -n +2 <<<"$output" | awk '{print $1}' | sort -n | tr '\n' ' ')" "$pids" "PIDs listed"
  assert_equal "$(tail -n +2 <<<"$output" | awk '{print $2}' | sort | tr '\n' ' ')" "probe sh " "commands"
  # -ef (runc's default too): the PID column is the second; nothing but the container's
  run --separate-stderr nook ps c1 -ef
  assert_success
  [[ $(head -1 <<<"$output") == UID*PID*PPID*CMD ]] || { echo "header: $output" >&2; false; }
  assert_equal "$(tail -n +2 <<<"$output" | awk '{print $2}' | sort -n | tr '\n' ' ')" "$pids" "PIDs of -ef"
  local default=$output
  run --separate-stderr nook ps c1
  assert_success
  assert_equal "$(awk '{print $2}' <<<"$output")" "$(awk '{print $2}' <<<"$default")" "no options: -ef"
  runtime_is_runc && return 0  # runc's wording differs; it ignores ps options with json
  # ps(1)'s own failure is reported with its words; a header without PID is refused
  run --separate-stderr nook ps c1 --no-such-ps-option
  assert_failure
  [[ $stderr == *"ps --no-such-ps-option: exit status"* ]] || { echo "$stderr" >&2; false; }
  run --separate-stderr nook ps c1 -o comm
  assert_failure
  [[ $stderr == *"couldn't find PID field in ps output"* ]] || { echo "$stderr" >&2; false; }
  # --format json takes no ps(1) options
  run --separate-stderr nook ps --format json c1 -ef
  assert_failure
  [[ $stderr == *"ps --format json takes no ps(1) options"* ]] || { echo "$stderr" >&2; false; }
}

@test "ps: an unknown container is an error" {
  run nook ps no-such-container
  assert_failure
}

@test "every transition: created -> running -> stopped -> deleted, with state at each step" {
  set_args /probe sigwait /tmp/sig 60
  create_container t1
  assert_equal "$(container_status t1)" created "after create"
  run nook start t1
  assert_success
  assert_equal "$(container_status t1)" running "after start"
  wait_for_file "$ROOTFS/tmp/sig.ready"
  run nook kill t1 TERM
  assert_success
  wait_for_status t1 stopped
  run nook delete t1
  assert_success
  assert_no_container t1
  assert_state_root_empty
}

@test "create: --preserve-fds N passes the caller's fds 3..3+N-1 and no others" {
  set_args /probe fds
  echo preserved >"$TEST_DIR/extra3"
  nook create --bundle "$BUNDLE" --preserve-fds 1 pfd 3<"$TEST_DIR/extra3" 4<"$TEST_DIR/extra3" \
    </dev/null >"$TEST_DIR/pfd.out" 2>"$TEST_DIR/pfd.err" || {
    cat "$TEST_DIR/pfd.err" >&2
    return 1
  }
  run nook start pfd
  assert_success
  wait_for_status pfd stopped
  assert_equal "$(cat "$TEST_DIR/pfd.out")" "0 1 2 3" "fds inside"
}

@test "create: --no-pivot and --no-new-keyring are accepted and the program runs" {
  set_args /probe echo ran
  create_container np1 --no-pivot --no-new-keyring
  run nook start np1
  assert_success
  wait_for_status np1 stopped
  assert_equal "$(cat "$TEST_DIR/np1.out")" ran "program output"
}

@test "create: a child subreaper can wait on the pid-file PID and gets the program's status (Buildah)" {
  command -v python3 >/dev/null || skip "python3 is not installed"
  set_args sh -c 'exec /probe exit 7'
  # As Buildah does: become child subreaper, run create (which exits), read the pid file,
  # start, and waitpid() that PID: it must be the program, reparented to us.
  run python3 - "$STATE_ROOT" "$BUNDLE" "$TEST_DIR/pid" <<'PY'
import ctypes, os, subprocess, sys
root, bundle, pidfile = sys.argv[1:4]
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl failed")
def nook(*args, **kw):
    cmd = ["bash", "-c", 'nook "$@"', "_", *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, **kw)
# stderr to a file: the program inherits it, so a pipe would stay open until it exits
with open(pidfile + ".err", "w+") as err:
    r = nook("create", "--bundle", bundle, "--pid-file", pidfile, "reaped", stderr=err)
    if r.returncode != 0:
        err.seek(0)
        sys.exit("create failed: %r" % err.read())
pid = int(open(pidfile).read().strip())
if nook("start", "reaped").returncode != 0:
    sys.exit("start failed")
wpid, status = os.waitpid(pid, 0)
print("waited", wpid == pid, "exit", os.waitstatus_to_exitcode(status))
PY
  assert_success
  assert_output "waited True exit 7"
  wait_for_status reaped stopped
}

@test "state: stopped after the program is killed from outside, then delete works" {
  set_args /probe sleep 60
  create_container ext1
  run nook start ext1
  assert_success
  local pid
  pid=$(container_pid ext1)
  kill -9 "$pid"
  wait_for_status ext1 stopped
  run nook delete ext1
  assert_success
  assert_no_container ext1
  assert_state_root_empty
}
