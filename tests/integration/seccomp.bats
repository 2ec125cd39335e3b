#!/usr/bin/env bats
# linux.seccomp (issue 4): every action, errnoRet, argument conditions, flags, architectures,
# refusals at create time, and the profiles Buildah and Podman really send; seccomp notify
# (issue 17) with a real agent (tests/helper/seccompagent.c). Checked from
# inside the container with /sysprobe (tests/helper/sysprobe.c).

load ../lib/common

SHARED_CONFIGS=${NOOK_SHARED_CONFIGS:-$NOOK_REPO_DIR/tests/configs}

setup_file() {
  common_setup_file
  _build_helper sysprobe NOOK_SYSPROBE
  _build_helper seccompagent NOOK_SECCOMPAGENT
}

setup() {
  common_setup
  cfg '.root.readonly = false'  # the tests make directories
  install -m 0755 "$NOOK_SYSPROBE" "$ROOTFS/sysprobe"
  if is_user_mode; then chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$ROOTFS/sysprobe"; fi
}

teardown() {
  stop_agent
  common_teardown
}
teardown_file() { common_teardown_file; }

# set_seccomp JSON: linux.seccomp = JSON
set_seccomp() { cfg --argjson s "$1" '.linux.seccomp = $s'; }

# deny_mkdir [EXTRA_RULE_FIELDS]: allow everything but mkdir/mkdirat
deny_mkdir() {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [
    {\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\" ${1:+, $1}}]}"
}

# client_profile: the seccomp object Buildah sends (Podman's is the same containers-common one)
client_profile() {
  local f=$SHARED_CONFIGS/buildah-bud-rootless-RUN1.config.json
  [[ -f $f ]] || { echo "Buildah's config.json is missing: $f" >&2; return 1; }
  jq -c .linux.seccomp "$f"
}

@test "seccomp: errnoRet 38 makes mkdir fail with ENOSYS inside" {
  deny_mkdir '"errnoRet": 38'
  set_args /sysprobe mkdir /tmp/d 0755 , exists /tmp/d
  run nook run --bundle "$BUNDLE" sc-enosys
  assert_status 1
  assert_output $'ENOSYS\nno'
  # and busybox's mkdir reports the same
  set_args mkdir /tmp/d
  run nook run --bundle "$BUNDLE" sc-enosys2
  assert_failure
  assert_output_contains "Function not implemented"
}

@test "seccomp: SCMP_ACT_ERRNO without errnoRet is EPERM" {
  deny_mkdir
  set_args /sysprobe mkdir /tmp/d 0755
  run nook run --bundle "$BUNDLE" sc-eperm
  assert_output "EPERM"
}

@test "seccomp: ERRNO default action, with and without defaultErrnoRet" {
  local p
  p=$(client_profile)
  # Buildah's profile without its allow entries for mkdir/mkdirat: the default action
  # (ERRNO, defaultErrnoRet 38) applies to them.
  set_seccomp "$(jq -c '.syscalls |= map(.names -= ["mkdir", "mkdirat"])' <<<"$p")"
  set_args /sysprobe mkdir /tmp/d 0755 , mkdir /tmp 0755
  run nook run --bundle "$BUNDLE" sc-default1
  assert_output $'ENOSYS\nENOSYS'
  # The same without defaultErrnoRet: EPERM.
  set_seccomp "$(jq -c '.syscalls |= map(.names -= ["mkdir", "mkdirat"]) | del(.defaultErrnoRet)' <<<"$p")"
  run nook run --bundle "$BUNDLE" sc-default2
  assert_output $'EPERM\nEPERM'
}

@test "seccomp: argument conditions (EQ, MASKED_EQ, NE on one argument)" {
  # mkdir(path, mode): mode is argument 1, mkdirat's is argument 2.
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
    {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 2, "value": 448, "op": "SCMP_CMP_EQ"}]},
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 36,
     "args": [{"index": 1, "value": 2, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 36,
     "args": [{"index": 2, "value": 2, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
  set_args /sysprobe mkdir /tmp/a 0700 , mkdir /tmp/b 0777 , mkdir /tmp/c 0755 , mkdir /tmp/d 0750
  run nook run --bundle "$BUNDLE" sc-args
  assert_output $'EACCES\nENAMETOOLONG\nok\nok'
}

@test "seccomp: LT, LE, GT, GE and NE" {
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 1, "value": 256, "op": "SCMP_CMP_LT"}]},
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 36,
     "args": [{"index": 1, "value": 500, "op": "SCMP_CMP_GT"}]}]}'
  # 0400=256, 0500=320, 0755=493, 0764=500, 0765=501
  set_args /sysprobe mkdir /tmp/a 0377 , mkdir /tmp/b 0400 , mkdir /tmp/c 0764 , mkdir /tmp/d 0765
  run nook run --bundle "$BUNDLE" sc-ltgt
  assert_output $'EACCES\nok\nok\nENAMETOOLONG'
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 1, "value": 256, "op": "SCMP_CMP_LE"}]},
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 36,
     "args": [{"index": 1, "value": 500, "op": "SCMP_CMP_GE"}]}]}'
  set_args /sysprobe mkdir /tmp/a2 0377 , mkdir /tmp/b2 0400 , mkdir /tmp/c2 0763 , mkdir /tmp/d2 0764
  run nook run --bundle "$BUNDLE" sc-lege
  assert_output $'EACCES\nEACCES\nok\nENAMETOOLONG'
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 1, "value": 493, "op": "SCMP_CMP_NE"}]}]}'
  set_args /sysprobe mkdir /tmp/a3 0700 , mkdir /tmp/b3 0755
  run nook run --bundle "$BUNDLE" sc-ne
  assert_output $'EACCES\nok'
}

