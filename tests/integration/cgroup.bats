#!/usr/bin/env bats
# cgroups (issue 4): linux.cgroupsPath and linux.resources, looked at from the host side in the
# cgroup the container's process really is in (/proc/PID/cgroup), and enforced from inside.
# As root every test runs; unprivileged, resources need a delegated cgroup v2 subtree: the
# tests that need one make one (root chowns a cgroup v2 directory to the test user, as
# systemd's Delegate=yes does) or skip saying why.

load ../lib/common

setup_file() {
  common_setup_file
  # Unique per run: several suites may run at once on one host and container ids repeat.
  export CG_TAG="nooktest$$"
}

teardown() {
  common_teardown
  [[ -z ${NETCLS_MOUNTED:-} ]] || drop_netcls_hierarchy || true
  cleanup_delegation
  local d
  for d in $(cgroup_mountpoints); do
    rmdir "$d/$CG_TAG"/*/ "$d/$CG_TAG" "$d/nook/$CG_TAG"*/ "$d/nook/$CG_TAG"* \
      "$d/system.slice/nooktest-$CG_TAG.scope" 2>/dev/null || true
    # made by the --systemd-cgroup test on a host without systemd (rmdir: only when empty)
    rmdir "$d/system.slice" 2>/dev/null || true
  done
}

# ---------------------------------------------------------------------------------------------
# Where things are

# cgroup_mountpoints: every cgroup v1 and v2 mount point.
cgroup_mountpoints() { findmnt -rn -t cgroup,cgroup2 -o TARGET; }

v2_mountpoint() { findmnt -rn -t cgroup2 -o TARGET | head -1; }

# v1_mountpoint CONTROLLER: where the v1 hierarchy with CONTROLLER is mounted (empty if none).
v1_mountpoint() { findmnt -rn -t cgroup -O "$1" -o TARGET | head -1; }

