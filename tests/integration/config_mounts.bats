#!/usr/bin/env bats
# Config keys, filesystem part (docs/config-keys.md): root, mounts[] and their options,
# linux.devices, maskedPaths, readonlyPaths, rootfsPropagation. Checked from inside the
# container with /probe and /keyprobe, as root and as an unprivileged user.

load ../lib/common
load config_lib

setup_file() { config_setup_file; }
setup() { config_setup; }

# ---------------------------------------------------------------------------------------------
# root

@test "root.path: relative to the bundle, or absolute" {
  inside relroot /probe cat /etc/nook-test-marker
  assert_success
  assert_output "nook test rootfs"
  cfg --arg r "$ROOTFS" '.root.path = $r'
  inside absroot /probe cat /etc/nook-test-marker
  assert_success
  assert_output "nook test rootfs"
}

@test "root.readonly: true makes / read-only, false leaves it writable" {
  cfg '.root.readonly = true'
  inside ro1 /probe write /rootfile
  assert_failure
  assert_output "EROFS"
  cfg '.root.readonly = false'
  inside ro2 /probe write /rootfile
  assert_success
  [[ -f $ROOTFS/rootfile ]]
}

# ---------------------------------------------------------------------------------------------
# mounts[]: options

@test "mounts: bind with ro, nosuid, nodev, noexec" {
  user_dir "$TEST_DIR/src"
  cp "$NOOK_KEYPROBE" "$TEST_DIR/src/kp"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$TEST_DIR/src/kp"
  add_mount /mnt/b bind "$TEST_DIR/src" bind ro nosuid nodev noexec
  inside_sh opts1 '/probe mounts /mnt/b; /probe write /mnt/b/new; /keyprobe exec /mnt/b/kp'
  assert_output_matches '^ro,nosuid,nodev,noexec'
  assert_output_contains $'\nEROFS\nEACCES'
  [[ ! -e $TEST_DIR/src/new ]]
}

@test "mounts: rw, suid, dev and exec leave a bind mount writable and executable" {
  user_dir "$TEST_DIR/src"
  cp "$NOOK_KEYPROBE" "$TEST_DIR/src/kp"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$TEST_DIR/src/kp"
  add_mount /mnt/b bind "$TEST_DIR/src" bind rw suid dev exec
  inside_sh opts2 '/probe mounts /mnt/b; /probe write /mnt/b/new; /keyprobe exec /mnt/b/kp'
  assert_success
  assert_output_matches '^rw'
  assert_output_contains $'\nok\nok'
  [[ -f $TEST_DIR/src/new ]]
}

@test "mounts: sync and dirsync reach the filesystem" {
  add_mount /mnt/s tmpfs tmpfs sync dirsync
  inside sync1 /probe mounts /mnt/s
  assert_success
  assert_output_matches 'tmpfs .*sync'
  assert_output_contains "dirsync"
}

@test "mounts: the atime family (noatime, relatime, strictatime, nodiratime)" {
  add_mount /mnt/a1 tmpfs tmpfs noatime
  add_mount /mnt/a2 tmpfs tmpfs relatime
  add_mount /mnt/a3 tmpfs tmpfs strictatime
  add_mount /mnt/a4 tmpfs tmpfs nodiratime
  inside_sh atime1 'for m in a1 a2 a3 a4; do /probe mounts /mnt/$m; done'
  assert_success
  local l1 l2 l3 l4
  { read -r l1; read -r l2; read -r l3; read -r l4; } <<<"$output"
  [[ $l1 == *noatime* ]] || { echo "noatime: $l1" >&2; false; }
  [[ $l2 == *relatime* ]] || { echo "relatime: $l2" >&2; false; }
  [[ $l3 != *relatime* && $l3 != *noatime* ]] || { echo "strictatime: $l3" >&2; false; }
  [[ $l4 == *nodiratime* ]] || { echo "nodiratime: $l4" >&2; false; }
}

