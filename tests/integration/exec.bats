#!/usr/bin/env bats
# `nook exec` (issue 5): a new process in a running container sees what the container's
# program sees (rootfs, hostname, PID namespace, every namespace, cgroup, capabilities, limits),
# plus its own environment, cwd and user; terminals, --detach, exit codes, failures; and the
# process files Podman and containerd send.

load ../lib/common

# Container IDs unique on the host: the default cgroup path is /nook/<ID>, shared by every
# suite that runs at the same time.
setup() {
  common_setup
  C=ex$$-$BATS_TEST_NUMBER
}

CONFIGS=$NOOK_REPO_DIR/tests/configs

# start_sleeper ID: a running container whose program is `/probe sleep 600`.
start_sleeper() {
  set_args /probe sleep 600
  create_container "$1" || return 1
  run nook start "$1"
  assert_success || return 1
  wait_for_status "$1" running
}

# exec_bg OUT ARGS...: `nook exec ARGS` with stdio in files, as nook_bg (for calls whose
# program or leftovers would hold bats' pipes).
exec_bg() { nook_bg "$@"; }

# ns_of PID NS: the namespace link of a host process.
ns_of() { readlink "/proc/$1/ns/$2"; }

# recvtty_start SOCKET OUTFILE [ARGS...]: the console receiver in the background (as the test
# user, so the runtime can connect); waits until it listens.
recvtty_start() {
  local sock=$1 out=$2
  shift 2
  as_user "$NOOK_RECVTTY" "$sock" "$@" >"$out" 2>&1 &
  RECVTTY_PID=$!
  wait_for_file "$sock"
}

# ---------------------------------------------------------------------------------------------
# What the process sees

@test "exec: sees the container's rootfs" {
  echo "only in this bundle" >"$ROOTFS/exec-marker"
  start_sleeper $C
  run nook exec $C /probe cat /exec-marker
  assert_success
  assert_output "only in this bundle"
  # and not the host's root
  run nook exec $C /probe stat "$NOOK_TESTS_DIR"
  assert_failure
  assert_output "ENOENT"
}

@test "exec: sees the container's hostname" {
  add_namespace uts
  cfg '.hostname = "exec-host"'
  start_sleeper $C
  run nook exec $C /probe hostname
  assert_success
  assert_output "exec-host"
}

@test "exec: is in the container's PID namespace, where pid 1 is the container's program" {
  start_sleeper $C
  run nook exec $C sh -c 'tr "\0" " " </proc/1/cmdline; echo; echo "ppid=$PPID"'
  assert_success
  assert_equal "${lines[0]}" "/probe sleep 600 " "/proc/1/cmdline"
  # nook exec, its parent, is outside the namespace
  assert_equal "${lines[1]}" "ppid=0" "parent"
}

@test "exec: the process shares every namespace and the cgroup of the container's process" {
  start_sleeper $C
  local init pid ns
  init=$(container_pid $C)
  # not `run`: the detached program would hold its output pipe
  nook exec -d --pid-file "$TEST_DIR/exec.pid" $C /probe sleep 30 </dev/null >"$TEST_DIR/d.out" 2>&1 ||
    { cat "$TEST_DIR/d.out" >&2; return 1; }
  pid=$(cat "$TEST_DIR/exec.pid")
  for ns in user mnt pid uts ipc net cgroup time; do
    [[ -e /proc/$init/ns/$ns ]] || continue
    assert_equal "$(ns_of "$pid" "$ns")" "$(ns_of "$init" "$ns")" "$ns namespace"
  done
  assert_equal "$(cat "/proc/$pid/cgroup")" "$(cat "/proc/$init/cgroup")" "cgroup"
  assert_equal "$(readlink "/proc/$pid/root")" "$(readlink "/proc/$init/root")" "root"
  # a direct child of nook exec: reparented once nook exec has gone, never through a helper
  kill -9 "$pid"
}

