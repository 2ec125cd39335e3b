#!/usr/bin/env bats
# Escapes (issue 8): regression tests for the classic runtime CVEs, as root and unprivileged.
# What nook claims and why is written down in docs/errors.md ("Escapes").

load ../lib/common

# start_detached ID: create (stdio in files, see nook_create) and start; waits for running.
start_detached() {
  create_container "$1" || return 1
  nook start "$1" </dev/null >/dev/null 2>&1 || { echo "start $1 failed" >&2; return 1; }
  wait_for_status "$1" running
}

# in_container ARGS...: run ARGS as the container's program (nook run, foreground).
in_container() {
  set_args "$@"
  run --separate-stderr nook run --bundle "$BUNDLE" "esc-$BATS_TEST_NUMBER-$RANDOM"
}

# ---------------------------------------------------------------------------------------
# CVE-2019-5736: nook's binary through /proc/PID/exe

@test "escapes: the container process is non-dumpable while it runs nook's code" {
  set_args /probe sleep 100
  create_container dump
  local pid
  pid=$(container_pid dump)
  # /proc/PID/exe still names nook's binary: the process has not exec'd yet
  if is_user_mode; then
    # Non-dumpable: the kernel gives its /proc/PID files to root, not to the process's uid.
    assert_equal "$(stat -c %u "/proc/$pid/fd")" 0 "owner of /proc/$pid/fd"
    # and the user who started it cannot reach the binary or the descriptors through it
    run as_user readlink "/proc/$pid/exe"
    assert_failure
    run as_user ls "/proc/$pid/fd"
    assert_failure
  fi
  run nook start dump
  assert_success
  wait_for_status dump running
  # after execve the program is an ordinary dumpable process again
  if is_user_mode; then
    assert_equal "$(stat -c %u "/proc/$pid/fd")" "$NOOK_AS_USER_UID" "owner after execve"
  fi
}