@test "mounts: bind leaves submounts out, rbind brings them" {
  user_dir "$TEST_DIR/src/sub"
  mount -t tmpfs -o mode=1777 nooksub "$TEST_DIR/src/sub"
  touch "$TEST_DIR/src/sub/in-submount"
  add_mount /mnt/rec bind "$TEST_DIR/src" rbind
  add_mount /mnt/plain bind "$TEST_DIR/src" bind
  if is_user_mode; then
    # the kernel refuses a plain bind that would uncover what the host's (locked) submount
    # hides, in a user namespace (EINVAL); nook reports it with the mount
    expect_create_error bind1 "/mnt/plain"
    cfg '.mounts |= map(select(.destination != "/mnt/plain"))'
    inside_sh bind2 'echo rec; /probe ls /mnt/rec/sub'
    assert_success
    assert_output $'rec\nin-submount'
    return
  fi
  inside_sh bind1 'echo plain; /probe ls /mnt/plain/sub; echo rec; /probe ls /mnt/rec/sub'
  assert_success
  assert_output $'plain\nrec\nin-submount'
}

@test "mounts: ro on an rbind is the top only; rro makes every submount read-only" {
  user_dir "$TEST_DIR/src/sub"
  mount -t tmpfs -o mode=1777 nooksub "$TEST_DIR/src/sub"
  add_mount /mnt/ro bind "$TEST_DIR/src" rbind ro
  add_mount /mnt/rro bind "$TEST_DIR/src" rbind rro
  inside_sh rro1 '/probe write /mnt/ro/sub/x; /probe write /mnt/rro/sub/x; /probe write /mnt/rro/y; /keyprobe submounts /mnt/rro'
  assert_output_matches $'^ok\nEROFS\nEROFS\n/mnt/rro/sub ro'
}

@test "mounts: propagation flags private, shared, slave, unbindable (and r*)" {
  user_dir "$TEST_DIR/a" "$TEST_DIR/b"
  add_mount /mnt/shared bind "$TEST_DIR/a" bind shared
  # a bind of the (shared) mount just made, turned into its slave
  add_mount /mnt/slave bind "$ROOTFS/mnt/shared" bind slave
  add_mount /mnt/rshared bind "$TEST_DIR/b" rbind rshared
  add_mount /mnt/rslave bind "$ROOTFS/mnt/rshared" rbind rslave
  add_mount /mnt/private bind "$TEST_DIR/a" bind private
  add_mount /mnt/rprivate bind "$TEST_DIR/a" rbind rprivate
  add_mount /mnt/unbindable bind "$TEST_DIR/a" bind unbindable
  add_mount /mnt/runbindable bind "$TEST_DIR/a" rbind runbindable
  inside_sh prop1 'for m in shared slave rshared rslave private rprivate unbindable runbindable; do
    echo "$m $(/keyprobe propagation /mnt/$m)"; done'
  assert_success
  assert_output_matches $'^shared shared:[0-9]+\nslave master:[0-9]+\nrshared shared:[0-9]+\nrslave master:[0-9]+\nprivate private\nrprivate private\nunbindable unbindable\nrunbindable unbindable$'
}

@test "mounts: tmpfs size, mode, uid and gid" {
  add_mount /mnt/t tmpfs tmpfs size=1m mode=0710 uid=0 gid=0
  inside_sh tmpfs1 '/probe stat /mnt/t; /keyprobe statfs /mnt/t'
  assert_success
  assert_output $'0 0 0710 d\nblocks 256 bsize 4096'
}

@test "mounts: tmpfs uid/gid the user namespace does not map: honoured as root, refused unprivileged" {
  add_mount /mnt/t tmpfs tmpfs uid=1000 gid=1000
  if is_user_mode; then
    expect_create_error tmpfsuid "/mnt/t"
  else
    inside tmpfsuid /probe stat /mnt/t
    assert_success
    assert_output "1000 1000 1777 d"
  fi
}

@test "mounts: proc is the container's own (its PID namespace)" {
  inside_sh proc1 '/probe mounts /proc; /probe readlink /proc/self'
  assert_success
  assert_output_matches $' proc [^\n]*\n1$'
}

@test "mounts: sysfs, and unprivileged without a network namespace a read-only bind of the host's" {
  cfg '.mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]} else . end)'
  remove_namespace network
  set_args /bin/sh -c '/probe mounts /sys; /keyprobe submounts /sys | grep -v " ro" || echo all-submounts-ro; /probe write /sys/kernel/x; true'
  run --separate-stderr nook --debug run --bundle "$BUNDLE" sys1
  assert_success
  assert_output_matches $'^ro,[^\n]* sysfs [^\n]*\nall-submounts-ro\nEROFS'
  if is_user_mode; then
    [[ $stderr == *"bind-mounting the host's /sys"* ]] || { echo "no fallback log line: $stderr" >&2; false; }
  else
    [[ $stderr != *"bind-mounting the host's /sys"* ]] || { echo "unexpected fallback: $stderr" >&2; false; }
  fi
}

