#!/usr/bin/env bats
# Config keys, namespaces part (docs/config-keys.md): linux.namespaces (each type, join by path,
# errors), uidMappings/gidMappings, timeOffsets, hostname, domainname, linux.sysctl.
# Checked from inside the container, as root and as an unprivileged user.

load ../lib/common
load config_lib

setup_file() { config_setup_file; }
setup() { config_setup; }

host_ns() { stat -L -c %i "/proc/self/ns/$1"; }

@test "namespaces: pid (the program is PID 1) and none (the host's)" {
  inside pid1 /probe pid
  assert_success
  assert_output "1"
  remove_namespace pid
  inside pid2 /keyprobe ns pid
  assert_success
  assert_output "$(host_ns pid)"
}

@test "namespaces: network (a new one has only lo, and lo is up) and none (the host's)" {
  add_namespace network
  inside_sh net1 '/keyprobe lo; /probe cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "'
  assert_success
  assert_output $'up\nlo'
  remove_namespace network
  inside net2 /keyprobe ns net
  assert_success
  assert_output "$(host_ns net)"
}

@test "namespaces: ipc (own) and none (the host's)" {
  add_namespace ipc
  inside ipc1 /keyprobe ns ipc
  assert_success
  [[ $output != "$(host_ns ipc)" ]]
  remove_namespace ipc
  # without an IPC namespace of its own the container uses the host's message queues
  cfg '.mounts |= map(select(.destination != "/dev/mqueue"))'
  inside ipc2 /keyprobe ns ipc
  assert_output "$(host_ns ipc)"
}

@test "namespaces: uts with hostname and domainname" {
  cfg '.hostname = "keyhost" | .domainname = "key.example"'
  inside_sh uts1 '/probe hostname; /keyprobe domainname; /keyprobe ns uts'
  assert_success
  local lines
  mapfile -t lines <<<"$output"
  assert_equal "${lines[0]}" keyhost hostname
  assert_equal "${lines[1]}" key.example domainname
  [[ ${lines[2]} != "$(host_ns uts)" ]]
  [[ $(hostname) != keyhost ]]
}

@test "namespaces: hostname or domainname without a uts namespace is refused" {
  remove_namespace uts
  cfg '.hostname = "keyhost"'
  expect_create_error uts2 "uts namespace"
  cfg '.hostname = "" | .domainname = "key.example"'
  expect_create_error uts3 "uts namespace"
  [[ $(hostname) != keyhost ]]
}

@test "namespaces: user (root: the config's mappings; unprivileged: single-ID)" {
  if is_user_mode; then
    inside user1 /probe cat /proc/self/uid_map
    assert_success
    assert_output_matches "^ +0 +$NOOK_AS_USER_UID +1$"
    # mappings the caller cannot grant are replaced by the single-ID map, with one warning
    # line naming both (issue 17), without --debug
    cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    set_args /probe cat /proc/self/gid_map
    run --separate-stderr nook run --bundle "$BUNDLE" user2
    assert_success
    assert_output_matches "^ +0 +$NOOK_AS_USER_GID +1$"
    assert_equal "$stderr" "nook: warning: linux.uidMappings [0 100000 65536] and gidMappings [0 100000 65536] replaced by [0 $NOOK_AS_USER_UID 1] and [0 $NOOK_AS_USER_GID 1]: an unprivileged caller maps only its own IDs (the single-ID user namespace)" "stderr"
  else
    chmod 0755 "$ROOTFS"
    add_namespace user
    cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
    inside_sh user1 '/probe cat /proc/self/uid_map; /probe cat /proc/self/gid_map'
    assert_success
    assert_output_matches $'^ +0 +100000 +65536\n +0 +200000 +65536$'
    remove_namespace user
    cfg 'del(.linux.uidMappings) | del(.linux.gidMappings)'
    inside user2 /probe cat /proc/self/uid_map
    assert_output_matches '^ +0 +0 +4294967295$'
  fi
}

