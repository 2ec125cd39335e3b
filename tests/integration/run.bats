#!/usr/bin/env bats
# `nook run` in the foreground (issue 2): output, exit status, and what the program sees.

load ../lib/common

@test "run: stdout and stderr of the program reach the caller separately" {
  set_args sh -c 'echo to-stdout; echo to-stderr >&2'
  run --separate-stderr nook run --bundle "$BUNDLE" out1
  assert_success
  assert_output "to-stdout"
  assert_equal "$stderr" "to-stderr" "stderr"
}

@test "run: stdin reaches the program" {
  set_args /probe read-line
  run bash -c 'echo hello-stdin | "$@"' _ nook run --bundle "$BUNDLE" in1
  assert_success
  assert_output "got:hello-stdin"
}

@test "run: stdio are the caller's own descriptors, passed untouched" {
  # The program's fd 1 must be the very file the caller redirected to, not a copy.
  set_args /probe fdstat 1
  local out=$TEST_DIR/stdout-file
  : >"$out"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$out"
  status=0
  nook run --bundle "$BUNDLE" fd1 >"$out" || status=$?
  assert_success
  assert_equal "$(cat "$out")" "$(stat -c '%d %i' "$out")" "dev/inode of fd 1 inside"
  # and it is not a terminal when none was asked for
  set_args /probe isatty 0
  run nook run --bundle "$BUNDLE" fd2 </dev/null
  assert_success
  assert_output "0"
}

@test "run: exit status 0" {
  set_args /probe exit 0
  run nook run --bundle "$BUNDLE" exit0
  assert_status 0
}

@test "run: exit status 3 becomes the runtime's" {
  set_args /probe exit 3
  run nook run --bundle "$BUNDLE" exit3
  assert_status 3
}

@test "run: exit status 255 survives" {
  set_args sh -c 'exit 255'
  run nook run --bundle "$BUNDLE" exit255
  assert_status 255
}

@test "run: death by SIGKILL becomes 128+9" {
  # Not PID 1 of a new PID namespace: there, a signal the process sends itself is discarded.
  remove_namespace pid
  set_args /probe kill-self KILL
  run nook run --bundle "$BUNDLE" sig9
  assert_status 137
}

@test "run: death by SIGTERM becomes 128+15" {
  remove_namespace pid
  set_args /probe kill-self TERM
  run nook run --bundle "$BUNDLE" sig15
  assert_status 143
}

@test "run: death by SIGKILL from outside the PID namespace becomes 128+9" {
  set_args /probe sleep 60
  nook_bg "$TEST_DIR/run" run --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid" extkill
  wait_for_file "$TEST_DIR/pid"
  wait_for_status extkill running
  local pid
  pid=$(cat "$TEST_DIR/pid")
  kill -9 "$pid"
  local rc=0
  wait "$NOOK_BG_PID" || rc=$?
  assert_equal "$rc" 137 "exit status of run"
}

@test "run: cwd is process.cwd" {
  cfg '.process.cwd = "/tmp"'
  set_args /probe cwd
  run nook run --bundle "$BUNDLE" cwd1
  assert_success
  assert_output "/tmp"
}

@test "run: cwd that is a deeper directory of the rootfs" {
  mkdir -p "$ROOTFS/home/tuser/work/deep"
  is_user_mode && chown -R "$NOOK_AS_USER_UID" "$ROOTFS/home/tuser"
  cfg '.process.cwd = "/home/tuser/work/deep"'
  run nook run --bundle "$BUNDLE" cwd2
  assert_success
  assert_output "/home/tuser/work/deep"
}

@test "run: the program cannot chdir above the container's root" {
  set_args /probe cwd-escape
  run nook run --bundle "$BUNDLE" esc1
  assert_success
  assert_output "/ at-root"
  # and the host's files are not visible at the top
  set_args /probe cat /etc/nook-test-marker
  run nook run --bundle "$BUNDLE" esc2
  assert_success
  assert_output "nook test rootfs"
}

@test "run: env is exactly process.env" {
  cfg '.process.env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY=", "TERM=xterm"]'
  set_args /probe environ
  NOOK_LEAK_CHECK=leaked run nook run --bundle "$BUNDLE" env1
  assert_success
  # HOME may be added by the runtime when absent (runc does); nothing else may appear.
  local got
  got=$(grep -v '^HOME=' <<<"$output" | sort)
  assert_equal "$got" "$(printf '%s\n' EMPTY= 'FOO=bar baz' PATH=/bin:/usr/bin TERM=xterm)" "environment"
  assert_output_not_contains NOOK_LEAK_CHECK
}