@test "mounts: sysfs with its own network namespace is a fresh mount (root and unprivileged)" {
  cfg '.mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]} else . end)'
  add_namespace network
  set_args /probe mounts /sys
  run --separate-stderr nook --debug run --bundle "$BUNDLE" sys2
  assert_success
  assert_output_matches '^ro,.* sysfs '
  [[ $stderr != *"bind-mounting the host's /sys"* ]] || { echo "unexpected fallback: $stderr" >&2; false; }
}

@test "mounts: devpts gid=5 honoured as root, dropped with a log line in single-ID mode" {
  cfg '.mounts |= map(if .destination == "/dev/pts" then .options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] else . end)'
  set_args /probe mounts /dev/pts
  run --separate-stderr nook --debug run --bundle "$BUNDLE" pts1
  assert_success
  assert_output_matches ' devpts .*mode=620'
  if is_user_mode; then
    assert_output_not_contains "gid=5"
    [[ $stderr == *"gid= dropped"* ]] || { echo "no log line: $stderr" >&2; false; }
  else
    assert_output_contains "gid=5"
  fi
}

@test "mounts: mqueue is a fresh mqueue filesystem" {
  inside mq1 /probe mounts /dev/mqueue
  assert_success
  assert_output_matches '^rw,nosuid,nodev,noexec.* mqueue '
}

@test "mounts: cgroup (hybrid or v1 host: a recursive read-only bind of the host's hierarchies)" {
  cfg '.mounts |= map(select(.destination != "/sys/fs/cgroup")) | .mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}]'
  # the last mount at /sys/fs/cgroup is the visible one; every hierarchy under it is read-only
  inside_sh cg1 '/probe mounts /sys/fs/cgroup | tail -n 1; /probe write /sys/fs/cgroup/x; /probe write /sys/fs/cgroup/pids/x; true'
  assert_success
  assert_output_matches $'^ro,[^\n]*\nEROFS\nEROFS$'
}

@test "mounts: missing destination directories and files are created" {
  user_dir "$TEST_DIR/srcdir"
  user_file "$TEST_DIR/srcfile" "file content"
  add_mount /new/deep/dir bind "$TEST_DIR/srcdir" bind
  add_mount /new/other/file bind "$TEST_DIR/srcfile" bind
  inside_sh dest1 '/probe stat /new/deep/dir | cut -d" " -f4; /probe cat /new/other/file'
  assert_success
  assert_output $'d\nfile content'
  [[ -d $ROOTFS/new/deep/dir && -f $ROOTFS/new/other/file ]]
}

@test "mounts: a relative bind source is relative to the bundle" {
  user_dir "$BUNDLE/data"
  user_file "$BUNDLE/data/hello" "from the bundle"
  add_mount /data bind data bind ro
  inside relsrc /probe cat /data/hello
  assert_success
  assert_output "from the bundle"
}

# runc opens bind sources on the host's side; nook opens them with the caller's rights too
# (send_bind_sources in mounts.cpp). Root: the container's root is host uid 100000, which
# cannot search the mode 0000 directory. Unprivileged: the container's root is the caller's
# own uid, which may search its own directory there (CAP_DAC_OVERRIDE over its own files) but
# not on the host: the source is resolved by the container, as before.
@test "mounts: a bind source below a directory the container's root cannot search" {
  user_dir "$TEST_DIR/locked" "$TEST_DIR/locked/src" "$TEST_DIR/open" "$TEST_DIR/open/src"
  user_file "$TEST_DIR/locked/src/hello" "hello"
  user_file "$TEST_DIR/open/src/hello" "open"
  ln -s src "$TEST_DIR/open/link"
  chmod 0000 "$TEST_DIR/locked"
  if is_root_mode; then
    add_namespace user
    cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chown -R 100000:100000 "$ROOTFS"
  fi
  add_mount /mnt/plain bind "$TEST_DIR/locked/src" bind
  add_mount /mnt/rbind-ro bind "$TEST_DIR/locked/src" rbind ro
  add_mount /mnt/file bind "$TEST_DIR/locked/src/hello" bind
  # a source with a symlink in it is resolved as before, by the container
  add_mount /mnt/vialink bind "$TEST_DIR/open/link" bind
  inside_sh lock1 '/probe cat /mnt/plain/hello; /probe cat /mnt/rbind-ro/hello; /probe cat /mnt/file; /probe cat /mnt/vialink/hello; /probe write /mnt/rbind-ro/x || true'
  chmod 0755 "$TEST_DIR/locked"
  assert_success
  assert_output $'hello\nhello\nhello\nopen\nEROFS'
}