@test "seccomp: SCMP_ACT_KILL_PROCESS, KILL and TRAP end the program with SIGSYS" {
  local act i=0
  remove_namespace pid  # PID 1 of a PID namespace is not killed by signals it ignores
  for act in SCMP_ACT_KILL_PROCESS SCMP_ACT_KILL SCMP_ACT_KILL_THREAD SCMP_ACT_TRAP; do
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [
      {\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"$act\"}]}"
    set_args /sysprobe mkdir /tmp/d 0755
    run nook run --bundle "$BUNDLE" sc-kill$((i++))
    echo "$act" >&2
    assert_status 159  # 128 + SIGSYS
  done
}

@test "seccomp: SCMP_ACT_LOG and SCMP_ACT_TRACE without a tracer" {
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_LOG"},
    {"names": ["rmdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 1}]}'
  set_args /sysprobe mkdir /tmp/d 0755 , exists /tmp/d
  run nook run --bundle "$BUNDLE" sc-log
  assert_output $'ok\nyes'
  # With no tracer attached the kernel fails a traced call with ENOSYS.
  set_args sh -c 'mkdir /tmp/e && rmdir /tmp/e; echo $?'
  run nook run --bundle "$BUNDLE" sc-trace
  assert_output_contains "Function not implemented"
}

@test "seccomp: flags TSYNC, LOG and SPEC_ALLOW load" {
  runtime_is_runc && skip "runc words its errors differently or lacks the feature"
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
    "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
  set_args /sysprobe mkdir /tmp/d 0755
  run nook run --bundle "$BUNDLE" sc-flags
  assert_output "ENOSYS"
}

@test "seccomp: architectures list is honoured" {
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
  set_args /sysprobe mkdir /tmp/d 0755
  run nook run --bundle "$BUNDLE" sc-arch
  assert_output "ENOSYS"
}

@test "seccomp: the filter is in place, in filter mode" {
  deny_mkdir
  set_args /sysprobe seccomp
  run nook run --bundle "$BUNDLE" sc-mode
  assert_success
  # Mode 2 (filter); one filter unless root emulation stacks its own under it.
  assert_output_matches '^2 [12]$'
}

@test "seccomp: no profile, no root emulation: no filter at all" {
  runtime_is_runc || cfg '.annotations["run.nook.root-emulation"] = "false"'
  set_args /sysprobe seccomp
  run nook run --bundle "$BUNDLE" sc-none
  assert_success
  assert_output "0 0"
}

@test "seccomp: Buildah's and Podman's real profiles load and /bin/sh works" {
  local f n=0
  [[ -d $SHARED_CONFIGS ]] || { echo "no client configs in $SHARED_CONFIGS" >&2; return 1; }
  for f in "$SHARED_CONFIGS"/buildah-*.config.json "$SHARED_CONFIGS"/podman-*.config.json; do
    set_seccomp "$(jq -c .linux.seccomp "$f")"
    set_args /bin/sh -c 'echo hello from $0; ls / >/dev/null && rm -rf /tmp/x && mkdir /tmp/x && echo made'
    run nook run --bundle "$BUNDLE" "sc-client$((n++))"
    echo "profile of $f" >&2
    assert_success
    assert_output $'hello from /bin/sh\nmade'
  done
  # The profile's own denials apply: sethostname is ERRNO(EPERM) in it.
  set_args /sysprobe sethostname inside , seccomp
  run nook run --bundle "$BUNDLE" sc-client-deny
  assert_output_matches $'^EPERM\n2 [12]$'
}

@test "seccomp: filters come after nook's own set-up (mount, pivot_root, sethostname denied)" {
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mount", "umount2", "pivot_root", "sethostname", "chroot", "mkdir", "mkdirat",
               "symlink", "symlinkat", "unshare", "setns", "prctl"],
     "action": "SCMP_ACT_ERRNO"}]}'
  cfg '.hostname = "sc-host"'
  add_namespace uts
  set_args /probe hostname
  run nook run --bundle "$BUNDLE" sc-late
  assert_success
  assert_output "sc-host"
}