# cg_dir PID CONTROLLER: the directory of PID's cgroup for CONTROLLER: the v1 hierarchy when
# the controller is mounted as v1, else cgroup v2. CONTROLLER "" means cgroup v2.
cg_dir() {
  local pid=$1 ctl=$2 mnt path
  mnt=$( [[ -n $ctl ]] && v1_mountpoint "$ctl")
  if [[ -n $mnt ]]; then
    path=$(awk -F: -v c="$ctl" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' \
      "/proc/$pid/cgroup")
  else
    mnt=$(v2_mountpoint)
    path=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
  fi
  [[ -n $mnt && -n $path ]] || { echo "no $ctl cgroup for pid $pid" >&2; return 1; }
  echo "$mnt$path"
}

# cg_read PID FILE: FILE (e.g. memory.limit_in_bytes, pids.max) in PID's cgroup.
cg_read() {
  local dir
  dir=$(cg_dir "$1" "${2%%.*}") || return 1
  cat "$dir/$2"
}

memory_is_v1() { [[ -n $(v1_mountpoint memory) ]]; }

# ---------------------------------------------------------------------------------------------
# A delegated cgroup v2 subtree for the unprivileged user (what systemd's Delegate=yes gives).

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

# create_in_delegation ID [ARGS...]: nook_create, started from inside $DELEG (sets status,
# output like nook_create).
create_in_delegation() {
  local id=$1
  shift
  status=0
  (
    echo "$BASHPID" >"$DELEG/cgroup.procs" || exit 99
    nook create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_DIR/$id.out" 2>"$TEST_DIR/$id.err"
  ) || status=$?
  output=$(cat "$TEST_DIR/$id.err")
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

# start_sleeper ID [CREATE_ARGS...]: create + start a container running `sleep 300`, sets $PID.
start_sleeper() {
  local id=$1
  shift
  set_args /probe sleep 300
  create_container "$id" "$@"
  run nook start "$id"
  assert_success
  PID=$(container_pid "$id")
  [[ $PID -gt 0 ]] || { echo "no pid for $id" >&2; return 1; }
}

# The hierarchy id of net_cls in /proc/cgroups: 0 while it is not mounted anywhere.
netcls_hierarchy() { awk '$1 == "net_cls" {print $2}' /proc/cgroups; }

# drop_netcls_hierarchy: after the test mounted net_cls,net_prio, make sure the kernel dropped
# the hierarchy again. An unmounted v1 hierarchy lives on when it still had a child cgroup at
# the unmount (a removed one can linger a moment); every process would then show a
# "net_cls,net_prio:/" line in /proc/PID/cgroup, host-wide. Mounting and unmounting it again,
# childless, ends it.
drop_netcls_hierarchy() {
  local i
  for ((i = 0; i < 25; i++)); do
    [[ $(netcls_hierarchy) == 0 ]] && { NETCLS_MOUNTED=; return 0; }
    unshare -m --propagation private bash -c \
      'mount -t cgroup -o net_cls,net_prio nooktest-netcls "$1" && umount "$1"' x "$TEST_DIR/netcls" 2>/dev/null
    sleep 0.2
  done
  echo "the net_cls hierarchy stays (/proc/cgroups: $(grep net_ /proc/cgroups | tr '\n' ' '))" >&2
  return 1
}

needs_cgroup() {
  is_root_mode && return 0
  skip "unprivileged without a delegated cgroup: resources are ignored (see the user-mode tests)"
}

# ---------------------------------------------------------------------------------------------
# Root: resources land in the container's cgroup and are enforced

@test "cgroup: memory limit and reservation are in the container's cgroup files" {
  needs_cgroup
  cfg '.linux.resources.memory = {limit: 67108864, reservation: 33554432}'
  start_sleeper mem1-$CG_TAG
  if memory_is_v1; then
    assert_equal "$(cg_read "$PID" memory.limit_in_bytes)" 67108864 "memory.limit_in_bytes"
    assert_equal "$(cg_read "$PID" memory.soft_limit_in_bytes)" 33554432 "memory.soft_limit_in_bytes"
  else
    assert_equal "$(cg_read "$PID" memory.max)" 67108864 "memory.max"
    assert_equal "$(cg_read "$PID" memory.low)" 33554432 "memory.low"
  fi
}

@test "cgroup: on a cgroup v1 host the container sees its own memory cgroup, not the host's" {
  needs_cgroup
  memory_is_v1 || skip "memory is not a cgroup v1 controller on this host"
  cfg '.linux.resources.memory = {limit: 67108864}'
  # as runc and crun mount it: the limit reads what was set (JVMs and Go size by it), and no
  # group of the host is below it (the host's hierarchy has nook's, Podman's and others)
  set_args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    find /sys/fs/cgroup/memory -mindepth 1 -type d | wc -l
    test -d /sys/fs/cgroup/unified && echo unified'
  run nook run --bundle "$BUNDLE" "v1view-$CG_TAG"
  assert_success
  assert_equal "${lines[0]}" 67108864 "memory.limit_in_bytes inside"
  assert_equal "${lines[1]}" 0 "directories below the memory hierarchy inside"
  if [[ -n $(findmnt -rn -t cgroup2 -o TARGET /sys/fs/cgroup/unified) ]]; then
    assert_equal "${lines[2]}" unified "the hybrid host's cgroup2 directory"
  fi
}

@test "cgroup: memory limit is enforced (a process that outgrows it is OOM-killed)" {
  needs_cgroup
  # memory+swap = memory, so the hog cannot page out; tail buffers /dev/zero (no newline).
  cfg '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
  set_args sh -c 'x=$(head -c 134217728 /dev/zero | tr "\\0" a); echo survived ${#x}'
  run nook run --bundle "$BUNDLE" "mem2-$CG_TAG"
  assert_output_not_contains survived
  assert_failure
}

@test "cgroup: pids limit is written and enforced" {
  needs_cgroup
  cfg '.linux.resources.pids = {limit: 8}'
  start_sleeper pids1-$CG_TAG
  assert_equal "$(cg_read "$PID" pids.max)" 8 "pids.max"
  run nook delete --force pids1-$CG_TAG
  # Inside: the shell cannot start 20 background sleeps.
  set_args sh -c 'for i in $(seq 20); do sleep 30 & done; echo all-forked'
  run nook run --bundle "$BUNDLE" "pids2-$CG_TAG"
  assert_failure
  assert_output_not_contains all-forked
  assert_output_contains "fork"
}

@test "cgroup: cpu shares, quota and period are written" {
  needs_cgroup
  cfg '.linux.resources.cpu = {shares: 512, quota: 20000, period: 100000}'
  start_sleeper cpu1-$CG_TAG
  if [[ -n $(v1_mountpoint cpu) ]]; then
    assert_equal "$(cg_read "$PID" cpu.shares)" 512 "cpu.shares"
    assert_equal "$(cg_read "$PID" cpu.cfs_quota_us)" 20000 "cpu.cfs_quota_us"
    assert_equal "$(cg_read "$PID" cpu.cfs_period_us)" 100000 "cpu.cfs_period_us"
  else
    assert_equal "$(cg_read "$PID" cpu.max)" "20000 100000" "cpu.max"
    assert_equal "$(cg_read "$PID" cpu.weight)" 20 "cpu.weight (from shares 512)"
  fi
}

@test "cgroup: cpu realtimeRuntime/realtimePeriod (v1): parents made without a budget get one" {
  needs_cgroup
  local cpu
  cpu=$(v1_mountpoint cpu)
  [[ -n $cpu ]] || skip "cpu is not a cgroup v1 controller here (real-time groups are v1 only)"
  [[ -e $cpu/cpu.rt_runtime_us ]] ||
    skip "the kernel has no CONFIG_RT_GROUP_SCHED ($cpu/cpu.rt_runtime_us does not exist)"
  # A fresh parent (a new group has a budget of 0: its children could get none), and the
  # default parent /nook.
  cfg --arg p "/$CG_TAG/rt" '.linux.cgroupsPath = $p | .linux.resources.cpu = {realtimeRuntime: 20000, realtimePeriod: 100000}'
  start_sleeper rt1-$CG_TAG
  assert_equal "$(cg_read "$PID" cpu.rt_runtime_us)" 20000 "cpu.rt_runtime_us"
  assert_equal "$(cg_read "$PID" cpu.rt_period_us)" 100000 "cpu.rt_period_us"
  # the parent holds what its child does (20000/100000 of its 1 s period)
  assert_equal "$(cat "$cpu/$CG_TAG/cpu.rt_runtime_us")" 200000 "parent's cpu.rt_runtime_us"
  # a second child adds its share to the parent's
  cfg --arg p "/$CG_TAG/rt2" '.linux.cgroupsPath = $p | .linux.resources.cpu = {realtimeRuntime: 10000}'
  start_sleeper rt2-$CG_TAG
  assert_equal "$(cg_read "$PID" cpu.rt_runtime_us)" 10000 "second child's cpu.rt_runtime_us"
  assert_equal "$(cat "$cpu/$CG_TAG/cpu.rt_runtime_us")" 210000 "parent's after the second"
  # the default parent /nook
  cfg 'del(.linux.cgroupsPath) | .linux.resources.cpu = {realtimeRuntime: 5000}'
  start_sleeper rt3-$CG_TAG
  assert_equal "$(cg_read "$PID" cpu.rt_runtime_us)" 5000 "cpu.rt_runtime_us below /nook"
  [[ $(cat "$cpu/nook/cpu.rt_runtime_us") -ge 5000 ]]
  # more than the host has is refused, with the file and errno
  cfg --arg p "/$CG_TAG/rt4" '.linux.cgroupsPath = $p | .linux.resources.cpu = {realtimeRuntime: 990000}'
  set_args /probe sleep 300
  nook_create rt4-$CG_TAG
  assert_failure
  assert_output_contains "cpu.rt_runtime_us"
  assert_output_contains "Invalid argument"
  assert_no_container rt4-$CG_TAG
}

@test "cgroup: cpuset cpus/mems are written (and a fresh v1 cpuset gets its parent's)" {
  needs_cgroup
  cfg '.linux.resources.cpu = {cpus: "0", mems: "0"}'
  start_sleeper cpuset1-$CG_TAG
  assert_equal "$(cg_read "$PID" cpuset.cpus)" 0 "cpuset.cpus"
  assert_equal "$(cg_read "$PID" cpuset.mems)" 0 "cpuset.mems"
  run cat "/proc/$PID/status"
  assert_output_matches $'Cpus_allowed_list:\t0\n'
}

@test "cgroup: an impossible resource fails create with the file and errno" {
  needs_cgroup
  cfg '.linux.resources.cpu = {cpus: "4095"}'
  set_args /probe sleep 300
  nook_create bad1-$CG_TAG
  assert_failure
  assert_output_contains "cpuset.cpus"
  # the errno text: EINVAL, or ERANGE for a CPU number beyond the kernel's limit
  [[ ${output,,} == *"invalid argument"* || ${output,,} == *"out of range"* ]] ||
    { echo "no errno in: $output" >&2; false; }
  assert_no_container bad1-$CG_TAG
}

@test "cgroup: hugepage limit on cgroup v2 (hybrid host: hugetlb lives only there)" {
  needs_cgroup
  runtime_is_runc && skip "runc does not use cgroup v2 controllers on a hybrid host"
  local v2
  v2=$(v2_mountpoint)
  [[ -n $v2 ]] && grep -qw hugetlb "$v2/cgroup.controllers" ||
    skip "hugetlb is not a cgroup v2 controller here"
  [[ -n $(v1_mountpoint hugetlb) ]] && skip "hugetlb is mounted as cgroup v1 here"
  local kb size
  kb=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sed -n 's/^hugepages-\([0-9]*\)kB$/\1/p' | head -1)
  [[ -n $kb ]] || skip "no huge page sizes on this kernel"
  if ((kb % 1048576 == 0)); then size=$((kb / 1048576))GB
  elif ((kb % 1024 == 0)); then size=$((kb / 1024))MB
  else size=${kb}KB; fi
  cfg --arg s "$size" '.linux.resources.hugepageLimits = [{pageSize: $s, limit: 4194304}]'
  start_sleeper huge1-$CG_TAG
  assert_equal "$(cat "$(cg_dir "$PID" "")/hugetlb.$size.max")" 4194304 "hugetlb.$size.max"
}

@test "cgroup: hugepageLimits without a hugetlb controller: an error as root, a warning unprivileged" {
  runtime_is_runc && skip "runc refuses hugepageLimits on this hybrid host for another reason"
  cfg '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
  set_args /probe echo hello
  if is_user_mode; then
    # no delegated cgroup: the one warning every resource gets, and the container runs
    run --separate-stderr nook run --bundle "$BUNDLE" huge2-$CG_TAG
    assert_success
    assert_output hello
    assert_equal "$(grep -c 'linux.resources ignored: no writable cgroup' <<<"$stderr")" 1 \
      "warnings (stderr: $stderr)"
    return 0
  fi
  local v2
  v2=$(v2_mountpoint)
  [[ -n $(v1_mountpoint hugetlb) ]] && skip "hugetlb is a cgroup v1 hierarchy here: it cannot be hidden"
  [[ -n $v2 ]] || skip "no cgroup v2 whose controllers could be hidden"
  # A host without hugetlb: in a mount namespace of its own, the root's cgroup.controllers
  # without it (that file is how nook learns what cgroup v2 offers).
  grep -vw hugetlb <<<"$(tr ' ' '\n' <"$v2/cgroup.controllers")" | tr '\n' ' ' >"$TEST_DIR/controllers"
  status=0
  unshare -m --propagation private bash -c '
    mount --bind "$1" "$2/cgroup.controllers" || exit 99
    grep -qw hugetlb "$2/cgroup.controllers" && exit 98
    exec "$NOOK_BIN" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$3" </dev/null >/dev/null 2>"$TEST_DIR/huge2.err"
  ' hide "$TEST_DIR/controllers" "$v2" huge2-$CG_TAG || status=$?
  output=$(cat "$TEST_DIR/huge2.err")
  [[ $status -ne 99 && $status -ne 98 ]] || { echo "could not hide hugetlb ($status)" >&2; false; }
  assert_failure
  assert_output_contains "linux.resources.hugepageLimits: no hugetlb controller on this host"
  assert_no_container huge2-$CG_TAG
  for d in $(cgroup_mountpoints); do
    [[ ! -e $d/nook/huge2-$CG_TAG ]] || { echo "$d/nook/huge2-$CG_TAG left" >&2; false; }
  done
}

@test "cgroup: linux.resources.network: net_cls.classid and net_prio.ifpriomap on cgroup v1" {
  skip_in_user_mode "cgroup v1 (net_cls, net_prio) is never delegated"
  runtime_is_runc && skip "the hierarchy is mounted in a mount namespace only nook sees here"
  local mnt=$TEST_DIR/netcls id=net1-$CG_TAG
  cfg '.linux.resources.network = {classID: 1048577, priorities: [{name: "lo", priority: 7}]}'
  set_args /probe sleep 300
  if [[ -z $(v1_mountpoint net_cls) ]]; then
    [[ -n $(findmnt -rn -t cgroup -o TARGET) ]] ||
      skip "no cgroup v1 here (network on cgroup v2 only: the next test)"
    # Where net_cls is not mounted, as root it is an error (as runc's v1 manager)
    nook_create net0-$CG_TAG
    assert_failure
    assert_output_contains "linux.resources.network.classID: no net_cls controller on this host"
    assert_no_container net0-$CG_TAG
  fi
  # net_cls and net_prio exist in the kernel, unmounted on this host: mounted for the test
  # in a mount namespace of its own (no other process sees the mount); everything, removal
  # and unmount included, happens in there.
  grep -qw net_cls /proc/cgroups || skip "the kernel has no net_cls controller"
  [[ -z $(v1_mountpoint net_cls) ]] || skip "net_cls is mounted on this host; not mounting it again"
  [[ $(netcls_hierarchy) == 0 ]] || skip "a net_cls hierarchy exists (unmounted) already"
  mkdir -p "$mnt"
  NETCLS_MOUNTED=1
  status=0
  unshare -m --propagation private bash -c '
    mnt=$1 id=$2
    set -u
    mount -t cgroup -o net_cls,net_prio nooktest-netcls "$mnt" || exit 99
    cleanup() {
      "$NOOK_BIN" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1
      rmdir "$mnt/nook/$id" "$mnt/nook" 2>/dev/null
      umount "$mnt"
    }
    trap cleanup EXIT
    "$NOOK_BIN" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null || exit 1
    pid=$("$NOOK_BIN" --root "$STATE_ROOT" state "$id" | jq -r .pid)
    rel=$(awk -F: "\$2 == \"net_cls,net_prio\" {print \$3}" "/proc/$pid/cgroup")
    echo "cgroup $rel"
    echo "classid $(cat "$mnt$rel/net_cls.classid")"
    echo "prio $(grep "^lo " "$mnt$rel/net_prio.ifpriomap")"
  ' netcls "$mnt" "$id" >"$TEST_DIR/net1.out" 2>"$TEST_DIR/net1.err" || status=$?
  output=$(cat "$TEST_DIR/net1.out" "$TEST_DIR/net1.err")
  [[ $status -ne 99 ]] || skip "cannot mount net_cls,net_prio here: $output"
  assert_success
  assert_output_contains "cgroup /nook/$id"
  assert_output_contains "classid 1048577"
  assert_output_contains "prio lo 7"
  drop_netcls_hierarchy
}

@test "cgroup: linux.resources.network on cgroup v2 only: ignored with a warning (as runc)" {
  skip_in_user_mode "unprivileged, network is ignored by the key policy (config_general)"
  [[ -z $(findmnt -rn -t cgroup -o TARGET) && -n $(v2_mountpoint) ]] ||
    skip "cgroup v1 is mounted here: network is for net_cls (the test above)"
  cfg '.linux.resources.network = {classID: 1048577}'
  set_args /probe echo hello
  run --separate-stderr nook run --bundle "$BUNDLE" net2-$CG_TAG
  assert_success
  assert_output hello
  [[ $stderr == *"linux.resources.network.classID ignored: cgroup v2 has no net_cls controller"* ]] ||
    { echo "$stderr" >&2; false; }
}

@test "cgroup: unified map writes cgroup v2 files" {
  needs_cgroup
  runtime_is_runc && skip "runc refuses unified on a hybrid host"
  [[ -n $(v2_mountpoint) ]] || skip "no cgroup v2"
  cfg '.linux.resources.unified = {"cgroup.max.descendants": "7"}'
  start_sleeper uni1-$CG_TAG
  assert_equal "$(cat "$(cg_dir "$PID" "")/cgroup.max.descendants")" 7 "cgroup.max.descendants"
}

# ---------------------------------------------------------------------------------------------
# Paths

@test "cgroup: an absolute cgroupsPath is used below the root of each hierarchy" {
  needs_cgroup
  cfg --arg p "/$CG_TAG/abs" '.linux.cgroupsPath = $p'
  start_sleeper abs1-$CG_TAG
  # every hierarchy the container is in shows that path (nook and runc join them all)
  run awk -F: '{print $3}' "/proc/$PID/cgroup"
  assert_success
  assert_equal "$(sort -u <<<"$output")" "/$CG_TAG/abs" "paths in /proc/$PID/cgroup"
  run nook delete --force abs1-$CG_TAG
  assert_success
  if [[ -n $(v2_mountpoint) ]]; then
    [[ ! -e $(v2_mountpoint)/$CG_TAG/abs ]] || { echo "cgroup left after delete" >&2; false; }
  fi
}

@test "cgroup: a relative cgroupsPath goes below nook's parent /nook" {
  needs_cgroup
  runtime_is_runc && skip "runc puts relative paths below its own cgroup"
  cfg --arg p "$CG_TAG-rel/inner" '.linux.cgroupsPath = $p'
  start_sleeper rel1-$CG_TAG
  run cat "/proc/$PID/cgroup"
  assert_output_contains ":/nook/$CG_TAG-rel/inner"
}

@test "cgroup: the default is /nook/<id>, and delete removes it" {
  needs_cgroup
  runtime_is_runc && skip "runc's default path differs"
  local id=def-$CG_TAG
  start_sleeper "$id"
  run cat "/proc/$PID/cgroup"
  assert_output_contains ":/nook/$id"
  local dirs=() d
  for d in $(cgroup_mountpoints); do [[ -d $d/nook/$id ]] && dirs+=("$d/nook/$id"); done
  [[ ${#dirs[@]} -gt 0 ]] || { echo "no /nook/$id directory anywhere" >&2; false; }
  run nook delete --force "$id"
  assert_success
  for d in "${dirs[@]}"; do [[ ! -e $d ]] || { echo "$d left after delete" >&2; false; }; done
}

@test "cgroup: '..' in cgroupsPath is refused" {
  runtime_is_runc && skip "runc cleans the path lexically"
  cfg '.linux.cgroupsPath = "../../escape"'
  set_args /probe sleep 300
  nook_create dotdot1-$CG_TAG
  assert_failure
  assert_output_contains "cgroupsPath"
  assert_output_contains ".."
  for d in $(cgroup_mountpoints); do [[ ! -e $d/escape ]] || { echo "$d/escape made" >&2; false; }; done
}

@test "cgroup: --systemd-cgroup maps slice:prefix:name to the plain path" {
  needs_cgroup
  runtime_is_runc && skip "runc talks to systemd"
  cfg --arg p "system.slice:nooktest:$CG_TAG" '.linux.cgroupsPath = $p'
  set_args /probe sleep 300
  status=0
  nook --systemd-cgroup create --bundle "$BUNDLE" sd1-$CG_TAG </dev/null >"$TEST_DIR/sd1.out" 2>"$TEST_DIR/sd1.err" ||
    status=$?
  output=$(cat "$TEST_DIR/sd1.err")
  assert_success
  run nook start sd1-$CG_TAG
  PID=$(container_pid sd1-$CG_TAG)
  run cat "/proc/$PID/cgroup"
  assert_output_contains ":/system.slice/nooktest-$CG_TAG.scope"
  run nook delete --force sd1-$CG_TAG
}

@test "cgroup: --systemd-cgroup with a plain path is refused clearly" {
  runtime_is_runc && skip "runc's message differs"
  cfg '.linux.cgroupsPath = "/plain/path"'
  status=0
  nook --systemd-cgroup create --bundle "$BUNDLE" sd2-$CG_TAG </dev/null >"$TEST_DIR/sd2.out" 2>"$TEST_DIR/sd2.err" ||
    status=$?
  output=$(cat "$TEST_DIR/sd2.err")
  assert_failure
  assert_output_contains "slice:prefix:name"
}

# ---------------------------------------------------------------------------------------------
# ps and kill --all use the cgroup

@test "cgroup: ps lists every process in the cgroup; kill --all reaches all of them" {
  needs_cgroup
  set_args sh -c 'sleep 300 & sleep 300 & exec /probe sleep 300'
  create_container psk1-$CG_TAG
  run nook start psk1-$CG_TAG
  assert_success
  local pid i n
  pid=$(container_pid psk1-$CG_TAG)
  for ((i = 0; i < 50; i++)); do
    n=$(wc -l <"$(cg_dir "$pid" "")/cgroup.procs" 2>/dev/null || echo 0)
    [[ $n -ge 3 ]] && break
    sleep 0.1
  done
  run nook ps --format json psk1-$CG_TAG
  assert_success
  [[ $(jq length <<<"$output") -ge 3 ]] || { echo "ps: $output" >&2; false; }
  run nook kill --all psk1-$CG_TAG KILL
  assert_success
  wait_for_status psk1-$CG_TAG stopped
}

# ---------------------------------------------------------------------------------------------
# exec --cgroup (runc 1.1): a sub-cgroup of the container's

# make_sub PID NAME: the sub-cgroup NAME in every cgroup of PID that is the container's (nook's
# default path /nook/<id>), v2 and v1 alike; prints the directories.
make_sub() {
  local pid=$1 name=$2 ctl path mnt
  while IFS=: read -r _ ctl path; do
    [[ $path == /nook/* ]] || continue
    if [[ -z $ctl ]]; then mnt=$(v2_mountpoint); else mnt=$(findmnt -rn -t cgroup -O "${ctl%%,*}" -o TARGET | head -1); fi
    [[ -n $mnt ]] || continue
    mkdir "$mnt$path/$name" && echo "$mnt$path/$name"
  done <"/proc/$pid/cgroup"
}

# exec_cgroups ID ARGS...: run `nook exec ARGS ID cat /proc/self/cgroup` (sets output, stderr).
exec_cgroups() {
  local id=$1
  shift
  run --separate-stderr nook exec "$@" "$id" cat /proc/self/cgroup
}

@test "exec --cgroup: joins an existing sub-cgroup; '..', a missing one and an unknown controller are refused" {
  runtime_is_runc && skip "runc's messages differ"
  needs_cgroup
  # a memory limit: on a hybrid host the container then has a v1 memory directory as well
  cfg '.linux.resources.memory = {limit: 134217728}'
  start_sleeper xcg1-$CG_TAG
  local v2dir memdir
  v2dir=$(cg_dir "$PID" "")
  memdir=$(cg_dir "$PID" memory)
  make_sub "$PID" sub >&3
  [[ $memdir == "$v2dir" ]] || mkdir "$memdir/msub"
  # without --cgroup: the container's own cgroups
  exec_cgroups xcg1-$CG_TAG
  assert_success
  [[ $(grep -c '/sub$' <<<"$output") -eq 0 ]] || { echo "$output" >&2; false; }
  # PATH: that sub-cgroup in every hierarchy the container is in
  exec_cgroups xcg1-$CG_TAG --cgroup sub
  assert_success
  echo "# $(tr '\n' ' ' <<<"$output")" >&3
  [[ $(grep -c '^0::.*/sub$' <<<"$output") -eq 1 ]] || { echo "v2 not in sub: $output" >&2; false; }
  if [[ $memdir != "$v2dir" ]]; then
    grep -qE '^[0-9]+:memory:.*/sub$' <<<"$output" || { echo "memory not in sub: $output" >&2; false; }
    # CONTROLLER:PATH: that hierarchy only; the others stay the container's
    exec_cgroups xcg1-$CG_TAG --cgroup memory:msub
    assert_success
    grep -qE '^[0-9]+:memory:.*/msub$' <<<"$output" || { echo "memory not in msub: $output" >&2; false; }
    [[ $(grep -c '^0::.*/msub$' <<<"$output") -eq 0 ]] || { echo "v2 moved: $output" >&2; false; }
  fi
  # the process really is in the sub-cgroup, seen from the host
  nook exec -d --cgroup sub xcg1-$CG_TAG /probe sleep 30 </dev/null >"$TEST_DIR/d.out" 2>&1 ||
    { cat "$TEST_DIR/d.out" >&2; false; }
  local tries
  for ((tries = 0; tries < 50; tries++)); do
    [[ -n $(cat "$v2dir/sub/cgroup.procs") ]] && break
    sleep 0.1
  done
  [[ -n $(cat "$v2dir/sub/cgroup.procs") ]] || { echo "nothing in $v2dir/sub" >&2; false; }
  # refused, in one line, nothing run
  run --separate-stderr nook exec --cgroup .. xcg1-$CG_TAG /probe echo ran
  assert_failure
  [[ $output != *ran* && $stderr == *"exec --cgroup ..: the path must not contain '..'"* ]] ||
    { echo "$stderr" >&2; false; }
  run --separate-stderr nook exec --cgroup sub/../../x xcg1-$CG_TAG /probe echo ran
  assert_failure
  [[ $stderr == *"must not contain '..'"* ]] || { echo "$stderr" >&2; false; }
  run --separate-stderr nook exec --cgroup nonexistent xcg1-$CG_TAG /probe echo ran
  assert_failure
  [[ $output != *ran* && $stderr == *"exec --cgroup nonexistent: stat /"*"/nook/xcg1-$CG_TAG/nonexistent: No such file or directory"* ]] ||
    { echo "$stderr" >&2; false; }
  run --separate-stderr nook exec --cgroup whaaat:/ xcg1-$CG_TAG /probe echo ran
  assert_failure
  [[ $stderr == *"unknown controller whaaat"* ]] || { echo "$stderr" >&2; false; }
  run --separate-stderr nook exec --cgroup a --cgroup b xcg1-$CG_TAG /probe echo ran
  assert_failure
  [[ $stderr == *"invalid --cgroup argument: a (missing <controller>: prefix)"* ]] || { echo "$stderr" >&2; false; }
  # "/" is the container's own cgroup
  exec_cgroups xcg1-$CG_TAG --cgroup /
  assert_success
  [[ $(grep -c '/sub$' <<<"$output") -eq 0 ]] || { echo "$output" >&2; false; }
}

@test "delete removes the sub-cgroups the container made, deepest first" {
  needs_cgroup
  start_sleeper dsub-$CG_TAG
  local subs own=() d
  subs=$(make_sub "$PID" outer)
  [[ -n $subs ]] || { echo "no cgroup of the container to make a sub-cgroup in" >&2; false; }
  for d in $subs; do
    mkdir "$d/inner"
    own+=("${d%/outer}")
  done
  echo "# ${own[*]}" >&3
  run nook delete -f dsub-$CG_TAG
  assert_success
  for d in "${own[@]}"; do
    [[ ! -e $d ]] || { echo "$d is left after delete" >&2; false; }
  done
}

@test "exec --cgroup (user): a sub-cgroup of a delegated cgroup v2; without a cgroup, one error" {
  runtime_is_runc && skip "runc's messages differ"
  skip_in_root_mode "delegation is for the unprivileged"
  set_args /probe sleep 300
  create_container nocg-$CG_TAG
  run nook start nocg-$CG_TAG
  assert_success
  run --separate-stderr nook exec --cgroup sub nocg-$CG_TAG /probe echo ran
  assert_failure
  [[ $output != *ran* && $stderr == *"exec --cgroup sub: container \"nocg-$CG_TAG\" has no cgroup"* ]] ||
    { echo "$stderr" >&2; false; }
  make_delegation
  create_in_delegation xcg2-$CG_TAG
  assert_success
  run nook start xcg2-$CG_TAG
  assert_success
  local dir=$DELEG/nook/xcg2-$CG_TAG
  as_user mkdir "$dir/sub"
  # from inside the delegation, as its user's processes are: moving a process between cgroups
  # needs write access to the common ancestor's cgroup.procs (the delegated one)
  status=0
  (
    echo "$BASHPID" >"$DELEG/cgroup.procs" || exit 99
    nook exec --cgroup sub xcg2-$CG_TAG cat /proc/self/cgroup </dev/null >"$TEST_DIR/x.out" 2>"$TEST_DIR/x.err"
  ) || status=$?
  output=$(cat "$TEST_DIR/x.out" "$TEST_DIR/x.err")
  assert_success
  grep -qx "0::.*/nook/xcg2-$CG_TAG/sub\|0::/sub" <<<"$output" || { echo "not in sub: $output" >&2; false; }
  run --separate-stderr nook exec --cgroup ../.. xcg2-$CG_TAG /probe echo ran
  assert_failure
  [[ $stderr == *"must not contain '..'"* ]] || { echo "$stderr" >&2; false; }
  run --separate-stderr nook exec --cgroup nope xcg2-$CG_TAG /probe echo ran
  assert_failure
  [[ $stderr == *"stat $dir/nope: No such file or directory"* ]] || { echo "$stderr" >&2; false; }
}

# ---------------------------------------------------------------------------------------------
# Unprivileged

@test "cgroup (user): resources without a delegated cgroup: one warning, container runs" {
  skip_in_root_mode "root always has a cgroup"
  local own
  own=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
  cfg '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50}'
  set_args /probe echo hello
  run --separate-stderr nook run --bundle "$BUNDLE" warn1-$CG_TAG
  assert_success
  assert_output "hello"
  local n
  n=$(grep -c "linux.resources ignored" <<<"$stderr" || true)
  assert_equal "$n" 1 "number of 'linux.resources ignored' warnings (stderr: $stderr)"
  [[ $stderr == *"uid $NOOK_AS_USER_UID"* ]] || { echo "warning does not name the uid: $stderr" >&2; false; }
}

@test "cgroup (user): no resources, no cgroup: no warning at all" {
  skip_in_root_mode "root always has a cgroup"
  cfg 'del(.linux.resources) | del(.linux.cgroupsPath)'
  set_args /probe echo hello
  run --separate-stderr nook run --bundle "$BUNDLE" quiet1-$CG_TAG
  assert_success
  assert_output "hello"
  assert_equal "$stderr" "" "stderr"
}

@test "cgroup (user): a delegated cgroup v2 subtree is used" {
  skip_in_root_mode "delegation is for the unprivileged"
  make_delegation
  set_args /probe sleep 300
  create_in_delegation dg1-$CG_TAG
  assert_success
  run nook start dg1-$CG_TAG
  assert_success
  local pid
  pid=$(container_pid dg1-$CG_TAG)
  run cat "/proc/$pid/cgroup"
  assert_output_contains "0::/${DELEG#"$(v2_mountpoint)"/}/nook/dg1-$CG_TAG"
  run nook ps dg1-$CG_TAG
  assert_success
  assert_output_contains "$pid"
  run nook delete --force dg1-$CG_TAG
  assert_success
  [[ ! -e $DELEG/nook/dg1-$CG_TAG ]] || { echo "cgroup left after delete" >&2; false; }
}

@test "cgroup (user): delegated cgroup v2 applies what its controllers allow" {
  skip_in_root_mode "delegation is for the unprivileged"
  make_delegation
  local v2
  v2=$(v2_mountpoint)
  # the core file cgroup.max.descendants needs no controller
  cfg '.linux.resources.unified = {"cgroup.max.descendants": "3"}'
  set_args /probe sleep 300
  create_in_delegation dg2-$CG_TAG
  assert_success
  run nook start dg2-$CG_TAG
  assert_equal "$(cat "$DELEG/nook/dg2-$CG_TAG/cgroup.max.descendants")" 3 "cgroup.max.descendants"
}

# ---------------------------------------------------------------------------------------------
# nook events (issue 16): runc's statistics and OOM events from the container's cgroup

@test "events: --stats prints one runc stats event with the container's limits" {
  needs_cgroup
  cfg '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 64}}'
  start_sleeper ev1-$CG_TAG
  run --separate-stderr nook events --stats ev1-$CG_TAG
  assert_success
  echo "# $(jq -c '{type, id, memory: .data.memory.usage, pids: .data.pids, cpu: .data.cpu.usage.total}' <<<"$output")" >&3
  assert_equal "$(jq -r '.type + " " + .id' <<<"$output")" "stats ev1-$CG_TAG" "type and id"
  assert_equal "$(jq -r .data.memory.usage.limit <<<"$output")" 67108864 "memory limit"
  assert_equal "$(jq -r .data.pids.limit <<<"$output")" 64 "pids limit"
  assert_equal "$(jq -r .data.pids.current <<<"$output")" 1 "pids current"
  [[ $(jq -r .data.memory.usage.usage <<<"$output") -gt 0 ]]
  [[ $(jq -r .data.cpu.usage.total <<<"$output") -gt 0 ]]
  assert_equal "$(wc -l <<<"$output")" 1 "lines"
}

@test "events: the stream reports stats each --interval and an OOM kill, and ends with the container" {
  needs_cgroup
  # tail of /dev/zero buffers a line that never ends: the OOM killer takes it; the shell goes on
  cfg '.linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
  set_args sh -c 'sleep 1; tail /dev/zero; sleep 2'
  create_container ev2-$CG_TAG
  run nook start ev2-$CG_TAG
  assert_success
  run --separate-stderr nook events --interval 500ms ev2-$CG_TAG  # (bounded: $NOOK_CALL_TIMEOUT)
  assert_success
  echo "# $(jq -r .type <<<"$output" | sort | uniq -c | tr -s ' \n' ' ')" >&3
  [[ $(jq -r 'select(.type == "stats") | .id' <<<"$output" | wc -l) -ge 3 ]]
  assert_equal "$(jq -c 'select(.type == "oom") | [.type, .id, .data]' <<<"$output")" "[\"oom\",\"ev2-$CG_TAG\",null]" "oom event"
}

@test "events: a bad --interval, a stopped container and an unknown one fail in one line" {
  needs_cgroup
  start_sleeper ev3-$CG_TAG
  for iv in 0s -1s 5x "" 1e3s; do
    run --separate-stderr nook events --interval "$iv" ev3-$CG_TAG
    assert_failure
    output=$stderr
    assert_one_error_line "--interval"
  done
  run nook kill ev3-$CG_TAG KILL
  wait_for_status ev3-$CG_TAG stopped
  run --separate-stderr nook events --stats ev3-$CG_TAG
  assert_failure
  output=$stderr
  assert_one_error_line "not running"
  run --separate-stderr nook events --stats no-such-$CG_TAG
  assert_failure
}

@test "events (user): no cgroup: one clear error; a delegated cgroup v2: statistics" {
  skip_in_root_mode "the unprivileged cases"
  set_args /probe sleep 300
  create_container ev4-$CG_TAG
  run nook start ev4-$CG_TAG
  run --separate-stderr nook events --stats ev4-$CG_TAG
  assert_failure
  output=$stderr
  assert_one_error_line "has none"
  make_delegation
  create_in_delegation ev5-$CG_TAG
  assert_success
  run nook start ev5-$CG_TAG
  run --separate-stderr nook events --stats ev5-$CG_TAG
  assert_success
  # cpu.stat is a core file of cgroup v2: there whatever controllers are delegated
  [[ $(jq -r .data.cpu.usage.total <<<"$output") -gt 0 ]]
}

# ---------------------------------------------------------------------------------------------
# nook update (issue 16): runc's flags and -r, into the cgroup and the stored config

# limits ID: "MEMORY-LIMIT PIDS-LIMIT" as events --stats reads them from the cgroup
limits() { nook events --stats "$1" | jq -r '"\(.data.memory.usage.limit) \(.data.pids.limit)"'; }

@test "update: flags and -r change the limits, and a second update composes with the first" {
  needs_cgroup
  cfg '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 64}}'
  start_sleeper up1-$CG_TAG
  run nook update --memory 128m up1-$CG_TAG
  assert_success
  assert_equal "$(limits up1-$CG_TAG)" "134217728 64" "after --memory 128m"
  echo '{"pids": {"limit": 100}}' >"$TEST_DIR/r.json"
  run nook update -r "$TEST_DIR/r.json" up1-$CG_TAG
  assert_success
  assert_equal "$(limits up1-$CG_TAG)" "134217728 100" "after -r (pids)"
  run nook update -r - up1-$CG_TAG <<<'{"memory": {"limit": 100663296}}'
  assert_success
  assert_equal "$(limits up1-$CG_TAG)" "100663296 100" "after -r - (memory)"
  # the stored config holds both: a later exec or update starts from them
  assert_equal "$(jq -c .linux.resources "$STATE_ROOT/up1-$CG_TAG/config.json")" \
    '{"memory":{"limit":100663296},"pids":{"limit":100}}' "stored resources"
}

@test "update: a resource the container was created without is applied (its cgroup joined)" {
  needs_cgroup
  start_sleeper up2-$CG_TAG
  run nook update --memory 96m --pids-limit 50 --cpu-shares 512 up2-$CG_TAG
  assert_success
  assert_equal "$(limits up2-$CG_TAG)" "100663296 50" "limits after update"
  run nook delete --force up2-$CG_TAG
  assert_success
  local d
  for d in $(cgroup_mountpoints); do
    [[ ! -e $d/nook/up2-$CG_TAG ]] || { echo "cgroup $d/nook/up2-$CG_TAG left" >&2; return 1; }
  done
}

@test "update: bad values, other resources, RDT and a stopped container fail in one line" {
  needs_cgroup
  start_sleeper up3-$CG_TAG
  local args
  for args in "--memory 1x" "--memory=" "--pids-limit -5" "--cpu-shares abc" \
    "--l3-cache-schema L3:0=f" "-r /dev/null" ""; do
    # shellcheck disable=SC2086 # the words of one case
    run --separate-stderr nook update $args up3-$CG_TAG
    assert_failure
    output=$stderr
    assert_one_error_line ""
  done
  run --separate-stderr nook update -r - up3-$CG_TAG <<<'{"devices": [{"allow": true}]}'
  assert_failure
  output=$stderr
  assert_one_error_line "cannot be updated"
  run nook kill up3-$CG_TAG KILL
  wait_for_status up3-$CG_TAG stopped
  run --separate-stderr nook update --memory 64m up3-$CG_TAG
  assert_failure
  output=$stderr
  assert_one_error_line "not running"
}

@test "update (user): without a cgroup, one clear error" {
  skip_in_root_mode "the unprivileged case"
  start_sleeper up4-$CG_TAG
  run --separate-stderr nook update --pids-limit 10 up4-$CG_TAG
  assert_failure
  output=$stderr
  assert_one_error_line "has none"
}