@test "escapes: a process sharing the PID namespace cannot open nook's binary via /proc/PID/exe" {
  # Containers A and B without PID namespaces of their own (both see the host's, as with
  # --pid=host); B is left created, so its process runs nook's code. From A, B's
  # /proc/PID/exe, fd/ and root/ must be out of reach. (Joining a PID namespace by path does
  # not move the container's process into it: see the note in docs/errors.md.)
  skip_in_user_mode "an unprivileged container always gets a PID namespace of its own"
  remove_namespace pid
  set_args /bin/sh -c 'sleep 1000'
  start_detached esc-a
  make_bundle "$TEST_DIR/b"
  remove_namespace pid
  set_args /probe sleep 100
  create_container esc-b
  local bpid
  bpid=$(container_pid esc-b)
  # shellcheck disable=SC2016
  run --separate-stderr nook exec esc-a /bin/sh -c '
    d=/proc/'"$bpid"'
    [ -d $d ] && echo "found $d"
    readlink $d/exe && echo "LEAK readlink"
    cat $d/exe >/dev/null 2>&1 && echo "LEAK read"
    # listing fd/ needs only DAC (container root may); following an entry needs ptrace access
    for f in $d/fd/*; do readlink $f >/dev/null 2>&1 && echo "LEAK fd $f"; done
    ls $d/root/ >/dev/null 2>&1 && echo "LEAK root"
    true'
  echo "# from A: $output" >&3
  assert_output_contains "found"
  assert_output_not_contains "LEAK"
}

@test "escapes: nook's binary is not in the container and /proc/1/exe is the program" {
  in_container /bin/sh -c 'readlink /proc/1/exe; readlink /proc/self/exe; ls /proc/1/fd | tr "\n" " "'
  assert_success
  assert_output_not_contains "nook"
  [[ ${lines[0]} == /bin/busybox || ${lines[0]} == /bin/sh ]]
}

# The attack itself (issue 14, finding 1): tests/helper/exegrab.c, in the container, takes
# hold of /proc/PID/exe of a process running the runtime's code and writes to it once nothing
# executes it. The runtime binary is a private copy, owned by the caller: root's, or in user
# mode the unprivileged user's (who may write it: the worst case).

# own_runtime_copy: NOOK_BIN becomes a copy of the runtime owned by the caller; its hash is
# $RUNTIME_HASH.
own_runtime_copy() {
  NOOK_BIN_PUBLISHED=$NOOK_BIN
  cp "$NOOK_BIN" "$TEST_DIR/nook-bin"
  chmod 0755 "$TEST_DIR/nook-bin"
  [[ -n ${NOOK_AS_USER_UID:-} ]] && chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$TEST_DIR/nook-bin"
  NOOK_BIN=$TEST_DIR/nook-bin
  RUNTIME_HASH=$(sha256sum "$NOOK_BIN" | cut -c1-64)
}

# exegrab_container ID SECONDS [FIFO]: a container whose program is the attack.
exegrab_container() {
  _build_helper exegrab NOOK_EXEGRAB
  cp "$NOOK_EXEGRAB" "$ROOTFS/exegrab"
  chmod 0755 "$ROOTFS/exegrab"
  set_args /exegrab "${@:2}"
  start_detached "$1"
}

# exegrab_result ID: waits for the attack's last line; prints the whole output.
exegrab_result() {
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qE '^(WROTE|OPEN-DENIED|WRITE-DENIED|STILL-BUSY|NOTHING-GRABBED)' "$TEST_DIR/$1.out" && break
    sleep 0.1
  done
  cat "$TEST_DIR/$1.out"
}

# exegrab_attack ID PROGRAM LABEL: a container attacking, and `nook exec ID PROGRAM run
# --bundle /b victim` (the runtime, blocked on the FIFO /b/config.json) as its victim; the
# attack's output is in $output.
exegrab_attack() {
  exegrab_container "$1" 30 /b/config.json
  run --separate-stderr nook exec "$1" "$2" run --bundle /b victim
  run exegrab_result "$1"
  echo "# $3: $output" >&3
  assert_output_contains "GRABBED"
  assert_output_not_contains "WROTE"
}

@test "escapes: CVE-2019-5736: a program that is /proc/self/exe cannot write the runtime" {
  own_runtime_copy
  # /bin/x is the exe link of whatever runs it; /b/config.json a FIFO the nested runtime
  # blocks on until the attack has its handle.
  ln -s /proc/self/exe "$ROOTFS/bin/x"
  mkdir -p "$ROOTFS/b/rootfs"
  mkfifo -m 0666 "$ROOTFS/b/config.json"
  [[ -n ${NOOK_AS_USER_UID:-} ]] && chown -R "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$ROOTFS/b" "$ROOTFS/bin/x"
  exegrab_attack grab1 /bin/x "attack"
  assert_output_matches "(OPEN|WRITE)-DENIED (EROFS|EPERM|EACCES)"
  assert_equal "$(sha256sum "$NOOK_BIN" | cut -c1-64)" "$RUNTIME_HASH" "the runtime binary's hash"
  # the same through a script whose interpreter is /proc/self/exe
  printf '#!/proc/self/exe\n' >"$ROOTFS/bin/y"
  chmod 0755 "$ROOTFS/bin/y"
  nook delete --force grab1
  exegrab_attack grab2 /bin/y "attack through #!/proc/self/exe"
  assert_equal "$(sha256sum "$NOOK_BIN" | cut -c1-64)" "$RUNTIME_HASH" "the runtime binary's hash (script)"
  if is_user_mode; then
    # a runtime the user cannot write (root's, as installed): used in place, and still safe
    NOOK_BIN=$NOOK_BIN_PUBLISHED
    nook delete --force grab2
    exegrab_attack grab3 /bin/x "attack on a root-owned runtime"
    assert_output_matches "OPEN-DENIED EACCES"
  fi
}

@test "escapes: CVE-2019-5736: the container's own program being /proc/self/exe" {
  own_runtime_copy
  if is_user_mode; then
    # An unprivileged runtime cannot join a PID namespace by path, and an attacker in the
    # program's own PID namespace dies with it: check the exe link of the waiting container
    # process itself. The binary is the user's own: it must be a sealed copy, not the file.
    set_args /probe sleep 100
    create_container own
    local pid
    pid=$(container_pid own)
    echo "# exe of the created container's process: $(readlink "/proc/$pid/exe")" >&3
    [[ $(stat -L -c %d:%i "/proc/$pid/exe") != $(stat -c %d:%i "$NOOK_BIN") ]]
    [[ $(readlink "/proc/$pid/exe") == /memfd:* ]]
    # F_GET_SEALS (1034): write, grow, shrink and seal sealed (0xf)
    run python3 -c 'import fcntl,os,sys; print(fcntl.fcntl(os.open(sys.argv[1], os.O_RDONLY), 1034))' "/proc/$pid/exe"
    assert_success
    assert_output 15
    return 0
  fi
  # container B attacks; container A, in B's PID namespace (and user namespace, unprivileged),
  # has the runtime as its program (via /bin/x), blocked on the FIFO until B holds the handle
  exegrab_container grab-b 30 root:/b/config.json
  local bpid
  bpid=$(container_pid grab-b)
  make_bundle "$TEST_DIR/a"
  ln -s /proc/self/exe "$ROOTFS/bin/x"
  mkdir -p "$ROOTFS/b/rootfs"
  mkfifo -m 0666 "$ROOTFS/b/config.json"
  [[ -n ${NOOK_AS_USER_UID:-} ]] && chown -R "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$ROOTFS/b" "$ROOTFS/bin/x"
  cfg --arg p "/proc/$bpid/ns/pid" '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)'
  if is_user_mode; then
    cfg --arg p "/proc/$bpid/ns/user" '.linux.namespaces |= map(if .type == "user" then .path = $p else . end) | del(.linux.uidMappings, .linux.gidMappings)'
  fi
  set_args /bin/x run --bundle /b victim
  create_container grab-a
  run nook start grab-a
  assert_success
  run exegrab_result grab-b
  echo "# attack on the container's own program: $output" >&3
  assert_output_contains "GRABBED"
  assert_output_not_contains "WROTE"
  assert_equal "$(sha256sum "$NOOK_BIN" | cut -c1-64)" "$RUNTIME_HASH" "the runtime binary's hash"
}

# execs_of LOG: the execve/execveat calls in a `strace -f -o LOG` trace, one per line. (The
# container's own execve may show its path as an address: strace cannot read the memory of a
# non-dumpable process in another user namespace. So the calls are counted, not named.)
execs_of() {
  grep -E '(execve|execveat)\(' "$1" | grep -v 'resumed>' || true
}

@test "escapes: the runtime leaves its binary without a second execve (root, published binary)" {
  # The protection of the CVE-2019-5736 tests must not cost a re-execution where none is
  # needed: root maps its read-only clone in place (src/fast/exe.cpp remap_to), an
  # unprivileged user runs a binary it cannot write as it is. Expected: strace's execve of
  # nook and the execve of the container's program, nothing between.
  local log=$TEST_DIR/execs.run
  set_args /bin/true
  as_user strace -f -qq -e trace=execve,execveat -o "$log" \
    "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" noexec-run </dev/null
  echo "# run: $(execs_of "$log" | cut -c1-100 | tr '\n' ' ')" >&3
  assert_equal "$(execs_of "$log" | wc -l)" 2 "execve calls of nook run and its program"
  set_args /bin/sleep 100
  create_container noexec-c
  run nook start noexec-c
  assert_success
  log=$TEST_DIR/execs.exec
  as_user strace -f -qq -e trace=execve,execveat -o "$log" \
    "$NOOK_BIN" --root "$STATE_ROOT" exec noexec-c /bin/true </dev/null
  echo "# exec: $(execs_of "$log" | cut -c1-100 | tr '\n' ' ')" >&3
  assert_equal "$(execs_of "$log" | wc -l)" 2 "execve calls of nook exec and its program"
  run nook delete --force noexec-c
  assert_success
}

# clone_of ID ARGS...: the clone flags of the container process of `nook ARGS...` (strace).
clone_of() {
  local log=$TEST_DIR/clone.$1
  shift
  strace -f -qq -e trace=clone,clone3 -o "$log" "$NOOK_BIN" --root "$STATE_ROOT" "$@" \
    </dev/null >/dev/null 2>&1 || true
  grep -m1 -E 'clone3?\(' "$log" | grep -oE 'flags=[A-Z_|]+|CLONE_[A-Z_|]+' | head -1
}

@test "escapes: a run shares nook's memory only with a process alone in its own PID namespace" {
  # A foreground run with nothing for nook to do before the program's execve clones it with
  # CLONE_VM|CLONE_VFORK (no page tables copied; nook waits in the kernel meanwhile). Until
  # that execve the process is nook's memory: only when no process can be there to reach it,
  # a PID namespace made for it; and never when nook must act for it (ID maps, hooks, detach).
  set_args /bin/true
  local f
  f=$(clone_of vm run --bundle "$BUNDLE" vm-plain)
  echo "# plain run: $f" >&3
  if is_user_mode; then
    [[ $f != *CLONE_VM* ]] || { echo "a run with ID maps to write shares memory: $f" >&2; return 1; }
  else
    [[ $f == *CLONE_VM* && $f == *CLONE_VFORK* && $f == *CLONE_NEWPID* ]] ||
      { echo "expected CLONE_VM|CLONE_VFORK with CLONE_NEWPID, got: $f" >&2; return 1; }
  fi
  f=$(clone_of d run -d --bundle "$BUNDLE" vm-detached)
  echo "# run -d: $f" >&3
  [[ $f != *CLONE_VM* ]] || { echo "run -d shares memory: $f" >&2; return 1; }
  nook delete --force vm-detached >/dev/null 2>&1 || true
  cfg '.hooks.createRuntime = [{path: "/bin/true"}]'
  f=$(clone_of h run --bundle "$BUNDLE" vm-hooks)
  echo "# with a hook: $f" >&3
  [[ $f != *CLONE_VM* ]] || { echo "a run with hooks shares memory: $f" >&2; return 1; }
  if ! is_user_mode; then
    cfg 'del(.hooks)'
    remove_namespace pid
    f=$(clone_of p run --bundle "$BUNDLE" vm-hostpid)
    echo "# without a PID namespace: $f" >&3
    [[ $f != *CLONE_VM* ]] || { echo "a run in the host's PID namespace shares memory: $f" >&2; return 1; }
  fi
}

@test "escapes: CVE-2019-5736: CAP_SYS_PTRACE cannot grab exec's child while it runs nook" {
  own_runtime_copy
  cfg '.process.capabilities |= with_entries(.value += ["CAP_SYS_PTRACE"])'
  local secs=30
  is_user_mode && secs=5  # non-dumpable and born outside the user namespace: out of reach
  exegrab_container ptr "$secs"
  # exec's child stops itself once it has joined the container's namespaces (still nook's code)
  NOOK_TEST_PAUSE=exec-joined nook_bg "$TEST_DIR/victim" exec ptr /bin/true
  run exegrab_result ptr
  echo "# attack with CAP_SYS_PTRACE: $output" >&3
  assert_output_not_contains "WROTE"
  is_root_mode && assert_output_matches "OPEN-DENIED (EROFS|EPERM|EACCES)|WRITE-DENIED"
  assert_equal "$(sha256sum "$NOOK_BIN" | cut -c1-64)" "$RUNTIME_HASH" "the runtime binary's hash"
}

# ---------------------------------------------------------------------------------------
# CVE-2024-21626: descriptors and cwd

@test "escapes: no host descriptor reaches the container" {
  exec 7<"$TEST_DIR" 8<"$BUNDLE/config.json" 9<"/"
  in_container /probe fds
  exec 7<&- 8<&- 9<&-
  assert_success
  assert_output "0 1 2"
  # also for create + start, and for exec
  exec 7<"$TEST_DIR"
  set_args /probe sleep 100
  create_container fds
  exec 7<&-
  run nook start fds
  assert_success
  local pid
  pid=$(container_pid fds)
  run ls "/proc/$pid/fd"
  assert_equal "$(echo $output)" "0 1 2" "fds of the started program"
  exec 7<"$TEST_DIR"
  run --separate-stderr nook exec fds /probe fds
  exec 7<&-
  assert_success
  assert_output "0 1 2"
}

@test "escapes: the host cwd does not leak into the container" {
  cd "$TEST_DIR"
  in_container /probe cwd-escape
  assert_success
  assert_output "/ at-root"
  cfg '.process.cwd = "/tmp"'
  in_container /probe cwd
  assert_success
  assert_output "/tmp"
}

@test "escapes: process.cwd /proc/self/fd/N does not reach the host" {
  local n
  exec 7<"$TEST_DIR"
  for n in 3 4 5 6 7 8 9 10; do
    cfg --arg c "/proc/self/fd/$n" '.process.cwd = $c'
    in_container /probe cwd-escape
    echo "# cwd /proc/self/fd/$n: status $status: $output $stderr" >&3
    if [[ $status -eq 0 ]]; then
      assert_output "/ at-root"
    else
      output=$stderr
      assert_one_error_line ""
    fi
  done
  exec 7<&-
  assert_equal "$(nook list -q)" "" "containers left"
  # the same for exec --cwd
  cfg '.process.cwd = "/"'
  set_args /probe sleep 100
  start_detached cwdx
  for n in 3 4 5 6 7 8; do
    run --separate-stderr nook exec --cwd "/proc/self/fd/$n" cwdx /probe cwd-escape
    echo "# exec --cwd /proc/self/fd/$n: status $status: $output $stderr" >&3
    [[ $status -ne 0 || $output == "/ at-root" ]]
  done
}

# ---------------------------------------------------------------------------------------
# CVE-2021-30465: mount destinations through symlinks

@test "escapes: a mount destination that is a symlink lands inside the rootfs" {
  mkdir -p "$TEST_DIR/outside"
  ln -s "$TEST_DIR/outside" "$ROOTFS/abs-link"
  ln -s ../../../../../../../../"$TEST_DIR/outside" "$ROOTFS/rel-link"
  add_mount /abs-link/sub tmpfs tmpfs
  add_mount /rel-link/sub2 tmpfs tmpfs
  # plain binds (no flags: mounted onto the destination as the working directory) onto
  # destinations that exist only through the links
  mkdir -p "$TEST_DIR/bsrc" "$ROOTFS$TEST_DIR/outside/pb1" "$ROOTFS$TEST_DIR/outside/pb2"
  add_mount /abs-link/pb1 bind "$TEST_DIR/bsrc" bind
  add_mount /rel-link/pb2 bind "$TEST_DIR/bsrc" rbind
  in_container /bin/sh -c 'grep -c " tmpfs " /proc/self/mountinfo; awk "{print \$5}" /proc/self/mountinfo'
  echo "# $status: $output $stderr" >&3
  # whether nook mounts there (inside) or refuses, nothing appears on the host
  assert_equal "$(ls -A "$TEST_DIR/outside")" "" "host directory the links point to"
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts"
  if [[ $status -eq 0 ]]; then
    # the mounts are at the in-root resolution of the links
    assert_output_contains "$TEST_DIR/outside/sub"
    assert_output_contains "$TEST_DIR/outside/pb1"
    assert_output_contains "$TEST_DIR/outside/pb2"
    [[ -d $ROOTFS$TEST_DIR/outside/sub ]]
  fi
}

@test "escapes: a mount destination swapped to a symlink during set-up stays inside" {
  mkdir -p "$TEST_DIR/outside" "$ROOTFS/mnt/real"
  ln -s "$TEST_DIR/outside" "$ROOTFS/mnt/link"
  ln -s ../../../../../../.."$TEST_DIR/outside" "$ROOTFS/mnt/rlink"
  add_mount /mnt/dst/sub tmpfs tmpfs
  add_mount /mnt/dst/file "" "$BUNDLE/config.json" bind ro
  # a plain bind (mounted onto "." after a chdir into the destination), present in every
  # directory the swap can show at /mnt/dst
  mkdir -p "$TEST_DIR/bsrc" "$ROOTFS/mnt/real/plain" "$ROOTFS$TEST_DIR/outside/plain"
  add_mount /mnt/dst/plain bind "$TEST_DIR/bsrc" bind
  set_args /bin/true
  # swap /mnt/dst between a directory, an absolute and a relative symlink out of the rootfs
  python3 - "$ROOTFS/mnt" <<'PY' &
import os, sys, time, ctypes
libc = ctypes.CDLL(None, use_errno=True)
d = sys.argv[1]
os.makedirs(d + "/dst", exist_ok=True)
end = time.time() + 120
RENAME_EXCHANGE = 2
while time.time() < end:
    for other in ("link", "rlink", "real"):
        libc.renameat2(-100, (d + "/dst").encode(), -100, (d + "/" + other).encode(), RENAME_EXCHANGE)
PY
  # (not `i`: bats' own version check, run by `run --separate-stderr`, sets a global i)
  local swapper=$! round ok=0
  for ((round = 0; round < 8; round++)); do
    run --separate-stderr nook run --bundle "$BUNDLE" "swap-$round"
    [[ $status -eq 0 ]] && ok=$((ok + 1))
  done
  kill "$swapper" 2>/dev/null || true
  wait "$swapper" 2>/dev/null || true
  echo "# $ok of 8 runs succeeded while the destination was being swapped" >&3
  assert_equal "$(ls -A "$TEST_DIR/outside")" "" "host directory the links point to"
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts"
  assert_equal "$(nook list -q)" "" "containers left"
}

# ---------------------------------------------------------------------------------------
# CVE-2019-19921: /proc over a symlink

@test "escapes: /proc is never mounted through a container-owned symlink" {
  rm -rf "$ROOTFS/proc"
  mkdir -p "$ROOTFS/fakeproc"
  ln -s /fakeproc "$ROOTFS/proc"
  in_container /probe cat /proc/self/status
  assert_failure
  output=$stderr
  assert_one_error_line "symlink"
  [[ -z $(ls -A "$ROOTFS/fakeproc") ]]
  # a link out of the rootfs, and /sys the same
  rm "$ROOTFS/proc"
  ln -s "$TEST_DIR/outside" "$ROOTFS/proc"
  in_container /probe cat /proc/self/status
  assert_failure
  rm "$ROOTFS/proc"
  mkdir "$ROOTFS/proc"
  # /sys as a sysfs mount (root's config; the rootless one binds the host's /sys, and a bind
  # destination that is a symlink resolves inside the rootfs, as in runc)
  if jq -e '.mounts[] | select(.destination == "/sys" and .type == "sysfs")' "$BUNDLE/config.json" >/dev/null; then
    rm -rf "$ROOTFS/sys"
    ln -s /fakeproc "$ROOTFS/sys"
    in_container /probe cat /proc/self/status
    assert_failure
    output=$stderr
    assert_one_error_line "symlink"
  fi
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts"
}

# ---------------------------------------------------------------------------------------
# CVE-2022-29162: inheritable and ambient capabilities

caps_of() { awk -v k="$1" '$1 == k || $1 == k ":" {print $2}' <<<"$output"; }

@test "escapes: inheritable and ambient capabilities are only what the config asks" {
  cfg '.process.capabilities = {bounding: ["CAP_KILL","CAP_NET_BIND_SERVICE"], effective: ["CAP_KILL"],
        permitted: ["CAP_KILL","CAP_NET_BIND_SERVICE"]}'
  in_container /probe caps
  assert_success
  assert_equal "$(caps_of CapInh)" 0000000000000000 "CapInh"
  assert_equal "$(caps_of CapAmb)" 0000000000000000 "CapAmb"
  # CAP_KILL = 5, CAP_NET_BIND_SERVICE = 10
  assert_equal "$(caps_of CapPrm)" 0000000000000420 "CapPrm"
  # asked for: exactly those
  cfg '.process.capabilities.inheritable = ["CAP_NET_BIND_SERVICE"] | .process.capabilities.ambient = ["CAP_NET_BIND_SERVICE"]'
  in_container /probe caps
  assert_success
  assert_equal "$(caps_of CapInh)" 0000000000000400 "CapInh"
  assert_equal "$(caps_of CapAmb)" 0000000000000400 "CapAmb"
}

@test "escapes: the caller's inheritable capabilities do not reach the container" {
  skip_in_user_mode "an unprivileged caller has no inheritable capabilities to give"
  cfg '.process.capabilities = {bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]}'
  set_args /probe caps
  run --separate-stderr setpriv --inh-caps=+net_raw,+sys_admin -- "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" inh
  assert_success
  assert_equal "$(caps_of CapInh)" 0000000000000000 "CapInh"
  assert_equal "$(caps_of CapAmb)" 0000000000000000 "CapAmb"
  # and for exec
  set_args /probe sleep 100
  start_detached inhx
  run --separate-stderr setpriv --inh-caps=+net_raw,+sys_admin -- "$NOOK_BIN" --root "$STATE_ROOT" exec inhx /probe caps
  assert_success
  assert_equal "$(caps_of CapInh)" 0000000000000000 "CapInh of exec"
  assert_equal "$(caps_of CapAmb)" 0000000000000000 "CapAmb of exec"
}

# ---------------------------------------------------------------------------------------
# The state directory

@test "escapes: state files are 0600 in 0700 directories" {
  set_args /probe sleep 100
  create_container perms
  assert_equal "$(stat -c %a "$STATE_ROOT")" 700 "state root"
  assert_equal "$(stat -c %a "$STATE_ROOT/perms")" 700 "container directory"
  local f
  for f in "$STATE_ROOT"/perms/*; do
    assert_equal "$(stat -c %a "$f")" 600 "$f"
  done
  [[ -p $STATE_ROOT/perms/exec.fifo ]]
  # a umask that would open them up changes nothing
  nook delete --force perms
  rm -rf "$STATE_ROOT"
  (umask 000 && nook create --bundle "$BUNDLE" perms2 </dev/null >/dev/null 2>&1)
  assert_equal "$(stat -c %a "$STATE_ROOT")" 700 "state root (umask 0)"
  assert_equal "$(stat -c %a "$STATE_ROOT/perms2")" 700 "container directory (umask 0)"
  for f in "$STATE_ROOT"/perms2/*; do
    assert_equal "$(stat -c %a "$f")" 600 "$f (umask 0)"
  done
}

@test "escapes: an ID cannot leave the state directory, not even through a planted symlink" {
  mkdir -p "$STATE_ROOT" "$TEST_DIR/elsewhere"
  touch "$TEST_DIR/elsewhere/keep"
  [[ -n ${NOOK_AS_USER_UID:-} ]] && chown -R "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$STATE_ROOT" "$TEST_DIR/elsewhere"
  ln -s "$TEST_DIR/elsewhere" "$STATE_ROOT/planted"
  run nook create --bundle "$BUNDLE" planted
  assert_failure
  run nook delete --force planted
  run nook state planted
  assert_failure
  run nook list -q
  assert_success
  [[ -e $TEST_DIR/elsewhere/keep ]]
  assert_equal "$(ls -A "$TEST_DIR/elsewhere")" keep "the symlink's target"
  rm "$STATE_ROOT/planted"
  local id
  for id in ../elsewhere ../../x /etc/passwd elsewhere/../../x; do
    run nook delete --force "$id"
    assert_failure
    run nook create --bundle "$BUNDLE" "$id"
    assert_failure
  done
  assert_equal "$(ls -A "$TEST_DIR/elsewhere")" keep "after ../ IDs"
}

# ---------------------------------------------------------------------------------------
# Issue 14: trust decisions that must not depend on the image

# host_caps PID KEY: a capability mask of PID as the host's /proc shows it.
host_caps() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

@test "escapes: the bounding set does not come from the image's /proc/sys/kernel/cap_last_cap" {
  # No /proc mount: the path is the image's file, which says -1 (drop nothing).
  cfg '.mounts |= map(select(.destination != "/proc")) | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
  cfg '.process.capabilities = {bounding: ["CAP_KILL","CAP_NET_BIND_SERVICE"], effective: ["CAP_KILL","CAP_NET_BIND_SERVICE"], permitted: ["CAP_KILL","CAP_NET_BIND_SERVICE"]}'
  mkdir -p "$ROOTFS/proc/sys/kernel"
  echo -1 >"$ROOTFS/proc/sys/kernel/cap_last_cap"
  set_args /probe sleep 100
  start_detached bnd
  local pid
  pid=$(container_pid bnd)
  assert_equal "$(host_caps "$pid" CapBnd)" 0000000000000420 "CapBnd"
  assert_equal "$(host_caps "$pid" CapEff)" 0000000000000420 "CapEff"
}

@test "escapes: exec's bounding set survives a container that overmounts /proc/sys/kernel" {
  # CAP_SYS_ADMIN in the container (its user namespace, unprivileged): it mounts a tmpfs over
  # /proc/sys/kernel whose cap_last_cap says -1, then asks for an exec.
  cfg '.process.capabilities = {bounding: ["CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"], effective: ["CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"], permitted: ["CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"]}'
  cfg '.linux.readonlyPaths = [] | .linux.maskedPaths = []'
  set_args /bin/sh -c 'mount -t tmpfs none /proc/sys/kernel && echo -1 >/proc/sys/kernel/cap_last_cap && cat /proc/sys/kernel/cap_last_cap && sleep 1000'
  start_detached ovm
  local i
  for ((i = 0; i < 50; i++)); do grep -q -- -1 "$TEST_DIR/ovm.out" && break; sleep 0.1; done
  grep -q -- -1 "$TEST_DIR/ovm.out" || { cat "$TEST_DIR/ovm.out" "$TEST_DIR/ovm.err"; false; }
  nook_bg "$TEST_DIR/x" exec ovm /probe sleep 100
  local pid=
  for ((i = 0; i < 100; i++)); do
    pid=$(pgrep -f -n '^/probe sleep 100$' || true)
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]]
  assert_equal "$(host_caps "$pid" CapBnd)" 0000000000200420 "CapBnd of exec"
  assert_equal "$(host_caps "$pid" CapEff)" 0000000000200420 "CapEff of exec"
}

@test "escapes: a net sysctl is refused in a network namespace that is nook's own" {
  local key=net.ipv4.tcp_keepalive_time before
  before=$(sysctl -n "$key")
  cfg --arg v "$((before + 7))" '.linux.sysctl = {"net.ipv4.tcp_keepalive_time": $v}'
  cfg '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/net" else . end)'
  cfg 'if ([.linux.namespaces[] | select(.type == "network")] | length) == 0 then .linux.namespaces += [{type: "network", path: "/proc/self/ns/net"}] else . end'
  set_args /bin/true
  run --separate-stderr nook run --bundle "$BUNDLE" hostnet
  local after
  after=$(sysctl -n "$key")
  [[ $after == "$before" ]] || sysctl -qw "$key=$before"
  assert_equal "$after" "$before" "the host's $key"
  assert_failure
  output=$stderr
  assert_output_contains "/linux/sysctl/$key: needs a network namespace of the container's own"
  assert_no_container hostnet
}

@test "escapes: a program without the execute bit fails create, and nothing is left" {
  cp "$ROOTFS/probe" "$ROOTFS/noexec"
  chmod 0644 "$ROOTFS/noexec"
  set_args /noexec cwd
  nook_create nox
  [[ $status -ne 0 ]]
  assert_output_contains 'exec: "/noexec": permission denied'
  assert_no_container nox
}

@test "escapes: device nodes made in the image's /dev are removed when create fails" {
  # No tmpfs on /dev: the default devices are made in the rootfs itself (mknod as root, bind
  # placeholders unprivileged); a create that then fails must take them away again.
  cfg '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
  local before
  before=$(ls -A "$ROOTFS/dev")
  cp "$ROOTFS/probe" "$ROOTFS/noexec"
  chmod 0644 "$ROOTFS/noexec"
  set_args /noexec cwd
  nook_create devleft
  [[ $status -ne 0 ]]
  assert_equal "$(ls -A "$ROOTFS/dev")" "$before" "the image's /dev after a failed create"
  # and a create that works does make them (the test can fail)
  set_args /probe cwd
  create_container devmade
  [[ -e $ROOTFS/dev/null ]]
}

@test "escapes: CVE-2025-31133: maskedPaths with the image's /dev/null a symlink into /proc" {
  # No /dev tmpfs: /dev is the image's, and its null is a symlink to a host-wide sysctl file.
  # Masking with it would bind core_pattern, writable, over the masked path.
  cfg '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
  cfg '.linux.maskedPaths = ["/proc/uptime"]'
  rm -f "$ROOTFS/dev/null"
  ln -s /proc/sys/kernel/core_pattern "$ROOTFS/dev/null"
  local before
  before=$(cat /proc/sys/kernel/core_pattern)
  set_args /bin/sh -c 'echo "|/evil" > /proc/uptime; cat /proc/uptime'
  run --separate-stderr nook run --bundle "$BUNDLE" mask
  echo "# status $status: $output / $stderr" >&3
  assert_failure
  output=$stderr
  assert_output_contains "masked path /proc/uptime: the container has no /dev/null character device"
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$before" "the host's core_pattern"
  assert_no_container mask
}

@test "escapes: CVE-2025-52565: the terminal is never bound through a /dev/console symlink" {
  cfg '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
  cfg '.process.terminal = true'
  mkdir -p "$ROOTFS/dev/pts"
  rm -f "$ROOTFS/dev/console"
  ln -s /proc/sys/kernel/core_pattern "$ROOTFS/dev/console"
  cfg '.mounts += [{destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]}]'
  SOCK=$TEST_DIR/console.sock
  as_user "$NOOK_RECVTTY" "$SOCK" -t 20 >"$TEST_DIR/tty.out" 2>"$TEST_DIR/tty.err" </dev/null &
  wait_for_file "$SOCK"
  local before
  before=$(cat /proc/sys/kernel/core_pattern)
  set_args /bin/true
  nook_create con --console-socket "$SOCK"
  echo "# status $status: $output" >&3
  [[ $status -ne 0 ]]
  assert_output_contains "/dev/console in the container is a symlink"
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$before" "the host's core_pattern"
  [[ -L $ROOTFS/dev/console ]]
  assert_no_container con
}