@test "exec: capabilities, no_new_privs, seccomp and rlimits are the container's" {
  cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 512, hard: 1024}]'
  cfg '.process.noNewPrivileges = true'
  start_sleeper $C
  local init pid
  init=$(container_pid $C)
  # not `run`: the detached program would hold its output pipe
  nook exec -d --pid-file "$TEST_DIR/exec.pid" $C /probe sleep 30 </dev/null >"$TEST_DIR/d.out" 2>&1 ||
    { cat "$TEST_DIR/d.out" >&2; return 1; }
  pid=$(cat "$TEST_DIR/exec.pid")
  assert_equal "$(grep -E '^(Cap|NoNewPrivs|Seccomp:)' "/proc/$pid/status")" \
    "$(grep -E '^(Cap|NoNewPrivs|Seccomp:)' "/proc/$init/status")" "capabilities and filters"
  assert_equal "$(grep 'Max open files' "/proc/$pid/limits")" \
    "$(grep 'Max open files' "/proc/$init/limits")" "RLIMIT_NOFILE"
  kill -9 "$pid"
  run nook exec $C /probe rlimit NOFILE
  assert_success
  assert_output "512 1024"
  run nook exec $C /probe nnp
  assert_output "NoNewPrivs 1"
}

@test "exec: a seccomp profile in the config applies to the exec'd process" {
  cfg '.root.readonly = false'
  cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}'
  start_sleeper $C
  run nook exec $C /probe seccomp
  assert_success
  assert_output "Seccomp 2"
  run nook exec $C mkdir /tmp/d
  assert_failure
  assert_output_contains "Function not implemented"
}

@test "exec: environment from the config, --env additions and overrides, HOME from passwd" {
  set_env FROMCFG=yes
  start_sleeper $C
  run nook exec -e NEW=1 --env FROMCFG=overridden -e 'SPACED=a b' $C /probe environ
  assert_success
  assert_output_contains "NEW=1"
  assert_output_contains "FROMCFG=overridden"
  assert_output_contains "SPACED=a b"
  assert_output_not_contains "FROMCFG=yes"
  assert_output_contains "HOME=/root"
  assert_output_contains "PATH="
  # exactly one FROMCFG
  assert_equal "$(grep -c '^FROMCFG=' <<<"$output")" 1 "FROMCFG entries"
}

@test "exec: cwd from the config, or --cwd" {
  cfg '.process.cwd = "/etc"'
  start_sleeper $C
  run nook exec $C /probe cwd
  assert_success
  assert_output "/etc"
  run nook exec --cwd /tmp $C /probe cwd
  assert_success
  assert_output "/tmp"
  run nook exec --cwd /does-not-exist $C /probe cwd
  assert_failure
  assert_one_error_line "/does-not-exist"
}

@test "exec: user from the config" {
  start_sleeper $C
  run nook exec $C /probe ids
  assert_success
  assert_output "uid 0 0 0 gid 0 0 0"
}

@test "exec: --user and --additional-gids (root)" {
  skip_in_user_mode "an unprivileged caller maps only its own ID"
  start_sleeper $C
  run nook exec --user 1000:1000 -g 2000 --additional-gids 3000,4000 $C sh -c '/probe ids; /probe groups'
  assert_success
  assert_equal "${lines[0]}" "uid 1000 1000 1000 gid 1000 1000 1000" "ids"
  assert_equal "${lines[1]}" "2000 3000 4000" "groups"
  # uid only: the gid stays the config's
  run nook exec -u 1000 $C /probe uid
  assert_success
  assert_output "1000 0"
  # HOME follows the user
  run nook exec -u 1000 $C /probe env HOME
  assert_output "/home/tuser"
}

@test "exec: --user other than the mapped ID in a single-ID container is a clear error" {
  skip_in_root_mode "single-ID user namespaces are the unprivileged case"
  start_sleeper $C
  run nook exec --user 1000 $C /probe uid
  assert_failure 1
  assert_one_error_line "single-ID user namespace"
  assert_output_contains "uid 1000"
  # the mapped ID itself is fine
  run nook exec --user 0:0 $C /probe uid
  assert_success
  assert_output "0 0"
}

