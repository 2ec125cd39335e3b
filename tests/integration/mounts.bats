#!/usr/bin/env bats
# Mounts (issue 2): the config's mounts in order with their options, and the standard
# /proc, /dev, /dev/pts, /dev/shm and /sys the container sees.

load ../lib/common

# mount_opts DEST: the per-mount options field of DEST's line from `probe mounts` ($output)
has_opt() { tr ',' '\n' <<<"$1" | grep -qxF "$2"; }

# host_dir NAME: a directory on the host, owned by the test user, holding file "hello"
host_dir() {
  local d=$TEST_DIR/$1
  mkdir -p "$d"
  echo "hello from the host" >"$d/hello"
  is_user_mode && chown -R "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$d"
  echo "$d"
}

@test "mounts: a read-only bind mount from config.json is there with its options" {
  local src
  src=$(host_dir data)
  add_mount /mnt/data bind "$src" rbind ro nosuid nodev noexec
  set_args sh -c '/probe mounts /mnt/data; /probe cat /mnt/data/hello; /probe write /mnt/data/new'
  run nook run --bundle "$BUNDLE" bind1
  assert_status 1
  local opts=${lines[0]%% *}
  local o
  for o in ro nosuid nodev noexec; do
    has_opt "$opts" "$o" || { echo "option $o missing: ${lines[0]}" >&2; return 1; }
  done
  assert_equal "${lines[1]}" "hello from the host" "file content"
  assert_equal "${lines[2]}" "EROFS" "write"
  [[ ! -e $src/new ]]
}

@test "mounts: a writable bind mount: writes inside reach the host" {
  local src
  src=$(host_dir rwdata)
  add_mount /mnt/rw bind "$src" bind rw
  set_args sh -c '/probe mounts /mnt/rw; /probe write /mnt/rw/from-container'
  run nook run --bundle "$BUNDLE" bind2
  assert_success
  has_opt "${lines[0]%% *}" rw || { echo "not rw: ${lines[0]}" >&2; return 1; }
  assert_equal "${lines[1]}" ok "write"
  assert_equal "$(cat "$src/from-container")" probe "content on the host"
}

@test "mounts: a bind mount of a single file" {
  local src
  src=$(host_dir filedata)
  add_mount /etc/injected bind "$src/hello" bind ro
  set_args /probe cat /etc/injected
  run nook run --bundle "$BUNDLE" bindfile
  assert_success
  assert_output "hello from the host"
}

@test "mounts: plain binds (no flags) onto existing directories and files, among flagged ones" {
  local src
  src=$(host_dir plain)
  mkdir -p "$ROOTFS/mnt/p1" "$ROOTFS/mnt/p3"
  : >"$ROOTFS/mnt/pfile"
  add_mount /mnt/p1 bind "$src" bind
  add_mount /mnt/p2 bind "$src" bind ro
  add_mount /mnt/p3 bind "$src" rbind
  add_mount /mnt/pfile bind "$src/hello" bind
  add_mount /mnt/p4 bind "$src" bind rprivate
  # the working directory nook had is the one the hooks and the container see afterwards
  set_args sh -c 'for d in p1 p2 p3 p4; do /probe cat /mnt/$d/hello; /probe mounts /mnt/$d; done; /probe cat /mnt/pfile; /probe write /mnt/p1/w; /probe write /mnt/p2/w; pwd'
  run nook run --bundle "$BUNDLE" plain1
  assert_success
  assert_equal "${lines[0]}" "hello from the host" "p1"
  has_opt "${lines[1]%% *}" rw || { echo "p1 not rw: ${lines[1]}" >&2; return 1; }
  has_opt "${lines[3]%% *}" ro || { echo "p2 not ro: ${lines[3]}" >&2; return 1; }
  assert_equal "${lines[8]}" "hello from the host" "file"
  assert_equal "${lines[9]}" ok "write to the plain bind"
  assert_equal "${lines[10]}" EROFS "write to the ro bind"
  assert_equal "${lines[11]}" / "cwd"
}