@test "seccomp: a filter denying what the cwd and program checks use still starts (issue 17)" {
  # Nothing the filter can deny may run after it is loaded but the final execve. Without
  # noNewPrivileges the filter goes in early (it needs CAP_SYS_ADMIN): the cwd and program
  # checks must run before it; with noNewPrivileges it goes in after them.
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["getcwd", "chdir", "fchdir", "newfstatat", "faccessat", "faccessat2", "access"],
     "action": "SCMP_ACT_ERRNO"}]}'
  local nnp
  for nnp in false true; do
    cfg --argjson n "$nnp" '.process.noNewPrivileges = $n | .process.cwd = "/tmp"'
    set_args /probe echo started
    run nook run --bundle "$BUNDLE" sc-cwd-$nnp
    assert_success
    assert_output "started"
  done
}

@test "seccomp: with noNewPrivileges the profile loads too" {
  cfg '.process.noNewPrivileges = true'
  deny_mkdir '"errnoRet": 38'
  set_args /sysprobe mkdir /tmp/d 0755
  run nook run --bundle "$BUNDLE" sc-nnp
  assert_output "ENOSYS"
}

@test "seccomp: a non-root process.user gets the profile" {
  skip_in_user_mode "only one ID is mapped"
  cfg '.process.user = {uid: 1000, gid: 1000}'
  deny_mkdir '"errnoRet": 38'
  set_args /sysprobe mkdir /tmp/d 0755 , ids
  run nook run --bundle "$BUNDLE" sc-user
  assert_output $'ENOSYS\n1000 1000 1000 1000 1000 1000 groups:'
}

@test "seccomp: unknown action refused at create, naming file and pointer" {
  runtime_is_runc && skip "runc words its errors differently or lacks the feature"
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]}'
  nook_create sc-bad1
  assert_failure
  assert_one_error_line '/linux/seccomp/syscalls/1/action: unknown action "SCMP_ACT_FOO"'
  assert_output_contains "config.json"
  assert_no_container sc-bad1
}

# --- Seccomp notify: SCMP_ACT_NOTIFY, listenerPath, listenerMetadata ----------------------------
# The agent is tests/helper/seccompagent.c: it writes what it received per connection N
# (state.N.json, fds.N) and one line per notification it answered (log), and answers as
# listenerMetadata says ("answer=fake", "answer=errno:E", "answer=continue").

# start_agent: the agent listening on $AGENT_SOCK, its files in $AGENT_DIR, $AGENT_PID.
start_agent() {
  AGENT_DIR=$TEST_DIR/agent
  AGENT_SOCK=$AGENT_DIR/agent.sock
  mkdir -p "$AGENT_DIR"
  chmod 0755 "$AGENT_DIR"
  "$NOOK_SECCOMPAGENT" "$AGENT_SOCK" "$AGENT_DIR" </dev/null >"$AGENT_DIR/out" 2>&1 &
  AGENT_PID=$!
  wait_for_file "$AGENT_DIR/ready"
}