@test "exec: --user that is not a number is refused" {
  start_sleeper $C
  run nook exec --user tuser $C /probe uid
  assert_failure 1
  assert_one_error_line "--user"
}

@test "exec: --cap adds a capability" {
  cfg '.process.capabilities = {bounding: ["CAP_CHOWN"], effective: ["CAP_CHOWN"], permitted: ["CAP_CHOWN"]}'
  start_sleeper $C
  run nook exec $C /probe caps
  assert_success
  assert_output_contains "CapEff 0000000000000001"
  run nook exec --cap CAP_KILL $C /probe caps
  assert_success
  # CAP_CHOWN (0) + CAP_KILL (5)
  assert_output_contains "CapEff 0000000000000021"
  assert_output_contains "CapBnd 0000000000000021"
  run nook exec --cap CAP_NOPE $C /probe caps
  assert_failure 1
  assert_one_error_line "unknown capability"
}

@test "exec: --no-new-privs" {
  cfg '.process.noNewPrivileges = false'
  start_sleeper $C
  run nook exec $C /probe nnp
  # Unprivileged, root emulation's filter needs no_new_privs (docs/root-emulation.md), as
  # for the container's own program.
  if is_root_mode; then assert_output "NoNewPrivs 0"; fi
  run nook exec --no-new-privs $C /probe nnp
  assert_success
  assert_output "NoNewPrivs 1"
}

@test "exec: the command keeps its own options (sh -c, -e, --root)" {
  start_sleeper $C
  run nook exec $C sh -c 'echo -n one; echo " two"'
  assert_success
  assert_output "one two"
  run nook exec $C /probe echo -e --root x --env
  assert_success
  assert_output "-e --root x --env"
  # runc's one-dash long flags are rewritten before the ID only
  run nook exec -cwd /tmp $C /probe echo -all -root -cwd
  assert_success
  assert_output "-all -root -cwd"
  run nook exec $C -- /probe echo after-dashes
  assert_success
  assert_output "after-dashes"
}

@test "exec: --preserve-fds passes descriptors, nothing else leaks" {
  start_sleeper $C
  run nook exec $C /probe fds
  assert_success
  assert_output "0 1 2"
  echo "preserved" >"$TEST_DIR/extra"
  run nook exec --preserve-fds 1 $C sh -c '/probe fds; cat <&3' 3<"$TEST_DIR/extra" 4<"$TEST_DIR/extra"
  assert_success
  assert_equal "${lines[0]}" "0 1 2 3" "fds"
  assert_equal "${lines[1]}" "preserved" "fd 3"
}

@test "exec: stdin, stdout and stderr are the caller's" {
  start_sleeper $C
  run bash -c 'echo via-stdin | "$@"' _ nook exec $C /probe read-line
  assert_success
  assert_output "got:via-stdin"
  run --separate-stderr nook exec $C sh -c 'echo out; echo err >&2'
  assert_success
  assert_output "out"
  assert_equal "$stderr" "err" "stderr"
}

# ---------------------------------------------------------------------------------------------
# Exit status and signals

@test "exec: exit status 0 and 3" {
  start_sleeper $C
  run nook exec $C /probe exit 0
  assert_status 0
  run nook exec $C /probe exit 3
  assert_status 3
  run nook exec $C sh -c 'exit 255'
  assert_status 255
}

@test "exec: death by a signal becomes 128+N" {
  start_sleeper $C
  run nook exec $C /probe kill-self TERM
  assert_status 143
  run nook exec $C /probe kill-self KILL
  assert_status 137
}

@test "exec: a missing program fails with 127 and one line" {
  start_sleeper $C
  run -127 nook exec $C /no/such/program
  assert_status 127
  assert_one_error_line "/no/such/program"
  run -127 nook exec $C no-such-command
  assert_status 127
  assert_one_error_line "executable file not found"
  # the container is unharmed
  assert_equal "$(container_status $C)" running "status"
}

