#!/usr/bin/env bats
# Root emulation (issue 10, docs/root-emulation.md): in single-ID mode the chown family, the
# set*id family, capset and mknod/mknodat of device nodes succeed without doing anything;
# everything else is untouched; the annotation run.nook.root-emulation turns it off (or on
# outside single-ID mode); it stacks with a config.json profile. Checked from inside the
# container with /sysprobe (tests/helper/sysprobe.c).
#
# Single-ID mode: as the unprivileged user it is what nook does anyway (no /etc/subuid); as
# root the tests ask for a user namespace without mappings, which nook also runs single-ID.

load ../lib/common

SHARED_CONFIGS=${NOOK_SHARED_CONFIGS:-$NOOK_REPO_DIR/tests/configs}
ANNOTATION=run.nook.root-emulation

setup_file() {
  common_setup_file
  _build_helper sysprobe NOOK_SYSPROBE
}

setup() {
  common_setup
  runtime_is_runc && skip "root emulation is nook's"
  cfg '.root.readonly = false'
  install -m 0755 "$NOOK_SYSPROBE" "$ROOTFS/sysprobe"
  # A file and a directory the container's root owns, to chown.
  echo data >"$ROOTFS/tmp/f"
  chmod 0644 "$ROOTFS/tmp/f"
  mkdir -p "$ROOTFS/tmp/dir/sub"
  touch "$ROOTFS/tmp/dir/sub/file"
  if is_user_mode; then
    chown -R "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$ROOTFS/sysprobe" "$ROOTFS/tmp/f" "$ROOTFS/tmp/dir"
  fi
  HOST_OWNER=$(stat -c %u:%g "$ROOTFS/tmp/f")
}

teardown() { common_teardown; }
teardown_file() { common_teardown_file; }

# single_id: make the container run with a single-ID mapping in this mode.
single_id() {
  if is_root_mode; then
    add_namespace user
    cfg 'del(.linux.uidMappings, .linux.gidMappings)'
  fi
  return 0
}

set_annotation() { cfg --arg k "$ANNOTATION" --arg v "$1" '.annotations[$k] = $v'; }
set_seccomp() { cfg --argjson s "$1" '.linux.seccomp = $s'; }

assert_host_file_unchanged() {
  assert_equal "$(stat -c %u:%g "$ROOTFS/tmp/f")" "$HOST_OWNER" "owner of rootfs/tmp/f on the host"
}

@test "rootemu: on by default in single-ID mode; state shows it; one filter" {
  single_id
  set_args /sysprobe seccomp
  run nook run --bundle "$BUNDLE" re-default
  assert_success
  assert_output "2 1"
  set_args /probe sleep 30
  create_container re-state
  assert_equal "$(state_field re-state .nook.rootEmulation)" true "state .nook.rootEmulation"
  assert_equal "$(state_field re-state .nook.singleIdMapping)" true "state .nook.singleIdMapping"
  nook delete --force re-state
}

@test "rootemu: chown to another uid succeeds and the file is unchanged" {
  single_id
  set_args /sysprobe chown /tmp/f 1000 1000 , lchown /tmp/f 1000 1000 , fchown /tmp/f 1000 1000 , \
    fchownat /tmp/f 1000 1000 , chown /tmp/f 0 65534 , stat /tmp/f
  run nook run --bundle "$BUNDLE" re-chown
  assert_success
  assert_output $'ok\nok\nok\nok\nok\n0 0 0644 f'
  assert_host_file_unchanged
}

@test "rootemu: busybox chown -R and chgrp succeed; ls shows the old owner" {
  single_id
  set_args sh -c 'chown -R 1000:1000 /tmp/dir && chgrp 2000 /tmp/f && echo chown-ok && ls -lnd /tmp/dir/sub | awk "{print \$3, \$4}"'
  run nook run --bundle "$BUNDLE" re-busybox
  assert_success
  assert_output $'chown-ok\n0 0'
}