@test "mounts: a bind source is never resolved through a symlink with the caller's rights" {
  skip_in_user_mode "the caller's rights are the container root's"
  mkdir -p "$TEST_DIR/locked/src"
  echo secret >"$TEST_DIR/locked/src/hello"
  ln -s src "$TEST_DIR/locked/link"
  chmod 0000 "$TEST_DIR/locked"
  add_namespace user
  cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
  chown -R 100000:100000 "$ROOTFS"
  # the symlink is followed by the container's root (uid 100000), which cannot search there
  add_mount /mnt/l bind "$TEST_DIR/locked/link" bind
  expect_create_error lock2 "Permission denied"
  chmod 0755 "$TEST_DIR/locked"
}

@test "mounts: a destination through a symlink out of the rootfs stays in the rootfs" {
  user_dir "$TEST_DIR/hostdir" "$TEST_DIR/hostdir2"
  ln -s "$TEST_DIR/hostdir" "$ROOTFS/escape-abs"
  ln -s "../../../../../../../../..$TEST_DIR/hostdir2" "$ROOTFS/escape-rel"
  add_mount /escape-abs/sub tmpfs tmpfs
  add_mount /escape-rel/sub tmpfs tmpfs
  inside_sh esc1 '/probe write /escape-abs/sub/f; /probe write /escape-rel/sub/f'
  assert_success
  assert_output $'ok\nok'
  # nothing on the host: no mount, no new entry
  assert_equal "$(host_mounts_under "$TEST_DIR/hostdir")$(host_mounts_under "$TEST_DIR/hostdir2")" "" "host mounts"
  assert_equal "$(ls -A "$TEST_DIR/hostdir" "$TEST_DIR/hostdir2" | grep -v '^/\|^$' || true)" "" "host dirs' content"
  # the mount points were made inside the rootfs instead
  [[ -d $ROOTFS$TEST_DIR/hostdir/sub && -d $ROOTFS$TEST_DIR/hostdir2/sub ]]
}

@test "mounts: proc and sysfs are never mounted on a symlink" {
  rmdir "$ROOTFS/proc"
  ln -s /tmp "$ROOTFS/proc"
  expect_create_error proclink "symlink"
}

# The recursive atime family (mount_setattr AT_RECURSIVE): on a tree of the container's own
# mounts in both modes; on a tree from the host as root, while unprivileged the kernel keeps
# the host mounts' (locked) atime mode, and nook says so in its log.
@test "mounts: rnoatime on an rbind reaches every submount; the rest of the recursive atime family" {
  add_mount /mnt/t tmpfs tmpfs
  add_mount /mnt/t/sub tmpfs tmpfs
  add_mount /mnt/r bind "$ROOTFS/mnt/t" rbind rnoatime
  add_mount /mnt/s bind "$ROOTFS/mnt/t" rbind rstrictatime
  add_mount /mnt/rel bind "$ROOTFS/mnt/t" rbind rnoatime rrelatime
  add_mount /mnt/f tmpfs tmpfs noatime ratime
  user_dir "$TEST_DIR/src/sub"
  mount -t tmpfs -o mode=1777 nooksub "$TEST_DIR/src/sub"
  add_mount /mnt/h bind "$TEST_DIR/src" rbind rnoatime
  set_args /bin/sh -c 'for m in /mnt/r /mnt/r/sub /mnt/s/sub /mnt/rel/sub /mnt/t/sub /mnt/f /mnt/h/sub; do /probe mounts $m; done'
  run --separate-stderr nook --debug run --bundle "$BUNDLE" ratime1
  assert_success
  local -a l
  mapfile -t l <<<"$output"
  [[ ${l[0]} == *,noatime* && ${l[1]} == *,noatime* ]] || { echo "rnoatime: ${l[0]} / ${l[1]}" >&2; false; }
  [[ ${l[2]} != *relatime* && ${l[2]} != *noatime* ]] || { echo "rstrictatime: ${l[2]}" >&2; false; }
  [[ ${l[3]} == *,relatime* ]] || { echo "rnoatime,rrelatime: ${l[3]}" >&2; false; }
  [[ ${l[4]} == *,relatime* ]] || { echo "the source tree changed: ${l[4]}" >&2; false; }
  [[ ${l[5]} == *,relatime* ]] || { echo "noatime,ratime: ${l[5]}" >&2; false; }
  if is_user_mode; then
    [[ ${l[6]} == *,relatime* ]] || { echo "host tree, unprivileged: ${l[6]}" >&2; false; }
    [[ $stderr == *"mount /mnt/h: recursive atime option not applied"*"locked"* ]] ||
      { echo "no log line: $stderr" >&2; false; }
  else
    [[ ${l[6]} == *,noatime* ]] || { echo "host tree: ${l[6]}" >&2; false; }
    [[ $stderr != *"recursive atime option not applied"* ]] || { echo "$stderr" >&2; false; }
  fi
}