@test "namespaces: uidMappings without a user namespace, or with a joined one, are refused" {
  remove_namespace user
  cfg '.linux.uidMappings = [{containerID: 0, hostID: 1000, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 1000, size: 1}]'
  expect_create_error map1 "no user namespace"
  cfg '.linux.namespaces += [{type: "user", path: "/proc/self/ns/user"}]'
  expect_create_error map2 "joined by path"
}

@test "namespaces: cgroup (the container's cgroup is its root)" {
  add_namespace cgroup
  inside_sh cg1 '/keyprobe ns cgroup; /probe cat /proc/self/cgroup | cut -d: -f3 | sort -u'
  assert_success
  local lines
  mapfile -t lines <<<"$output"
  [[ ${lines[0]} != "$(host_ns cgroup)" ]]
  assert_equal "${lines[1]}" "/" "cgroup paths inside"
}

@test "namespaces: time with timeOffsets for monotonic and boottime" {
  add_namespace time
  cfg '.linux.timeOffsets = {monotonic: {secs: 86400000}, boottime: {secs: 172800000, nanosecs: 5}}'
  local m b
  read -r _ m _ b < <("$NOOK_KEYPROBE" clocks)
  inside time1 /keyprobe clocks
  assert_success
  local im ib
  read -r _ im _ ib <<<"$output"
  ((im >= m + 86400000 && im < m + 86400000 + 120)) || { echo "monotonic $im vs host $m" >&2; false; }
  ((ib >= b + 172800000 && ib < b + 172800000 + 120)) || { echo "boottime $ib vs host $b" >&2; false; }
}

@test "namespaces: timeOffsets without a time namespace, or with a joined one, are refused" {
  cfg '.linux.timeOffsets = {monotonic: {secs: 10}}'
  expect_create_error time2 "time namespace"
  cfg '.linux.namespaces += [{type: "time", path: "/proc/self/ns/time"}]'
  expect_create_error time3 "joined by path"
}

# What a config without a mount namespace may not have: each would change the host's mounts.
no_mount_ns() {
  cfg '.linux.namespaces = [] | del(.hostname, .domainname, .linux.uidMappings, .linux.gidMappings, .mounts, .linux.maskedPaths, .linux.readonlyPaths, .linux.devices, .linux.rootfsPropagation) | .root.readonly = false | .process.terminal = false'
}

@test "namespaces: none at all: the container shares nook's and is chrooted into its rootfs" {
  no_mount_ns
  [[ ! -e /etc/nook-test-marker ]] || skip "the host has /etc/nook-test-marker: cannot tell it from the rootfs's"
  # the program is the rootfs's, reads the rootfs's files, and its exit code is run's
  inside_sh none1 'cat /etc/nook-test-marker; exit 7'
  assert_equal "$status" 7 "exit code"
  assert_output "nook test rootfs"
  # created, then running: the host's mount namespace, the rootfs as its root; state, exec,
  # kill and delete work as for any container
  set_args /bin/sleep 100
  create_container none2
  local pid
  pid=$(container_pid none2)
  assert_equal "$(jq -r .status <<<"$(nook state none2)")" created status
  assert_equal "$(readlink /proc/$pid/ns/mnt)" "$(readlink /proc/self/ns/mnt)" "mount namespace"
  assert_equal "$(readlink /proc/$pid/root)" "$ROOTFS" "root"
  is_user_mode || assert_equal "$(readlink /proc/$pid/ns/user)" "$(readlink /proc/self/ns/user)" "user namespace"
  run nook start none2
  assert_success
  assert_equal "$(jq -r .status <<<"$(nook state none2)")" running status
  run nook exec none2 cat /etc/nook-test-marker
  assert_success
  assert_output "nook test rootfs"
  # nothing of nook's reaches the program (a directory descriptor would lead out of the
  # chroot): its descriptors are stdio only
  assert_equal "$(ls /proc/$pid/fd | sort -n | tr '\n' ' ')" "0 1 2 " "the program's descriptors"
  run nook kill none2 KILL
  assert_success
  wait_for_status none2 stopped
  run nook delete none2
  assert_success
  assert_no_container none2
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "mounts left in the test directory"
}

