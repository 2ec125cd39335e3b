# Helpers shared by the config-key suites (config_*.bats); see docs/config-keys.md.
# Loaded after ../lib/common. Each test's rootfs also gets /keyprobe (tests/helper/keyprobe.c),
# the checks the general /probe does not have.

config_setup_file() {
  common_setup_file
  _build_helper keyprobe NOOK_KEYPROBE
}

config_setup() {
  common_setup
  install_keyprobe
}

# install_keyprobe: copy the key probe into $ROOTFS (after make_bundle into a new place).
install_keyprobe() {
  install -m 0755 "$NOOK_KEYPROBE" "$ROOTFS/keyprobe"
  if is_user_mode; then chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$ROOTFS/keyprobe"; fi
}

# inside ID PROGRAM ARGS...: `nook run` a container running PROGRAM ARGS; the program's stdout
# is in $output, the runtime's and program's stderr in $stderr.
inside() {
  local id=$1
  shift
  set_args "$@"
  run --separate-stderr nook run --bundle "$BUNDLE" "$id"
}

# inside_sh ID SCRIPT: like inside, with /bin/sh -c SCRIPT.
inside_sh() {
  local id=$1
  shift
  inside "$id" /bin/sh -c "$1"
}

# user_dir DIR...: make directories owned by the user the runtime runs as.
user_dir() {
  mkdir -p "$@"
  if is_user_mode; then chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$@"; fi
}

# user_file FILE [CONTENT]: a file owned by the runtime's user.
user_file() {
  if [[ -n ${2:-} ]]; then printf '%s\n' "$2" >"$1"; else : >"$1"; fi
  if is_user_mode; then chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$1"; fi
}

# writable_root: root.readonly false (nook spec makes it true).
writable_root() { cfg '.root.readonly = false'; }

# expect_create_error ID TEXT: create must fail, with one error line containing TEXT, and leave
# no container behind.
expect_create_error() {
  nook_create "$1"
  assert_failure
  if [[ ${output,,} != *"${2,,}"* ]]; then
    printf 'expected the error to mention "%s", got:\n%s\n' "$2" "$output" >&2
    return 1
  fi
  assert_no_container "$1"
}

# state_on_stdin_hook FILE: a hook program (host shell script) that saves its stdin to FILE and
# its argv and selected environment to FILE.args; prints the script's path.
hook_script() {
  local name=$1 body=$2 path=$TEST_DIR/hooks/$1
  mkdir -p "$TEST_DIR/hooks"
  chmod 0755 "$TEST_DIR/hooks"
  printf '#!/bin/sh\n%s\n' "$body" >"$path"
  chmod 0755 "$path"
  echo "$path"
}