# skip_without_idmap_tmpfs: tmpfs takes ID-mapped mounts from Linux 6.3 (FS_ALLOW_IDMAP); the
# tests below map a tmpfs (the ridmap submount, and $TEST_DIR where /tmp is one).
skip_without_idmap_tmpfs() {
  local v major minor
  v=$(uname -r)
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%[!0-9]*}
  ((major > 6 || (major == 6 && minor >= 3))) ||
    skip "tmpfs supports ID-mapped mounts from Linux 6.3, this kernel is $v"
}

# runtime-spec: containerID is the ID on the source's filesystem, hostID the one the container
# sees through the mount (runc's idmap.bats: a root-owned source with 0:100000 shows 100000 in
# a container without a user namespace). Here the source is owned by host uid 1000 and mapped
# 1000 -> 0: the container's root sees its own files, and what it makes gets 1000 on disk.
@test "mounts: an ID-mapped bind shows the mapped owner and writes the source's IDs" {
  [[ $(stat -f -c %T "$TEST_DIR") != tmpfs ]] || skip_without_idmap_tmpfs
  mkdir -p "$TEST_DIR/idsrc"
  echo hi >"$TEST_DIR/idsrc/f"
  touch "$TEST_DIR/idsrc/other"
  chown -R 1000:1001 "$TEST_DIR/idsrc"
  chown 2000:2000 "$TEST_DIR/idsrc/other"
  cfg --arg s "$TEST_DIR/idsrc" '.mounts += [{destination: "/mnt/id", type: "bind", source: $s, options: ["bind", "idmap"],
    uidMappings: [{containerID: 1000, hostID: 0, size: 1}], gidMappings: [{containerID: 1001, hostID: 0, size: 1}]}]'
  if is_user_mode; then
    expect_create_error idm1 "only for a caller with CAP_SYS_ADMIN in the user namespace that owns the source's filesystem"
    grep -q '/mounts/[0-9]*/uidMappings: the kernel sets an ID mapping' "$TEST_DIR/idm1.err"
    return
  fi
  inside_sh idm1 '/probe stat /mnt/id; /probe cat /mnt/id/f; /probe stat /mnt/id/f; /probe stat /mnt/id/other; /probe write /mnt/id/new; /probe stat /mnt/id/new; /probe mounts /mnt/id'
  assert_success
  local -a l
  mapfile -t l <<<"$output"
  assert_equal "${l[0]}" "0 0 0755 d" "the mapped directory"
  assert_equal "${l[1]}" "hi"
  assert_equal "${l[2]% *}" "0 0 0644" "a mapped file"
  assert_equal "${l[3]% * *}" "65534 65534" "an unmapped owner"
  assert_equal "${l[4]}" "ok"
  assert_equal "${l[5]% * *}" "0 0" "a new file, inside"
  [[ ${l[6]} == *idmapped* ]] || { echo "not idmapped: ${l[6]}" >&2; false; }
  assert_equal "$(stat -c '%u %g' "$TEST_DIR/idsrc/new")" "1000 1001" "the new file on the host"
  # the host's own view of the source is unchanged
  assert_equal "$(stat -c '%u %g' "$TEST_DIR/idsrc/f")" "1000 1001"
}