@test "rootemu: setuid(1000), setgroups and the rest succeed; the IDs stay 0" {
  single_id
  set_args /sysprobe setuid 1000 , setgid 1000 , setgroups 1000 2000 , setresuid 1000 1000 1000 , \
    setresgid 1000 1000 1000 , setreuid 1000 1000 , setregid 1000 1000 , setfsuid 1000 , setfsgid 1000 , ids
  run nook run --bundle "$BUNDLE" re-setid
  assert_success
  # setfs[ug]id return the previous value; faked, they return 0.
  assert_output_matches $'^ok\nok\nok\nok\nok\nok\nok\n0\n0\n0 0 0 0 0 0 groups:'
}

@test "rootemu: capset succeeds and changes nothing" {
  single_id
  set_args /sysprobe caps , capset-all , caps
  run nook run --bundle "$BUNDLE" re-capset
  assert_success
  local lines
  mapfile -t lines <<<"$output"
  assert_equal "${lines[1]}" ok "capset"
  assert_equal "${lines[2]}" "${lines[0]}" "capabilities after capset"
}

@test "rootemu: mknod of char and block devices is a no-op; FIFOs are made" {
  single_id
  set_args /sysprobe mknod /tmp/null c 1 3 , exists /tmp/null , mknodat /tmp/loop b 7 0 , \
    exists /tmp/loop , mknod /tmp/fifo p , stat /tmp/fifo , mknod /tmp/fifo p , mknod /tmp/reg f , stat /tmp/reg
  run nook run --bundle "$BUNDLE" re-mknod
  assert_output $'ok\nno\nok\nno\nok\n0 0 0644 p\nEEXIST\nok\n0 0 0644 f'
  [[ ! -e $ROOTFS/tmp/null && ! -e $ROOTFS/tmp/loop && -p $ROOTFS/tmp/fifo ]]
  set_args sh -c 'mknod /tmp/zero c 1 5 && echo mknod-ok && test ! -e /tmp/zero && echo absent'
  run nook run --bundle "$BUNDLE" re-mknod2
  assert_success
  assert_output $'mknod-ok\nabsent'
}

@test "rootemu: an unrelated failing call still fails (sethostname without a UTS namespace)" {
  single_id
  remove_namespace uts
  cfg 'del(.hostname)'
  local before
  before=$(hostname)
  set_args /sysprobe sethostname nook-emulated , mkdir /proc/x 0755
  run nook run --bundle "$BUNDLE" re-unrelated
  assert_status 1
  assert_output_matches $'^EPERM\n(ENOENT|EACCES|EPERM)$'
  assert_equal "$(hostname)" "$before" "host name"
}

@test "rootemu: annotation false: chown, setuid, setgroups and mknod fail as before" {
  single_id
  set_annotation false
  set_args /sysprobe chown /tmp/f 1000 1000 , setuid 1000 , mknod /tmp/null c 1 3 , seccomp
  run nook run --bundle "$BUNDLE" re-off
  assert_status 1
  assert_output_matches $'^(EPERM|EINVAL)\n(EPERM|EINVAL)\nEPERM\n0 0$'
  assert_host_file_unchanged
  set_args /probe sleep 30
  create_container re-off-state
  assert_equal "$(state_field re-off-state .nook.rootEmulation)" false "state .nook.rootEmulation"
  nook delete --force re-off-state
}

@test "rootemu: annotation true turns it on outside single-ID mode" {
  skip_in_user_mode "unprivileged runs are always single-ID"
  set_annotation true
  set_args /sysprobe chown /tmp/f 1000 1000 , setuid 1000 , ids , seccomp
  run nook run --bundle "$BUNDLE" re-on
  assert_success
  assert_output_matches $'^ok\nok\n0 0 0 0 0 0 groups:[^\n]*\n2 1$'
  # Real root would have changed the owner: the emulation did not.
  assert_host_file_unchanged
}

@test "rootemu: annotation with a bad value is refused" {
  set_annotation maybe
  nook_create re-bad
  assert_failure
  assert_one_error_line "$ANNOTATION"
  assert_no_container re-bad
}