@test "exec: signals to nook exec reach the process" {
  start_sleeper $C
  exec_bg "$TEST_DIR/sig" exec $C /probe sigwait /tmp/sig 20
  wait_for_file "$ROOTFS/tmp/sig.ready"
  kill -USR1 "$NOOK_BG_PID"
  local rc=0
  wait "$NOOK_BG_PID" || rc=$?
  assert_equal "$rc" 0 "exit status"
  assert_equal "$(cat "$TEST_DIR/sig.out")" "SIGUSR1" "signal seen"
}

@test "exec: a process the program leaves behind does not hold nook up" {
  start_sleeper $C
  local t0 t1
  t0=$(date +%s)
  nook exec $C sh -c '/probe sleep 30 & echo started' </dev/null >"$TEST_DIR/out" 2>&1
  t1=$(date +%s)
  assert_equal "$(cat "$TEST_DIR/out")" "started" "output"
  [[ $((t1 - t0)) -lt 15 ]] || { echo "nook exec took $((t1 - t0)) s" >&2; return 1; }
  # the same with a terminal that nook proxies
  t0=$(date +%s)
  nook exec -t $C sh -c '/probe sleep 30 & echo started-tty' </dev/null >"$TEST_DIR/out" 2>&1
  t1=$(date +%s)
  grep -q started-tty "$TEST_DIR/out" || { cat "$TEST_DIR/out" >&2; return 1; }
  [[ $((t1 - t0)) -lt 15 ]] || { echo "nook exec -t took $((t1 - t0)) s" >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Terminals

@test "exec -t: a pty proxied by nook in the foreground" {
  start_sleeper $C
  run nook exec -t $C sh -c '/probe isatty 0; /probe ttyname 0; /probe ctty'
  assert_success
  lines=("${lines[@]%$'\r'}")
  assert_equal "${lines[0]}" "1" "isatty"
  [[ ${lines[1]} == /dev/pts/* ]] || { echo "ttyname: ${lines[1]}" >&2; return 1; }
  [[ ${lines[2]} == ok* ]] || { echo "ctty: ${lines[2]}" >&2; return 1; }
}

@test "exec -t --console-socket: the pty master goes to the socket" {
  start_sleeper $C
  local sock=$TEST_DIR/console.sock
  recvtty_start "$sock" "$TEST_DIR/tty.out"
  run nook exec -t --console-socket "$sock" $C sh -c '/probe isatty 0; /probe ttyname 1; exit 4'
  assert_status 4
  wait "$RECVTTY_PID" || true
  local out
  out=$(tr -d '\r' <"$TEST_DIR/tty.out")
  [[ $out == *$'1\n/dev/pts/'* ]] || { printf 'recvtty got:\n%s\n' "$out" >&2; return 1; }
}

@test "exec -t -d without --console-socket is refused" {
  start_sleeper $C
  run nook exec -t -d $C /probe isatty 0
  assert_failure 1
  assert_one_error_line "console-socket"
}

# ---------------------------------------------------------------------------------------------
# Detach

@test "exec -d: returns once the program runs, pid file names it" {
  start_sleeper $C
  local t0 t1 pid init
  t0=$(date +%s)
  nook exec -d --pid-file "$TEST_DIR/exec.pid" $C /probe sleep 60 </dev/null >"$TEST_DIR/d.out" 2>&1
  t1=$(date +%s)
  [[ $((t1 - t0)) -lt 15 ]] || { echo "exec -d took $((t1 - t0)) s" >&2; return 1; }
  pid=$(cat "$TEST_DIR/exec.pid")
  [[ $pid =~ ^[0-9]+$ ]] || { echo "pid file: '$pid'" >&2; return 1; }
  pid_alive "$pid" || { echo "process $pid is not running" >&2; return 1; }
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^/probe sleep 60' || { cat "/proc/$pid/cmdline" >&2; return 1; }
  init=$(container_pid $C)
  assert_equal "$(ns_of "$pid" pid)" "$(ns_of "$init" pid)" "pid namespace"
  # ps lists it as one of the container's processes (where nook knows them)
  run nook ps --format json $C
  if [[ $status -eq 0 ]]; then
    assert_output_contains "$pid"
  fi
  kill -9 "$pid"
  wait_pid_gone "$pid"
}

@test "exec -d: a relative pid file is relative to the caller's cwd" {
  start_sleeper $C
  cd "$TEST_DIR"
  nook exec -d --pid-file rel.pid $C /probe sleep 30 </dev/null >"$TEST_DIR/d.out" 2>&1
  [[ -s $TEST_DIR/rel.pid ]] || { cat "$TEST_DIR/d.out" >&2; return 1; }
  kill -9 "$(cat "$TEST_DIR/rel.pid")"
}

# ---------------------------------------------------------------------------------------------
# Containers that do not run

@test "exec into a stopped container fails cleanly" {
  set_args /probe exit 0
  create_container $C
  run nook start $C
  assert_success
  wait_for_status $C stopped
  run nook exec $C /probe echo hi
  assert_failure 1
  assert_one_error_line "stopped"
  # nothing changed
  assert_equal "$(container_status $C)" stopped "status"
  run nook delete $C
  assert_success
}

@test "exec into a created container fails cleanly" {
  create_container $C
  run nook exec $C /probe echo hi
  assert_failure 1
  assert_one_error_line "created"
  assert_equal "$(container_status $C)" created "status"
}

@test "exec into an unknown container fails cleanly" {
  run nook exec nosuch /probe echo hi
  assert_failure 1
  assert_one_error_line "nosuch"
}

@test "exec without a command or --process is refused" {
  start_sleeper $C
  run nook exec $C
  assert_failure 1
  assert_one_error_line "command"
}

@test "exec into a paused container needs --ignore-paused" {
  start_sleeper $C
  run nook pause $C
  [[ $status -eq 0 ]] || skip "pause not available here: $output"
  run nook exec $C /probe echo hi
  assert_failure 1
  assert_one_error_line "paused"
  run nook resume $C
  assert_success
  run nook exec $C /probe echo hi
  assert_success
  assert_output "hi"
}

@test "exec: a container made with --no-pivot" {
  set_args /probe sleep 600
  create_container $C --no-pivot
  run nook start $C
  assert_success
  echo marker >"$ROOTFS/np-marker"
  run nook exec $C /probe cat /np-marker
  assert_success
  assert_output "marker"
  run nook exec $C /probe cwd-escape
  assert_success
  assert_output "/ at-root"
}

# ---------------------------------------------------------------------------------------------
# What the clients send

# client_process NAME: a client's process.json from $CONFIGS, with paths made local.
client_process() {
  local src=$CONFIGS/$1 dst=$TEST_DIR/$1
  [[ -f $src ]] || skip "$src not present"
  cp "$src" "$dst"
  is_user_mode && chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$dst"
  echo "$dst"
}

# Raising RLIMIT_NOFILE/NPROC above the caller's hard limits needs CAP_SYS_RESOURCE; the
# unprivileged user keeps the clients' values only when its limits allow them.
fit_rlimits() {
  local f=$1 tmp
  is_user_mode || return 0
  tmp=$(mktemp "$TEST_DIR/p.XXXXXX")
  jq --argjson n "$(as_user bash -c 'ulimit -Hn' | sed 's/unlimited/4194304/')" \
    --argjson u "$(as_user bash -c 'ulimit -Hu' | sed 's/unlimited/4194304/')" \
    '.rlimits |= map(if .type == "RLIMIT_NOFILE" then .hard = ([.hard, $n] | min) | .soft = ([.soft, $n] | min)
                     elif .type == "RLIMIT_NPROC" then .hard = ([.hard, $u] | min) | .soft = ([.soft, $u] | min)
                     else . end)' "$f" >"$tmp"
  cat "$tmp" >"$f"
  rm -f "$tmp"
}

@test "clients: Podman's exec (conmon: --pid-file --process --detach)" {
  local name=podman-exec-root.process.json
  is_user_mode && name=podman-exec-rootless.process.json
  local p
  p=$(client_process $name)
  fit_rlimits "$p"
  start_sleeper $C
  nook exec --pid-file "$TEST_DIR/exec.pid" --process "$p" --detach $C </dev/null >"$TEST_DIR/out" 2>"$TEST_DIR/err" ||
    { cat "$TEST_DIR/err" >&2; return 1; }
  local pid
  pid=$(cat "$TEST_DIR/exec.pid")
  wait_pid_gone "$pid"
  run cat "$TEST_DIR/out"
  assert_equal "${lines[0]}" "exec-ok uid=0" "first line"
  assert_equal "${lines[1]}" "/probe sleep 600 " "pid 1"
}

@test "clients: Podman's exec -it (--tty --console-socket --detach)" {
  local p
  p=$(client_process podman-exec-it-root.process.json)
  fit_rlimits "$p"
  start_sleeper $C
  local sock=$TEST_DIR/console.sock
  recvtty_start "$sock" "$TEST_DIR/tty.out"
  run nook exec --pid-file "$TEST_DIR/exec.pid" --process "$p" --detach --tty --console-socket "$sock" $C
  assert_success
  wait "$RECVTTY_PID" || true
  local out
  out=$(tr -d '\r' <"$TEST_DIR/tty.out")
  [[ $out == *"/dev/pts/"*"exec-tty-ok"* ]] || { printf 'recvtty got:\n%s\n' "$out" >&2; return 1; }
}

@test "clients: Podman's exec -u 1000 -w /tmp -e FOO=bar" {
  skip_in_user_mode "uid 1000 is not mapped for an unprivileged caller"
  local p
  p=$(client_process podman-exec-root-u1000-w-e.process.json)
  start_sleeper $C
  run nook exec --process "$p" $C
  assert_success
  assert_output "opts:1000:/tmp:bar"
}

@test "clients: containerd's exec (--process --detach --pid-file)" {
  local p
  p=$(client_process containerd-exec.process.json)
  fit_rlimits "$p"
  echo "ID=nooktest" >"$ROOTFS/etc/os-release"
  start_sleeper $C
  nook exec --process "$p" --detach --pid-file "$TEST_DIR/exec.pid" $C </dev/null >"$TEST_DIR/out" 2>"$TEST_DIR/err" ||
    { cat "$TEST_DIR/err" >&2; return 1; }
  wait_pid_gone "$(cat "$TEST_DIR/exec.pid")"
  run cat "$TEST_DIR/out"
  assert_output $'exec-ok\nID=nooktest'
}

@test "clients: containerd's exec in the foreground returns the program's status" {
  local p
  p=$(client_process containerd-exec.process.json)
  fit_rlimits "$p"
  echo "ID=nooktest" >"$ROOTFS/etc/os-release"
  start_sleeper $C
  run nook exec --process "$p" $C
  assert_status 7
  assert_output $'exec-ok\nID=nooktest'
}

@test "exec: the cloned process is not dumpable while it joins the container" {
  skip_in_root_mode "as root /proc/PID of the child is root's either way; only an unprivileged caller's shows the difference"
  start_sleeper $C
  NOOK_TEST_PAUSE=exec-joined exec_bg "$TEST_DIR/ex" exec $C /probe exit 0
  local child="" i p
  for ((i = 0; i < 100; i++)); do
    for p in $(pgrep -f -- "exec $C /probe exit 0"); do
      [[ $(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null) == T ]] && child=$p
    done
    [[ -z $child ]] || break
    sleep 0.1
  done
  [[ -n $child ]] || { echo "no stopped exec child: $(cat "$TEST_DIR/ex.err")" >&2; return 1; }
  # it is in the container's namespaces now; non-dumpable, its /proc entries are root's, not
  # the caller's, so the container (and the caller) cannot ptrace it or open its fds
  assert_equal "$(ns_of "$child" mnt)" "$(ns_of "$(container_pid $C)" mnt)" "mount namespace"
  assert_equal "$(stat -c %u "/proc/$child/environ")" 0 "owner of /proc/$child/environ"
  run as_user cat "/proc/$child/environ"
  assert_failure
  kill -CONT "$child"
  wait "$NOOK_BG_PID"
}