# idmap and ridmap without mappings take the container's user namespace (runc, crun): a source
# owned by host root shows as owned by the container's root; ridmap maps the submounts of an
# rbind too, idmap only its top.
@test "mounts: idmap without mappings takes the container's user namespace; ridmap maps submounts" {
  is_user_mode || skip_without_idmap_tmpfs
  add_namespace user
  if is_root_mode; then
    cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chown -R 100000:100000 "$ROOTFS"
  fi
  mkdir -p "$TEST_DIR/vol/sub"
  touch "$TEST_DIR/vol/f"
  chown 5:6 "$TEST_DIR/vol/f"
  mount -t tmpfs -o mode=0755 nookidsub "$TEST_DIR/vol/sub"
  add_mount /mnt/v bind "$TEST_DIR/vol" rbind ridmap
  add_mount /mnt/w bind "$TEST_DIR/vol" rbind idmap
  if is_user_mode; then
    expect_create_error idm2 "the kernel sets an ID mapping (mount_setattr(2) MOUNT_ATTR_IDMAP)"
    grep -q '/mounts/[0-9]*/options: the kernel sets an ID mapping' "$TEST_DIR/idm2.err"
    return
  fi
  inside_sh idm2 'for p in /mnt/v /mnt/v/f /mnt/v/sub /mnt/w /mnt/w/sub; do /probe stat $p; done; /probe write /mnt/v/new'
  assert_success
  local -a l
  mapfile -t l <<<"$output"
  assert_equal "${l[0]% * *}" "0 0" "ridmap: the top"
  assert_equal "${l[1]% * *}" "5 6" "ridmap: a file"
  assert_equal "${l[2]% * *}" "0 0" "ridmap: the submount"
  assert_equal "${l[3]% * *}" "0 0" "idmap: the top"
  assert_equal "${l[4]% * *}" "65534 65534" "idmap: the submount is not mapped"
  assert_equal "${l[5]}" "ok"
  assert_equal "$(stat -c '%u %g' "$TEST_DIR/vol/new")" "0 0" "the container's root wrote host root's IDs"
}

@test "mounts: ID-mapped mounts: mappings in pairs, binds only, idmap needs a user namespace" {
  user_dir "$TEST_DIR/src"
  cfg '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
  local m='[{containerID: 0, hostID: 1000, size: 1}]'
  cfg --arg s "$TEST_DIR/src" ".mounts += [{destination: \"/mnt/j\", type: \"bind\", source: \$s, options: [\"bind\"], uidMappings: $m}]"
  expect_create_error idm3 "uidMappings are given without gidMappings"
  cfg '.mounts |= map(select(.destination != "/mnt/j"))'
  add_mount /mnt/t tmpfs tmpfs idmap
  expect_create_error idm4 "ID-mapped mounts are bind mounts only"
  cfg '.mounts |= map(select(.destination != "/mnt/t"))'
  add_mount /mnt/i bind "$TEST_DIR/src" bind idmap
  expect_create_error idm5 "idmap without uidMappings and gidMappings takes the container's user namespace, but linux.namespaces has none"
  cfg '.mounts |= map(select(.destination != "/mnt/i"))'
  # a source through a symlink is not followed with the caller's rights
  ln -s src "$TEST_DIR/link"
  cfg --arg s "$TEST_DIR/link" ".mounts += [{destination: \"/mnt/l\", type: \"bind\", source: \$s, options: [\"bind\"], uidMappings: $m, gidMappings: $m}]"
  if is_user_mode; then
    expect_create_error idm6 "CAP_SYS_ADMIN"
  else
    expect_create_error idm6 "may not pass through a symlink"
  fi
}

# ---------------------------------------------------------------------------------------------
# linux.rootfsPropagation (the bundle sits on a shared mount, so that slave and private differ)

propagation_bundle() {
  mkdir -p "$TEST_DIR/shared"
  mount -t tmpfs -o mode=0755 nookshared "$TEST_DIR/shared"
  mount --make-shared "$TEST_DIR/shared"
  make_bundle "$TEST_DIR/shared/bundle"
  install_keyprobe
  writable_root
}