@test "namespaces: without a mount namespace, what would change the host's mounts is refused" {
  no_mount_ns
  cfg '.mounts = [{destination: "/tmp", type: "tmpfs", source: "tmpfs"}]'
  expect_create_error mnt1 "/mounts: mounts needs a mount namespace in linux.namespaces: without one the container shares nook's and this would change the host's mounts"
  no_mount_ns
  cfg '.root.readonly = true'
  expect_create_error mnt2 "/root/readonly: a read-only root needs a mount namespace"
  no_mount_ns
  cfg '.linux.maskedPaths = ["/proc/kcore"]'
  expect_create_error mnt3 "/linux/maskedPaths: maskedPaths needs a mount namespace"
  no_mount_ns
  cfg '.linux.readonlyPaths = ["/proc/sys"]'
  expect_create_error mnt4 "/linux/readonlyPaths: readonlyPaths needs a mount namespace"
  no_mount_ns
  cfg '.linux.rootfsPropagation = "private"'
  expect_create_error mnt5 "/linux/rootfsPropagation: rootfsPropagation needs a mount namespace"
  no_mount_ns
  cfg '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229}]'
  expect_create_error mnt6 "/linux/devices: device nodes need a mount namespace"
  no_mount_ns
  cfg '.process.terminal = true'
  expect_create_error mnt7 "/process/terminal: a terminal needs a mount namespace"
  # the same with other namespaces and only mount missing
  cfg '.process.terminal = false | .linux.namespaces = [{type: "pid"}, {type: "ipc"}, {type: "uts"}] | .mounts = [{destination: "/proc", type: "proc", source: "proc"}]'
  expect_create_error mnt8 "/mounts: mounts needs a mount namespace"
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "mounts left in the test directory"
}

@test "namespaces: a type given twice is refused" {
  cfg '.linux.namespaces += [{type: "ipc"}, {type: "ipc"}]'
  expect_create_error dup1 "given twice"
}

@test "namespaces: a path to the wrong kind of namespace, or to no namespace, is refused" {
  cfg '.linux.namespaces |= map(select(.type != "ipc")) | .linux.namespaces += [{type: "ipc", path: "/proc/self/ns/net"}]'
  expect_create_error wrong1 "not a ipc namespace"
  cfg '.linux.namespaces |= map(select(.type != "ipc")) | .linux.namespaces += [{type: "ipc", path: "/etc/hostname"}]'
  expect_create_error wrong2 "not a namespace"
  cfg '.linux.namespaces |= map(select(.type != "ipc")) | .linux.namespaces += [{type: "ipc", path: "/nonexistent/ns"}]'
  expect_create_error wrong3 "/nonexistent/ns"
}

@test "namespaces: joining network, ipc and uts namespaces by path" {
  add_namespace network
  cfg '.hostname = "first"'
  set_args /probe sleep 60
  create_container first
  local pid
  pid=$(container_pid first)
  cfg '.hostname = ""'
  cfg --arg p "$pid" '.linux.namespaces |= map(if .type == "network" or .type == "ipc" or .type == "uts" then {type, path: "/proc/\($p)/ns/\(if .type == "network" then "net" else .type end)"} else . end)'
  if is_user_mode; then
    # unprivileged, the kernel does not let nook open another container's /proc/PID/ns
    # files (the container process is not dumpable for it): refused with the path
    cfg --arg p "$pid" 'del(.linux.uidMappings) | del(.linux.gidMappings) | .linux.namespaces |= map(if .type == "user" then {type, path: "/proc/\($p)/ns/user"} else . end)'
    expect_create_error second "/proc/$pid/ns"
    return
  fi
  inside_sh second '/keyprobe ns net; /keyprobe ns ipc; /probe hostname'
  assert_success
  local want
  want=$(printf '%s\n%s\nfirst' "$(stat -L -c %i "/proc/$pid/ns/net")" "$(stat -L -c %i "/proc/$pid/ns/ipc")")
  assert_output "$want"
}