stop_agent() {
  [[ -n ${AGENT_PID:-} ]] || return 0
  kill "$AGENT_PID" 2>/dev/null || true
  wait "$AGENT_PID" 2>/dev/null || true
  AGENT_PID=
}

# notify_mkdir METADATA [LISTENER_PATH]: mkdir and mkdirat go to the agent
notify_mkdir() {
  set_seccomp "$(jq -cn --arg m "$1" --arg p "${2:-$AGENT_SOCK}" '{defaultAction: "SCMP_ACT_ALLOW",
    listenerPath: $p, listenerMetadata: $m,
    syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}')"
}

# agent_log_pid N: the PID of the first call the agent answered on connection N
agent_log_pid() { sed -n "s/^$1 pid=\([0-9]*\) .*/\1/p" "$AGENT_DIR/log" | head -1; }

@test "seccomp notify: the agent gets the state and the listener, and fakes mkdir" {
  start_agent
  notify_mkdir answer=fake
  set_args /sysprobe mkdir /tmp/d 0755 , exists /tmp/d
  run nook run --bundle "$BUNDLE" sc-notify
  stop_agent
  # mkdir "succeeded" without the directory appearing: the agent answered, not the kernel
  assert_success
  assert_output $'ok\nno'
  # containerProcessState, runtime-spec runtime.md; the listener came with it
  local s=$AGENT_DIR/state.1.json
  cat "$s"
  jq -e . "$s" >/dev/null
  assert_equal "$(jq -c .fds "$s")" '["seccompFd"]' fds
  assert_equal "$(jq -r .metadata "$s")" answer=fake metadata
  [[ $(jq -r .ociVersion "$s") =~ ^1\.[0-9]+\.[0-9]+ ]] || { echo "ociVersion: $(jq .ociVersion "$s")" >&2; return 1; }
  assert_equal "$(jq -r .state.ociVersion "$s")" "$(jq -r .ociVersion "$s")" "state ociVersion"
  assert_equal "$(jq -r .state.id "$s")" sc-notify id
  assert_equal "$(jq -r .state.status "$s")" creating status
  assert_equal "$(jq -r .state.bundle "$s")" "$(realpath "$BUNDLE")" bundle
  local pid
  pid=$(jq -r .pid "$s")
  [[ $pid =~ ^[0-9]+$ && $pid -gt 1 ]] || { echo "pid: $pid" >&2; return 1; }
  assert_equal "$(jq -r .state.pid "$s")" "$pid" "state pid"
  assert_equal "$(cat "$AGENT_DIR/fds.1")" $'1\nanon_inode:seccomp notify' "descriptors received"
  # the call the agent answered is the container program's, with its argument
  cat "$AGENT_DIR/log"
  grep -qE "^1 pid=$pid nr=[0-9]+ path=/tmp/d answer=fake$" "$AGENT_DIR/log"
  # one connection only
  [[ ! -e $AGENT_DIR/state.2.json ]]
}

@test "seccomp notify: the agent's errno and continue reach the program, with and without noNewPrivileges" {
  start_agent
  local nnp n=0
  for nnp in false true; do
    cfg ".process.noNewPrivileges = $nnp"
    n=$((n + 1))
    notify_mkdir answer=errno:18
    set_args /sysprobe mkdir /tmp/d 0755 , exists /tmp/d
    run nook run --bundle "$BUNDLE" sc-errno-$nnp
    assert_status 1
    assert_output $'EXDEV\nno'
    assert_equal "$(jq -r .metadata "$AGENT_DIR/state.$n.json")" answer=errno:18 metadata
    n=$((n + 1))
    notify_mkdir answer=continue
    run nook run --bundle "$BUNDLE" sc-cont-$nnp
    assert_success
    assert_output $'ok\nyes'
    grep -q "^$n pid=.* path=/tmp/d answer=continue$" "$AGENT_DIR/log"
    rm -rf "$ROOTFS/tmp/d"  # the kernel made it: the next round starts without it
  done
  stop_agent
}