# mount_event_seen ID: run a container that waits for /go, mount a tmpfs on the host under its
# rootfs, and report whether the container sees it.
mount_event_seen() {
  mkdir -p "$ROOTFS/mnt/ev"
  set_args /bin/sh -c 'touch /ready; while [ ! -e /go ]; do sleep 0.1; done; /probe mounts /mnt/ev'
  nook_bg "$TEST_DIR/$1" run --bundle "$BUNDLE" "$1"
  wait_for_file "$ROOTFS/ready"
  mount -t tmpfs nookevent "$ROOTFS/mnt/ev"
  touch "$ROOTFS/go"
  wait "$NOOK_BG_PID" || true
  umount "$ROOTFS/mnt/ev"
  cat "$TEST_DIR/$1.out"
}

@test "rootfsPropagation: unset is rslave (host mount events reach the container)" {
  propagation_bundle
  run mount_event_seen rp1
  assert_output_matches ' tmpfs '
  inside rp1b /keyprobe propagation /
  assert_output_matches '^master:[0-9]+$'
}

@test "rootfsPropagation: private (no mount events from the host)" {
  propagation_bundle
  cfg '.linux.rootfsPropagation = "private"'
  run mount_event_seen rp2
  assert_output "not-mounted"
  inside rp2b /keyprobe propagation /
  assert_output "private"
}

@test "rootfsPropagation: slave and rslave" {
  propagation_bundle
  for p in slave rslave; do
    cfg --arg p "$p" '.linux.rootfsPropagation = $p'
    inside "rp3$p" /keyprobe propagation /
    assert_output_matches '^master:[0-9]+$'
  done
}

@test "rootfsPropagation: shared and unbindable" {
  propagation_bundle
  cfg '.linux.rootfsPropagation = "shared"'
  inside rp4 /keyprobe propagation /
  assert_output_matches '^shared:[0-9]+'
  cfg '.linux.rootfsPropagation = "unbindable"'
  inside rp5 /keyprobe propagation /
  assert_output "unbindable"
}

@test "rootfsPropagation: an unknown value is refused" {
  cfg '.linux.rootfsPropagation = "sideways"'
  expect_create_error rp6 "rootfsPropagation"
}

# ---------------------------------------------------------------------------------------------
# maskedPaths, readonlyPaths

@test "maskedPaths: files read empty, directories are empty" {
  writable_root
  mkdir -p "$ROOTFS/secretdir"
  echo secret >"$ROOTFS/secretdir/s"
  cfg '.linux.maskedPaths += ["/secretdir", "/etc/nook-test-marker", "/does/not/exist"]'
  inside_sh mask1 '/probe cat /proc/keys | wc -c; /probe ls /secretdir | wc -l; /probe cat /etc/nook-test-marker | wc -c; /probe write /secretdir/x; true'
  assert_success
  assert_output $'0\n0\n0\nEROFS'
}

@test "maskedPaths: a symlink out of the rootfs masks nothing of the host" {
  writable_root
  echo "host secret" >"$TEST_DIR/hostsecret"
  mkdir -p "$TEST_DIR/hostsecretdir"
  echo "host file" >"$TEST_DIR/hostsecretdir/f"
  ln -s "$TEST_DIR/hostsecret" "$ROOTFS/masklink"
  ln -s "../../../../../../..$TEST_DIR/hostsecretdir" "$ROOTFS/masklink2"
  ln -s /etc/nook-test-marker "$ROOTFS/masklink3"
  cfg '.linux.maskedPaths += ["/masklink", "/masklink2", "/masklink3"]'
  inside_sh mask2 '/probe cat /etc/nook-test-marker | wc -c'
  assert_success
  # the link inside the rootfs resolved inside it: the container's marker is masked
  assert_output "0"
  assert_equal "$(cat "$TEST_DIR/hostsecret")" "host secret" "host file"
  assert_equal "$(cat "$TEST_DIR/hostsecretdir/f")" "host file" "host dir"
  assert_equal "$(host_mounts_under "$TEST_DIR/hostsecret")$(host_mounts_under "$TEST_DIR/hostsecretdir")" "" "host mounts"
}

@test "readonlyPaths: the paths become read-only, the rest stays writable" {
  writable_root
  mkdir -p "$ROOTFS/opt/data"
  is_user_mode && chown -R "$NOOK_AS_USER_UID" "$ROOTFS/opt"
  cfg '.linux.readonlyPaths += ["/opt", "/not/there"]'
  inside_sh rop1 '/probe write /opt/data/x; /probe write /tmp/y; /probe write /proc/sys/kernel/hostname'
  assert_output $'EROFS\nok\nEROFS'
}

