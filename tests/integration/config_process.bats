#!/usr/bin/env bats
# Config keys, process part (docs/config-keys.md): rlimits, oomScoreAdj, scheduler, ioPriority,
# capabilities, noNewPrivileges, personality, apparmorProfile/selinuxLabel, Windows-only keys,
# execCPUAffinity. Checked from inside the container, as root and as an unprivileged user.

load ../lib/common
load config_lib

setup_file() { config_setup_file; }

# can_sys_resource: the runtime's caller holds CAP_SYS_RESOURCE (root mode; a test machine's
# root may not: then raising hard limits and lowering oom_score_adj are refused as for users).
can_sys_resource() {
  is_root_mode || return 1
  local eff
  eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  (((0x$eff >> 24) & 1))
}
setup() { config_setup; }

@test "process.rlimits: set below the hard limit; raising the hard limit needs root" {
  cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: 200}, {type: "RLIMIT_CORE", soft: 0, hard: 0}]'
  inside_sh rl1 '/probe rlimit NOFILE; /probe rlimit CORE'
  assert_success
  assert_output $'100 200\n0 0'
  local hard=$(($(ulimit -Hn) + 1))
  cfg --argjson h "$hard" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: $h}]'
  if can_sys_resource; then
    inside rl2 /probe rlimit NOFILE
    assert_output "100 $hard"
  else
    expect_create_error rl2 "setrlimit"
  fi
}

@test "process.oomScoreAdj: raised always, lowered only as root" {
  cfg '.process.oomScoreAdj = 500'
  inside oom1 /probe cat /proc/self/oom_score_adj
  assert_success
  assert_output "500"
  cfg '.process.oomScoreAdj = -500'
  if ! can_sys_resource; then
    expect_create_error oom2 "oom_score_adj"
  else
    inside oom2 /probe cat /proc/self/oom_score_adj
    assert_output "-500"
  fi
}

@test "process.scheduler: SCHED_BATCH with nice; SCHED_IDLE" {
  cfg '.process.scheduler = {policy: "SCHED_BATCH", nice: 5}'
  inside sch1 /keyprobe sched
  assert_success
  assert_output "policy SCHED_BATCH nice 5 priority 0"
  cfg '.process.scheduler = {policy: "SCHED_IDLE"}'
  inside sch2 /keyprobe sched
  assert_output "policy SCHED_IDLE nice 0 priority 0"
}

@test "process.scheduler: a real-time policy needs privilege; SCHED_ISO is refused" {
  cfg '.process.scheduler = {policy: "SCHED_RR", priority: 5}'
  if is_user_mode; then
    expect_create_error sch3 "sched_setattr"
  else
    # nook's own cgroup (cpu controller) may have no real-time budget: then refused too
    inside sch3 /keyprobe sched
    if [[ $status -eq 0 ]]; then
      assert_output "policy SCHED_RR nice 0 priority 5"
    else
      [[ $stderr == *sched_setattr* ]] || { echo "$stderr" >&2; false; }
    fi
  fi
  cfg '.process.scheduler = {policy: "SCHED_ISO"}'
  expect_create_error sch4 "SCHED_ISO"
}

@test "process.ioPriority: best-effort and idle classes; real-time needs root" {
  cfg '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 3}'
  inside io1 /keyprobe ioprio
  assert_success
  assert_output "class BE level 3"
  cfg '.process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 7}'
  inside io2 /keyprobe ioprio
  assert_output "class IDLE level 7"
  cfg '.process.ioPriority = {class: "IOPRIO_CLASS_RT", priority: 1}'
  if is_user_mode; then
    expect_create_error io3 "ioprio_set"
  else
    inside io3 /keyprobe ioprio
    assert_output "class RT level 1"
  fi
}

@test "process.capabilities: all five sets for uid 0" {
  cfg '.process.capabilities = {bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP"], effective: ["CAP_CHOWN", "CAP_KILL"], permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"], inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
  inside caps1 /probe caps
  assert_success
  assert_output $'CapInh 0000000000000400\nCapPrm 0000000000000421\nCapEff 0000000000000421\nCapBnd 0000000000000521\nCapAmb 0000000000000400'
}