@test "seccomp notify: with TSYNC and WAIT_KILLABLE_RECV the listener works" {
  start_agent
  notify_mkdir answer=errno:18
  cfg '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]'
  set_args /sysprobe mkdir /tmp/d 0755
  run nook run --bundle "$BUNDLE" sc-flags
  stop_agent
  assert_status 1
  assert_output EXDEV
  grep -q "^1 pid=.* path=/tmp/d answer=errno:18$" "$AGENT_DIR/log"
}

@test "seccomp notify: nook exec --process hands the exec'd process's listener over, state running" {
  start_agent
  notify_mkdir answer=errno:18
  set_args sleep 1000
  create_container sc-nx
  run nook start sc-nx
  assert_success
  local init_pid
  init_pid=$(container_pid sc-nx)
  jq '.process | .args = ["/sysprobe", "mkdir", "/tmp/e", "0755", ",", "exists", "/tmp/e"] | .terminal = false' \
    "$BUNDLE/config.json" >"$TEST_DIR/process.json"
  run nook exec --process "$TEST_DIR/process.json" sc-nx
  assert_status 1
  assert_output $'EXDEV\nno'
  # connection 1: create (creating, the container's process); 2: exec
  assert_equal "$(jq -r .state.status "$AGENT_DIR/state.1.json")" creating "create status"
  assert_equal "$(jq -r .pid "$AGENT_DIR/state.1.json")" "$init_pid" "create pid"
  local s=$AGENT_DIR/state.2.json
  cat "$s"
  assert_equal "$(jq -c .fds "$s")" '["seccompFd"]' fds
  assert_equal "$(jq -r .state.status "$s")" running "exec status"
  assert_equal "$(jq -r .state.pid "$s")" "$init_pid" "exec state.pid"
  local pid
  pid=$(jq -r .pid "$s")
  [[ $pid =~ ^[0-9]+$ && $pid != "$init_pid" ]] || { echo "exec pid: $pid" >&2; return 1; }
  assert_equal "$(agent_log_pid 2)" "$pid" "pid of the answered call"
  grep -q "^2 pid=$pid .* path=/tmp/e answer=errno:18$" "$AGENT_DIR/log"
  run nook delete --force sc-nx
  stop_agent
}

@test "seccomp notify: the listener stays in neither the container's program nor nook" {
  start_agent
  notify_mkdir answer=fake
  set_args /bin/sh -c 'ls -l /proc/$$/fd/; mkdir /tmp/x; sleep 1000'
  nook_bg "$TEST_DIR/run" run --bundle "$BUNDLE" sc-leak
  # the agent answered the mkdir that follows the listing: the listing is complete
  local i
  for ((i = 0; i < 150; i++)); do
    grep -q "^1 pid=.* path=/tmp/x " "$AGENT_DIR/log" 2>/dev/null && break
    sleep 0.1
  done
  cat "$TEST_DIR/run.out" "$TEST_DIR/run.err"
  grep -q "path=/tmp/x" "$AGENT_DIR/log"
  assert_equal "$(cat "$AGENT_DIR/fds.1")" $'1\nanon_inode:seccomp notify' "the agent's"
  grep -q -- "-> " "$TEST_DIR/run.out"  # ls -l did list the descriptors
  if grep seccomp "$TEST_DIR/run.out"; then echo "the program holds the listener" >&2; return 1; fi
  # nook run, still waiting for the program, holds no copy either
  local held
  held=$(ls -l "/proc/$NOOK_BG_PID/fd/")
  echo "$held"
  [[ $held == *" -> "* ]]
  if [[ $held == *seccomp* ]]; then echo "nook run holds the listener" >&2; return 1; fi
  kill -9 "$NOOK_BG_PID" 2>/dev/null || true
  stop_agent
}