@test "run: args are found through the container's PATH" {
  # /opt/bin/probe-in-path exists only in the container, so a host lookup cannot find it.
  cfg '.process.env = ["PATH=/opt/bin:/bin"]'
  set_args probe-in-path echo found "two words"
  run nook run --bundle "$BUNDLE" path1
  assert_success
  assert_output "found two words"
}

@test "run: uid and gid seen inside are process.user's (0 0 by default)" {
  set_args /probe uid
  run nook run --bundle "$BUNDLE" uid0
  assert_success
  assert_output "0 0"
}

@test "run: non-root process.user (1000:1000) as root" {
  skip_in_user_mode "the rootless spec maps only container uid 0; see the plain-config test"
  cfg '.process.user = {uid: 1000, gid: 1000}'
  set_args sh -c '/probe uid; /probe caps'
  run nook run --bundle "$BUNDLE" uid1000a
  assert_success
  assert_equal "${lines[0]}" "1000 1000" "uid gid"
  # a non-root user has no effective capabilities (no ambient ones in this config)
  cfg '.process.capabilities.ambient = []'
  run nook run --bundle "$BUNDLE" uid1000b
  assert_success
  assert_output_contains "CapEff 0000000000000000"
}

@test "run: non-root process.user with additionalGids" {
  skip_in_user_mode "one uid and one gid are mapped; setgroups is denied"
  cfg '.process.user = {uid: 1000, gid: 1000, additionalGids: [2000, 3000]}'
  set_args sh -c '/probe uid; /probe groups'
  run nook run --bundle "$BUNDLE" uid1000
  assert_success
  assert_equal "${lines[0]}" "1000 1000" "uid gid"
  # the kernel reports the list as set; order it
  assert_equal "$(tr ' ' '\n' <<<"${lines[1]}" | sort -n | xargs)" "2000 3000" "groups"
}

@test "run: a plain (non-rootless) config with process.user 1000 runs unprivileged" {
  skip_in_root_mode "this is about the single-ID user namespace made for an unprivileged caller"
  # No user namespace in the config: nook makes one mapping process.user to the caller.
  (cd "$BUNDLE" && rm config.json && as_user "$NOOK_BIN" spec)
  cfg '.process.terminal = false | .process.user = {uid: 1000, gid: 1000} | .process.args = ["/probe", "uid"]'
  run nook run --bundle "$BUNDLE" plain1
  assert_success
  assert_output "1000 1000"
}

@test "run: the host user owns the files the container's root creates (single-ID mapping)" {
  skip_in_root_mode "about the unprivileged mapping"
  set_args /probe write /tmp/created-inside
  run nook run --bundle "$BUNDLE" own1
  assert_success
  assert_equal "$(stat -c '%u %g' "$ROOTFS/tmp/created-inside")" "$NOOK_AS_USER_UID $NOOK_AS_USER_GID" "owner on the host"
}

@test "run: a write to a read-only root fails with EROFS" {
  cfg '.root.readonly = true'
  set_args /probe write /should-not-exist
  run nook run --bundle "$BUNDLE" ro1
  assert_status 1
  assert_output "EROFS"
  [[ ! -e $ROOTFS/should-not-exist ]]
}

@test "run: a writable root can be written (control for the read-only test)" {
  cfg '.root.readonly = false'
  set_args /probe write /written
  run nook run --bundle "$BUNDLE" rw1
  assert_success
  assert_output "ok"
  assert_equal "$(cat "$ROOTFS/written")" "probe" "file content on the host"
}

@test "run: the program is PID 1 with a PID namespace" {
  add_namespace pid
  set_args /probe pid
  run nook run --bundle "$BUNDLE" pid1
  assert_success
  assert_output "1"
}

@test "run: without a PID namespace the program is not PID 1" {
  remove_namespace pid
  set_args /probe pid
  run nook run --bundle "$BUNDLE" pidhost
  assert_success
  [[ $output =~ ^[0-9]+$ && $output -gt 1 ]]
}