@test "namespaces: joining a PID namespace by path puts the process in it" {
  set_args /probe sleep 60
  create_container first
  local pid
  pid=$(container_pid first)
  cfg --arg p "$pid" '.linux.namespaces |= map(if .type == "pid" then {type, path: "/proc/\($p)/ns/pid"} else . end)'
  if is_user_mode; then
    # as for the other namespaces: the first container's /proc/PID/ns is closed to the caller
    cfg --arg p "$pid" 'del(.linux.uidMappings) | del(.linux.gidMappings) | .linux.namespaces |= map(if .type == "user" then {type, path: "/proc/\($p)/ns/user"} else . end)'
    expect_create_error second "/proc/$pid/ns"
    return
  fi
  # the process itself (not only its children) is in the joined namespace, and is not its
  # PID 1: the first container's program is
  # and a prestart hook (run by nook after the clone) is back in nook's own PID namespace
  cfg --arg f "$TEST_DIR/hook-pidns" '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "readlink /proc/self/ns/pid > \($f)"]}]'
  inside_sh second '/keyprobe ns pid; /probe pid'
  assert_success
  assert_equal "${lines[0]}" "$(stat -L -c %i "/proc/$pid/ns/pid")" "pid namespace"
  [[ ${lines[1]} != 1 ]] || { echo "the second program is PID 1 of the joined namespace" >&2; return 1; }
  assert_equal "$(cat "$TEST_DIR/hook-pidns")" "$(readlink /proc/self/ns/pid)" "hook's pid namespace"
}

# ---------------------------------------------------------------------------------------------
# linux.sysctl

@test "sysctl: namespaced net, ipc and uts sysctls are written" {
  add_namespace network
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.ipv4.ping_group_range": "0 0", "kernel.shmmni": "1000"}'
  is_root_mode && cfg '.linux.sysctl["kernel.domainname"] = "sysctl.example"'
  inside_sh sysctl1 '/probe cat /proc/sys/net/ipv4/ip_forward; /probe cat /proc/sys/net/ipv4/ping_group_range | tr -s "\t " " "; /probe cat /proc/sys/kernel/shmmni; /keyprobe domainname'
  assert_success
  if is_root_mode; then
    assert_output $'1\n0 0\n1000\nsysctl.example'
  else
    assert_output_matches $'^1\n0 0\n1000\n'
    # kernel.hostname/domainname through /proc/sys belong to the initial user namespace's root
    cfg '.linux.sysctl = {"kernel.domainname": "sysctl.example"}'
    expect_create_error sysctl1b "kernel.domainname"
  fi
}

@test "sysctl: kernel.hostname is refused for hostname; kernel.domainname may not contradict domainname" {
  # runc and crun: the spec's own keys set these; kernel.hostname is always refused.
  add_namespace uts
  cfg '.linux.sysctl = {"kernel.hostname": "viasysctl"}'
  nook_create sysh1
  assert_failure
  assert_one_error_line "/linux/sysctl/kernel.hostname: not allowed: set the container's host name with the spec's \`hostname\` key"
  assert_no_container sysh1
  # crun: kernel.domainname that differs from `domainname` is refused; the same value is not
  cfg '.linux.sysctl = {"kernel.domainname": "one.example"} | .domainname = "two.example"'
  nook_create sysh2
  assert_failure
  assert_one_error_line "/linux/sysctl/kernel.domainname: conflicts with the spec's \`domainname\` key"
  assert_no_container sysh2
  if is_root_mode; then
    cfg '.linux.sysctl = {"kernel.domainname": "two.example"}'
    inside sysh3 /keyprobe domainname
    assert_success
    assert_output "two.example"
  fi
}

@test "sysctl: a net sysctl without a network namespace of the container's is refused" {
  remove_namespace network
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  expect_create_error sysctl2 "network namespace"
}

@test "sysctl: a sysctl that is not namespaced is refused" {
  cfg '.linux.sysctl = {"vm.swappiness": "10"}'
  expect_create_error sysctl3 "not a namespaced sysctl"
  cfg '.linux.sysctl = {"kernel.pid_max": "100000"}'
  expect_create_error sysctl4 "not a namespaced sysctl"
}