@test "seccomp notify: an unreachable listenerPath fails create, leaving nothing behind" {
  runtime_is_runc && skip "runc words its errors differently"
  notify_mkdir answer=fake "$TEST_DIR/nobody.sock"
  set_args sleep 1000
  nook_create sc-nosock
  assert_failure
  assert_one_error_line "connect seccomp agent $TEST_DIR/nobody.sock (linux.seccomp.listenerPath): No such file or directory"
  assert_no_container sc-nosock
  assert_state_root_empty
  # a socket nobody listens on any more
  start_agent
  stop_agent
  notify_mkdir answer=fake
  run nook run --bundle "$BUNDLE" sc-refused
  assert_failure
  assert_one_error_line "connect seccomp agent $AGENT_SOCK (linux.seccomp.listenerPath): Connection refused"
  assert_no_container sc-refused
  assert_state_root_empty
  [[ -z $(pids_rooted_under "$ROOTFS") ]] || { echo "processes left: $(pids_rooted_under "$ROOTFS")" >&2; return 1; }
}

@test "seccomp notify: refused without listenerPath, with a relative one, as default action, on sendmsg" {
  runtime_is_runc && skip "runc words its errors differently"
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
  nook_create sc-n1
  assert_failure
  assert_one_error_line '/linux/seccomp/syscalls/0/action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath'
  assert_no_container sc-n1
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "agent.sock", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
  nook_create sc-n2
  assert_failure
  assert_one_error_line '/linux/seccomp/listenerPath: must be an absolute path, not "agent.sock"'
  set_seccomp '{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"}'
  nook_create sc-n3
  assert_failure
  assert_one_error_line '/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action'
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock", "syscalls": [
    {"names": ["mkdir", "sendmsg"], "action": "SCMP_ACT_NOTIFY"}]}'
  nook_create sc-n4
  assert_failure
  assert_one_error_line '/linux/seccomp/syscalls/0/names/1: SCMP_ACT_NOTIFY cannot apply to sendmsg'
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}'
  nook_create sc-n5
  assert_failure
  assert_one_error_line '/linux/seccomp/flags/0: SECCOMP_FILTER_FLAG_NEW_LISTENER needs linux.seccomp.listenerPath'
  assert_state_root_empty
}

@test "seccomp notify: listenerPath without a SCMP_ACT_NOTIFY rule sends nothing" {
  start_agent
  set_seccomp "$(jq -cn --arg p "$AGENT_SOCK" '{defaultAction: "SCMP_ACT_ALLOW", listenerPath: $p,
    listenerMetadata: "x"}')"
  set_args /sysprobe mkdir /tmp/d 0755 , exists /tmp/d
  run nook run --bundle "$BUNDLE" sc-nolistener
  stop_agent
  assert_success
  assert_output $'ok\nyes'
  [[ ! -e $AGENT_DIR/state.1.json ]]
}

@test "seccomp: unknown operator, architecture and flag refused" {
  runtime_is_runc && skip "runc words its errors differently or lacks the feature"
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
     "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_ALMOST"}]}]}'
  nook_create sc-badop
  assert_failure
  assert_one_error_line '/linux/seccomp/syscalls/0/args/0/op: unknown operator "SCMP_CMP_ALMOST"'
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PDP11"]}'
  nook_create sc-badarch
  assert_failure
  assert_one_error_line '/linux/seccomp/architectures/0: unknown architecture "SCMP_ARCH_PDP11"'
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}'
  nook_create sc-badflag
  assert_failure
  assert_one_error_line '/linux/seccomp/flags/0: unknown flag "SECCOMP_FILTER_FLAG_FAST"'
}

@test "seccomp: errnoRet on an action that takes none is refused" {
  runtime_is_runc && skip "runc words its errors differently or lacks the feature"
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mkdir"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}'
  nook_create sc-errnokill
  assert_failure
  assert_one_error_line '/linux/seccomp/syscalls/0/errnoRet'
}

@test "seccomp: an unknown syscall name is skipped with a warning" {
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["no_such_syscall", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
  set_args /sysprobe mkdir /tmp/d 0755
  run --separate-stderr nook run --bundle "$BUNDLE" sc-unknown
  assert_output "ENOSYS"
  runtime_is_runc && return 0
  [[ $stderr == *'/linux/seccomp/syscalls/0/names/0: unknown system call "no_such_syscall" skipped'* ]] ||
    { echo "no warning on stderr: $stderr" >&2; return 1; }
}