@test "run: /proc shows only the container's processes with a PID namespace" {
  add_namespace pid
  set_args sh -c 'ls -d /proc/[0-9]* | wc -l'
  run nook run --bundle "$BUNDLE" procns
  assert_success
  # sh, and the ls or wc subshell: a handful at most, not the host's hundreds
  [[ $output -le 4 ]]
}

@test "run: hostname from the config with a UTS namespace" {
  add_namespace uts
  cfg '.hostname = "nook-test-host"'
  set_args /probe hostname
  run nook run --bundle "$BUNDLE" host1
  assert_success
  assert_output "nook-test-host"
  # and the host's name did not change
  [[ $(hostname) != nook-test-host ]]
}

@test "run: umask from process.user.umask" {
  cfg '.process.user.umask = 23'
  set_args /probe umask
  run nook run --bundle "$BUNDLE" umask1
  assert_success
  assert_output "0027"
}

@test "run: rlimits from process.rlimits" {
  cfg '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: 200}, {type: "RLIMIT_CORE", soft: 0, hard: 0}]'
  set_args sh -c '/probe rlimit NOFILE; /probe rlimit CORE'
  run nook run --bundle "$BUNDLE" rlim1
  assert_success
  assert_equal "${lines[0]}" "100 200" "NOFILE"
  assert_equal "${lines[1]}" "0 0" "CORE"
}

@test "run: noNewPrivileges true sets NoNewPrivs" {
  cfg '.process.noNewPrivileges = true'
  set_args /probe nnp
  run nook run --bundle "$BUNDLE" nnp1
  assert_success
  assert_output "NoNewPrivs 1"
}

@test "run: noNewPrivileges false as root leaves NoNewPrivs unset" {
  skip_in_user_mode "an unprivileged runtime may need no_new_privs for its own set-up"
  cfg '.process.noNewPrivileges = false'
  set_args /probe nnp
  run nook run --bundle "$BUNDLE" nnp0
  assert_success
  assert_output "NoNewPrivs 0"
}

@test "run: no descriptor beyond stdio reaches the program" {
  set_args /probe fds
  # Open extra descriptors in the caller, with and without close-on-exec.
  run bash -c 'exec 5</etc/hostname 7>"$TEST_DIR/extra" 9</dev/null; "$@"' _ nook run --bundle "$BUNDLE" fds1
  assert_success
  assert_output "0 1 2"
}

@test "run: no descriptor beyond stdio reaches the program, as a shell sees it" {
  set_args sh -c 'ls /proc/self/fd | sort -n | xargs'
  run bash -c 'exec 5</etc/hostname; "$@"' _ nook run --bundle "$BUNDLE" fds2
  assert_success
  # 0 1 2 and the one ls uses to read the directory
  assert_output "0 1 2 3"
}

@test "run: nothing is left behind: mounts, processes, state" {
  add_mount /mnt tmpfs tmpfs size=1m
  set_args /probe sleep 0.2
  run nook run --bundle "$BUNDLE" leak1
  assert_success
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts under the test dir"
  assert_equal "$(pids_rooted_under "$BUNDLE")" "" "processes rooted in the bundle"
  assert_no_container leak1
}

@test "run: the program sees the container's rootfs, not the host's" {
  set_args /probe ls /
  run nook run --bundle "$BUNDLE" root1
  assert_success
  assert_output_contains "probe"
  # a directory that exists on the host but not in the busybox rootfs
  assert_output_not_contains "lost+found"
  assert_output_not_contains "boot"
}

@test "run: --bundle defaults to the current directory" {
  set_args /probe echo from-cwd-bundle
  run bash -c 'cd "$BUNDLE" && "$@"' _ nook run cwdbundle
  assert_success
  assert_output "from-cwd-bundle"
}

@test "run: a relative root.path is relative to the bundle, not the caller's cwd" {
  mv "$ROOTFS" "$BUNDLE/other-root"
  cfg '.root.path = "other-root"'
  set_args /probe echo relative-root
  cd /
  run nook run --bundle "$BUNDLE" relroot
  assert_success
  assert_output "relative-root"
}

@test "run: an absolute root.path outside the bundle" {
  mv "$ROOTFS" "$TEST_DIR/abs-root"
  cfg --arg r "$TEST_DIR/abs-root" '.root.path = $r'
  set_args /probe echo absolute-root
  run nook run --bundle "$BUNDLE" absroot
  assert_success
  assert_output "absolute-root"
}