@test "rootemu: stacks with Buildah's profile: fake chown, the profile's own denials stay" {
  local f=$SHARED_CONFIGS/buildah-bud-rootless-RUN1.config.json
  [[ -f $f ]] || { echo "Buildah's config.json is missing: $f" >&2; return 1; }
  single_id
  set_seccomp "$(jq -c .linux.seccomp "$f")"
  remove_namespace uts
  cfg 'del(.hostname)'
  set_args /sysprobe chown /tmp/f 1000 1000 , stat /tmp/f , setgroups 0 , mknod /tmp/null c 1 3 , \
    exists /tmp/null , sethostname x , seccomp
  run nook run --bundle "$BUNDLE" re-buildah
  assert_status 1
  assert_output $'ok\n0 0 0644 f\nok\nok\nno\nEPERM\n2 2'
  assert_host_file_unchanged
}

@test "rootemu: a profile that explicitly denies chown still denies it" {
  single_id
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["chown", "fchownat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
  set_args /sysprobe chown /tmp/f 1000 1000 , setuid 1000 , seccomp
  run nook run --bundle "$BUNDLE" re-deny
  assert_status 1
  assert_output $'EACCES\nok\n2 2'
}

@test "rootemu: a profile that kills on chown still kills" {
  single_id
  remove_namespace pid
  set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["chown", "fchownat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
  set_args /sysprobe chown /tmp/f 1000 1000
  run nook run --bundle "$BUNDLE" re-kill
  assert_status 159
}

@test "rootemu: exec'd processes get it too" {
  nook --help | grep -Eq '^ +exec ' || skip "this nook has no exec command yet"
  single_id
  set_args /probe sleep 60
  create_container re-exec
  run nook start re-exec
  assert_success
  run nook exec re-exec /sysprobe chown /tmp/f 1000 1000 , setuid 1000 , seccomp
  assert_success
  assert_output $'ok\nok\n2 1'
  assert_host_file_unchanged
  nook delete --force re-exec
}

@test "rootemu: the image is not touched (nothing written, nothing re-owned)" {
  single_id
  local before after
  before=$(cd "$ROOTFS" && find . -xdev -printf '%p %u %g %m %y\n' | sort)
  set_args sh -c 'chown -R 1000:1000 /bin /etc /tmp; mknod /tmp/null c 1 3; chmod 0755 /tmp/f; true'
  run nook run --bundle "$BUNDLE" re-image
  assert_success
  after=$(cd "$ROOTFS" && find . -xdev -printf '%p %u %g %m %y\n' | sort)
  # The only change is the one the program really made (chmod, which is not emulated).
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' >"$TEST_DIR/changes" || true
  assert_equal "$(grep -c . "$TEST_DIR/changes")" 2 "changed lines"
  grep -q '^> ./tmp/f .* 755 f$' "$TEST_DIR/changes"
}

@test "rootemu: on by default as root of the caller's own single-ID namespace (rootless Buildah without subuid)" {
  # Buildah or Podman run as a user with no /etc/subuid entry make a namespace that maps one
  # ID and run the runtime as its root, with a config that has no user namespace. nook is
  # privileged there, yet chown to another ID fails as in single-ID mode: emulation is on.
  cfg 'del(.linux.namespaces[] | select(.type == "user")) | del(.linux.uidMappings, .linux.gidMappings)'
  set_args sh -c '/sysprobe chown /tmp/f 1000 1000 , setuid 1000 , ids; chown -R 1000:1000 /tmp/dir && echo chown-R-ok'
  run --separate-stderr timeout 60 bash -c 'cd / && "$@"' _ as_user unshare -r "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" re-inherited
  assert_success
  assert_output_matches $'^ok\nok\n0 0 0 0 0 0 groups:.*\nchown-R-ok$'
  assert_host_file_unchanged
  # and the annotation still turns it off: chown then fails as it would without nook
  set_annotation false
  set_args /sysprobe chown /tmp/f 1000 1000
  run --separate-stderr timeout 60 bash -c 'cd / && "$@"' _ as_user unshare -r "$NOOK_BIN" --root "$STATE_ROOT" run --bundle "$BUNDLE" re-inherited2
  assert_output_matches "EINVAL|EPERM"
}