@test "process.capabilities: ambient capabilities reach a non-root user" {
  cfg '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {bounding: ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"], effective: ["CAP_NET_BIND_SERVICE"], permitted: ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"], inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
  inside caps2 /probe caps
  assert_success
  assert_output $'CapInh 0000000000000400\nCapPrm 0000000000000400\nCapEff 0000000000000400\nCapBnd 0000000000000401\nCapAmb 0000000000000400'
}

@test "process.capabilities: an unknown name is ignored with a warning" {
  cfg '.process.capabilities.bounding += ["CAP_NOT_A_CAP"]'
  inside caps3 /probe caps
  assert_success
  [[ $stderr == *'unknown capability "CAP_NOT_A_CAP"'* ]] || { echo "$stderr" >&2; false; }
}

@test "process.noNewPrivileges: true sets no_new_privs" {
  cfg '.process.noNewPrivileges = true'
  inside nnp1 /probe nnp
  assert_success
  assert_output "NoNewPrivs 1"
}

@test "process.noNewPrivileges: false leaves it unset" {
  cfg '.process.noNewPrivileges = false'
  inside nnp2 /probe nnp
  assert_success
  assert_output "NoNewPrivs 0"
}

@test "linux.personality: LINUX32 changes the machine uname reports; LINUX is the default" {
  cfg '.linux.personality = {domain: "LINUX32"}'
  inside pers1 /keyprobe personality
  assert_success
  assert_output "persona 0x8 machine i686"
  cfg '.linux.personality = {domain: "LINUX"}'
  inside pers2 /keyprobe personality
  assert_output "persona 0x0 machine x86_64"
}

@test "linux.personality: flags and unknown domains are refused" {
  cfg '.linux.personality = {domain: "LINUX", flags: ["ADDR_NO_RANDOMIZE"]}'
  expect_create_error pers3 "personality"
  cfg '.linux.personality = {domain: "SVR4"}'
  expect_create_error pers4 "unknown domain"
}

@test "process.apparmorProfile, selinuxLabel, linux.mountLabel: ignored with a warning when the LSM is off" {
  [[ -e /sys/module/apparmor/parameters/enabled ]] && grep -q Y /sys/module/apparmor/parameters/enabled &&
    skip "AppArmor is enabled on this host (nook refuses the profile: see the next test)"
  cfg '.process.apparmorProfile = "nook-test" | .process.selinuxLabel = "system_u:system_r:container_t:s0" | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  inside lsm1 /probe cat /proc/self/attr/current
  assert_success
  [[ $stderr == *"apparmorProfile ignored"* && $stderr == *"selinuxLabel"* ]] || { echo "$stderr" >&2; false; }
}

@test "process.apparmorProfile: refused when AppArmor is enabled" {
  [[ -e /sys/module/apparmor/parameters/enabled ]] && grep -q Y /sys/module/apparmor/parameters/enabled ||
    skip "AppArmor is not enabled on this host (see the previous test)"
  cfg '.process.apparmorProfile = "nook-test"'
  expect_create_error lsm2 "AppArmor"
}

@test "process.commandLine and process.user.username (Windows only): ignored with a warning" {
  cfg '.process.commandLine = "cmd.exe /c" | .process.user.username = "Administrator"'
  inside win1 /probe uid
  assert_success
  [[ $stderr == *"commandLine ignored"* && $stderr == *"username ignored"* ]] || { echo "$stderr" >&2; false; }
}

@test "process.execCPUAffinity: accepted; it does not apply to the container's init" {
  cfg '.process.execCPUAffinity = {initial: "0", final: "0-1"}'
  inside aff1 /probe cat /proc/self/status
  assert_success
}

@test "process.terminal and consoleSize: a pty of that size through the console socket" {
  cfg '.process.terminal = true | .process.consoleSize = {height: 33, width: 101}'
  set_args /probe winsize
  run nook run --bundle "$BUNDLE" tty1
  # without --console-socket in the foreground nook proxies the terminal itself
  assert_success
  assert_output_matches '33 101'
}