@test "run: two containers from one bundle one after the other" {
  set_args /probe exit 0
  run nook run --bundle "$BUNDLE" again
  assert_success
  run nook run --bundle "$BUNDLE" again
  assert_success
}

@test "run: as root, the config's user namespace mappings are used" {
  skip_in_user_mode "an unprivileged caller cannot grant a 65536-ID range without subuids"
  add_namespace user
  cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  chown -R 100000:100000 "$ROOTFS"
  set_args sh -c '/probe uid; /probe cat /proc/self/uid_map; /probe write /tmp/mapped'
  run nook run --bundle "$BUNDLE" userns1
  assert_success
  assert_equal "${lines[0]}" "0 0" "ids inside"
  assert_equal "$(xargs <<<"${lines[1]}")" "0 100000 65536" "uid_map"
  assert_equal "$(stat -c '%u %g' "$ROOTFS/tmp/mapped")" "100000 100000" "owner on the host"
}

@test "run: unprivileged, the single-ID mapping shows in uid_map and setgroups is denied" {
  skip_in_root_mode "about the unprivileged mapping"
  set_args sh -c '/probe cat /proc/self/uid_map; /probe cat /proc/self/gid_map; /probe cat /proc/self/setgroups'
  run nook run --bundle "$BUNDLE" single1
  assert_success
  assert_equal "$(xargs <<<"${lines[0]}")" "0 $NOOK_AS_USER_UID 1" "uid_map"
  assert_equal "$(xargs <<<"${lines[1]}")" "0 $NOOK_AS_USER_GID 1" "gid_map"
  assert_equal "${lines[2]}" deny "setgroups"
}

@test "run: as root of the caller's own single-ID user namespace (setgroups denied), as rootless Buildah runs nook" {
  # `unshare -r` maps only the caller and writes "deny" to setgroups, as Buildah and Podman do
  # for a user with no /etc/subuid entry. nook there is privileged (root with capabilities in
  # its namespace) yet may not call setgroups(2): it must say so and run the program.
  cfg '.process.user = {uid: 0, gid: 0, additionalGids: [0, 5]} | del(.linux.namespaces[] | select(.type == "user")) | del(.linux.uidMappings, .linux.gidMappings)'
  set_args sh -c '/probe uid; /probe cat /proc/self/setgroups'
  run --separate-stderr timeout 60 bash -c 'cd / && "$@"' _ as_user unshare -r "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" sgdeny
  assert_success
  assert_equal "${lines[0]}" "0 0" "uid gid"
  assert_equal "${lines[1]}" deny "setgroups inside"
  output=$stderr assert_output_contains "additionalGids: group 5 not set: setgroups is denied"
}

@test "run --keep: the stopped container stays until delete, cgroup and all" {
  set_args /probe exit 3
  run nook run --keep --bundle "$BUNDLE" keep1
  assert_status 3
  assert_equal "$(container_status keep1)" stopped "status after run --keep"
  run nook delete keep1
  assert_success
  assert_no_container keep1
  assert_state_root_empty
}

@test "run: without a PID namespace nook reaps the orphans (subreaper) unless --no-subreaper" {
  remove_namespace pid
  # The orphan waits until the subshell that started it (its parent, whose parent is the
  # program, $1) is gone, then writes who adopted it; the program prints that and its own
  # parent (nook run).
  cat >"$ROOTFS/orphan.sh" <<'SH'
parent_of() { cut -d' ' -f4 "/proc/$1/stat" 2>/dev/null; }
while [ "$(parent_of "$(parent_of $$)")" = "$1" ]; do sleep 0.05; done
parent_of $$ >/tmp/pp.new && mv /tmp/pp.new /tmp/pp
SH
  set_args sh -c 'rm -f /tmp/pp; (sh /orphan.sh $$ &); while [ ! -e /tmp/pp ]; do sleep 0.05; done; cat /tmp/pp; /probe ppid'
  run nook run --bundle "$BUNDLE" reap1
  assert_success
  echo "# subreaper: orphan's and program's parent: $(echo $output)" >&3
  assert_equal "${lines[0]}" "${lines[1]}" "the orphan's parent is nook run"
  run nook run --no-subreaper --bundle "$BUNDLE" reap2
  assert_success
  echo "# --no-subreaper: orphan's and program's parent: $(echo $output)" >&3
  [[ ${lines[0]} != "${lines[1]}" ]] || { echo "the orphan went to nook with --no-subreaper" >&2; return 1; }
}