@test "mounts: a missing destination directory is created in the rootfs" {
  local src
  src=$(host_dir deep)
  add_mount /new/deep/dir bind "$src" bind
  set_args /probe cat /new/deep/dir/hello
  run nook run --bundle "$BUNDLE" mkdest
  assert_success
  assert_output "hello from the host"
}

@test "mounts: tmpfs with size and mode" {
  add_mount /scratch tmpfs tmpfs size=1m mode=700 nosuid
  set_args sh -c '/probe mounts /scratch; /probe stat /scratch; /probe write /scratch/x'
  run nook run --bundle "$BUNDLE" tmpfs1
  assert_success
  [[ ${lines[0]} == *" tmpfs "* ]] || { echo "not tmpfs: ${lines[0]}" >&2; return 1; }
  local super=${lines[0]##* }
  has_opt "$super" size=1024k || { echo "size not applied: ${lines[0]}" >&2; return 1; }
  has_opt "$super" mode=700 || { echo "mode not applied: ${lines[0]}" >&2; return 1; }
  has_opt "${lines[0]%% *}" nosuid || { echo "nosuid missing: ${lines[0]}" >&2; return 1; }
  [[ ${lines[1]} == *" 0700 d" ]] || { echo "stat: ${lines[1]}" >&2; return 1; }
  assert_equal "${lines[2]}" ok "write"
}

@test "mounts: applied in order (a bind inside an earlier tmpfs)" {
  local src
  src=$(host_dir ordered)
  add_mount /stack tmpfs tmpfs size=1m
  add_mount /stack/inner bind "$src" bind ro
  set_args sh -c '/probe mounts /stack; /probe cat /stack/inner/hello'
  run nook run --bundle "$BUNDLE" order1
  assert_success
  [[ ${lines[0]} == *" tmpfs "* ]]
  assert_equal "${lines[1]}" "hello from the host" "bind inside the tmpfs"
}

@test "mounts: a bind source that does not exist is an error naming it, nothing is left" {
  add_mount /mnt/x bind "$TEST_DIR/no-such-source" bind
  run --separate-stderr nook run --bundle "$BUNDLE" badsrc
  assert_failure
  output=$stderr
  assert_output_contains "no-such-source"
  assert_no_container badsrc
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts"
}

@test "mounts: /proc is a procfs showing this process" {
  set_args sh -c '/probe mounts /proc; /probe readlink /proc/self/exe'
  run nook run --bundle "$BUNDLE" proc1
  assert_success
  [[ ${lines[0]} == *" proc "* ]] || { echo "${lines[0]}" >&2; return 1; }
  assert_equal "${lines[1]}" /probe "/proc/self/exe"
}

@test "mounts: /sys is there and read-only" {
  set_args sh -c '/probe mounts /sys; /probe ls /sys'
  run nook run --bundle "$BUNDLE" sys1
  assert_success
  [[ ${lines[0]} == *" sysfs "* ]] || { echo "${lines[0]}" >&2; return 1; }
  has_opt "${lines[0]%% *}" ro || { echo "/sys is not read-only: ${lines[0]}" >&2; return 1; }
  assert_output_contains "kernel"
}

@test "mounts: /dev holds the spec's default devices" {
  set_args sh -c 'for d in null zero full random urandom tty; do /probe stat /dev/$d; done'
  run nook run --bundle "$BUNDLE" dev1
  assert_success
  local want=("1:3" "1:5" "1:7" "1:8" "1:9" "5:0") i
  for i in 0 1 2 3 4 5; do
    [[ ${lines[$i]} == *" 0666 c ${want[$i]}" ]] ||
      { echo "device $i: '${lines[$i]}', wanted mode 0666 char ${want[$i]}" >&2; return 1; }
  done
}

@test "mounts: /dev devices work: write to null, read from zero" {
  set_args sh -c 'echo x >/dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1 | tr -d " "; head -c 8 /dev/urandom | wc -c'
  run nook run --bundle "$BUNDLE" dev2
  assert_success
  assert_output $'null-ok\n00000000\n8'
}

@test "mounts: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr and /dev/ptmx links" {
  set_args sh -c 'for l in fd stdin stdout stderr; do /probe readlink /dev/$l; done; /probe stat /dev/ptmx'
  run nook run --bundle "$BUNDLE" dev3
  assert_success
  assert_equal "${lines[0]}" /proc/self/fd "/dev/fd"
  assert_equal "${lines[1]}" /proc/self/fd/0 "/dev/stdin"
  assert_equal "${lines[2]}" /proc/self/fd/1 "/dev/stdout"
  assert_equal "${lines[3]}" /proc/self/fd/2 "/dev/stderr"
  # a link to pts/ptmx, or the pts/ptmx node bound there
  [[ ${lines[4]} == *" l" || ${lines[4]} == *" c 5:2" ]] || { echo "ptmx: ${lines[4]}" >&2; return 1; }
}

@test "mounts: /dev/pts is a new devpts instance, /dev/shm a tmpfs, /dev a tmpfs" {
  set_args sh -c '/probe mounts /dev; /probe mounts /dev/pts; /probe mounts /dev/shm; /probe ls /dev/pts'
  run nook run --bundle "$BUNDLE" dev4
  assert_success
  [[ ${lines[0]} == *" tmpfs "* ]] || { echo "/dev: ${lines[0]}" >&2; return 1; }
  [[ ${lines[1]} == *" devpts "* ]] || { echo "/dev/pts: ${lines[1]}" >&2; return 1; }
  [[ ${lines[2]} == *" tmpfs "* ]] || { echo "/dev/shm: ${lines[2]}" >&2; return 1; }
  # a new instance: no pty of the host's shows up, only ptmx
  assert_equal "${lines[3]}" ptmx "/dev/pts content"
  [[ ${#lines[@]} -eq 4 ]] || { echo "$output" >&2; return 1; }
}

@test "mounts: /dev/shm is writable" {
  set_args /probe write /dev/shm/x
  run nook run --bundle "$BUNDLE" shm1
  assert_success
  assert_output ok
}

@test "mounts: nothing the container mounted is visible on the host, during or after" {
  local src
  src=$(host_dir during)
  add_mount /mnt/data bind "$src" bind ro
  add_mount /scratch tmpfs tmpfs size=1m
  set_args /probe sleep 60
  create_container vis1
  run nook start vis1
  assert_success
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts while running"
  run nook delete --force vis1
  assert_success
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts after delete"
}

@test "mounts: mqueue from the config" {
  cfg '.mounts |= map(select(.destination != "/dev/mqueue"))'
  add_mount /dev/mqueue mqueue mqueue nosuid noexec nodev
  set_args /probe mounts /dev/mqueue
  run nook run --bundle "$BUNDLE" mq1
  assert_success
  [[ $output == *" mqueue "* ]] || { echo "$output" >&2; return 1; }
}

@test "mounts: rbind carries the source's submounts, bind does not" {
  local src
  src=$(host_dir withsub)
  mkdir -p "$src/sub"
  mount -t tmpfs -o size=1m nooksub "$src/sub" || skip "cannot mount a tmpfs on the host"
  echo "in the submount" >"$src/sub/file"
  add_mount /mnt/r bind "$src" rbind ro
  if is_root_mode; then
    add_mount /mnt/b bind "$src" bind ro
    set_args sh -c '/probe cat /mnt/r/sub/file; /probe ls /mnt/b/sub'
  else
    # In a user namespace the kernel refuses (EINVAL) a non-recursive bind of a tree with
    # submounts it would uncover (they are locked), so only rbind is checked here.
    set_args sh -c '/probe cat /mnt/r/sub/file'
  fi
  run nook run --bundle "$BUNDLE" rbind1
  umount "$src/sub"
  assert_success
  assert_equal "${lines[0]}" "in the submount" "through rbind"
  assert_equal "${#lines[@]}" 1 "entries under the plain bind's sub (none)"
}