@test "readonlyPaths: a symlink out of the rootfs leaves the host writable" {
  writable_root
  user_dir "$TEST_DIR/hostrw"
  ln -s "$TEST_DIR/hostrw" "$ROOTFS/rolink"
  cfg '.linux.readonlyPaths += ["/rolink"]'
  inside rop2 /probe cat /etc/nook-test-marker
  assert_success
  assert_equal "$(host_mounts_under "$TEST_DIR/hostrw")" "" "host mounts"
  touch "$TEST_DIR/hostrw/still-writable"
}

# ---------------------------------------------------------------------------------------------
# linux.devices

@test "devices: a character device with mode and owner (root: mknod; unprivileged: bind of the host's)" {
  cfg '.linux.devices = [{path: "/dev/mynull", type: "c", major: 1, minor: 3, fileMode: 416, uid: 0, gid: 0}]'
  inside_sh dev1 '/probe stat /dev/mynull; echo x >/dev/mynull && echo writable'
  assert_success
  if is_user_mode; then
    assert_output_matches $'^[0-9]+ [0-9]+ 0666 c 1:3\nwritable$'
  else
    assert_output $'0 0 0640 c 1:3\nwritable'
  fi
}

@test "devices: outside /dev, type u, and a fifo" {
  cfg '.linux.devices = [{path: "/opt/dev/zero2", type: "u", major: 1, minor: 5}, {path: "/dev/myfifo", type: "p", fileMode: 420}]'
  inside_sh dev2 '/probe stat /opt/dev/zero2 | cut -d" " -f4-; /probe stat /dev/myfifo | cut -d" " -f3-'
  assert_success
  assert_output $'c 1:5\n0644 p'
}

@test "devices: the default devices and /dev links exist" {
  inside_sh dev3 'for d in null zero full random urandom tty; do /probe stat /dev/$d | cut -d" " -f4-; done; /probe readlink /dev/ptmx; /probe readlink /dev/fd'
  assert_success
  assert_output $'c 1:3\nc 1:5\nc 1:7\nc 1:8\nc 1:9\nc 5:0\npts/ptmx\n/proc/self/fd'
}

@test "devices: default devices are supplied when /dev is the image's own directory" {
  writable_root
  cfg '.mounts |= map(select(.destination | startswith("/dev") | not))'
  inside dev4 /probe stat /dev/null
  assert_success
  assert_output_matches 'c 1:3$'
}

@test "devices: a file already at the path that is not the device is an error" {
  writable_root
  mkdir -p "$ROOTFS/opt"
  echo "not a device" >"$ROOTFS/opt/dev0"
  cfg '.linux.devices = [{path: "/opt/dev0", type: "c", major: 1, minor: 3}]'
  expect_create_error dev5 "already exists"
  assert_equal "$(cat "$ROOTFS/opt/dev0")" "not a device" "the file"
}

@test "devices: a device path that is a symlink out of the rootfs does not touch the host" {
  writable_root
  echo "host file" >"$TEST_DIR/hostdevfile"
  mkdir -p "$ROOTFS/opt" "$TEST_DIR/hostdevdir"
  ln -s "$TEST_DIR/hostdevfile" "$ROOTFS/opt/evil"
  cfg '.linux.devices = [{path: "/opt/evil", type: "c", major: 1, minor: 3}]'
  expect_create_error dev6 "symlink"
  assert_equal "$(cat "$TEST_DIR/hostdevfile")" "host file" "host file"
  [[ -L $ROOTFS/opt/evil ]]
  # through a symlinked directory: created inside the rootfs, not in the host directory
  ln -s "$TEST_DIR/hostdevdir" "$ROOTFS/opt/evildir"
  cfg '.linux.devices = [{path: "/opt/evildir/null", type: "c", major: 1, minor: 3}]'
  inside dev7 /probe stat /opt/evildir/null
  assert_success
  assert_output_matches 'c 1:3$'
  assert_equal "$(ls -A "$TEST_DIR/hostdevdir")" "" "host dir"
  [[ -e $ROOTFS$TEST_DIR/hostdevdir/null ]]
}
