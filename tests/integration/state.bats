#!/usr/bin/env bats
# `nook state` (issue 7): the pre-libc path (src/fast/state.cpp, run from the ELF entry point
# before glibc starts) must print exactly what the full command line prints, for every status,
# every way of naming the state root, and fall back to the full path for everything else.

load ../lib/common

# glibc's start-up sets up TLS with arch_prctl(ARCH_SET_FS); the pre-libc path makes no such
# call. fast_path_taken [VAR=VALUE...]: `nook ${NOOK_ARGS[@]}` (no implicit --root) under
# strace, with VAR=VALUE added to its environment (strace -E: no other program is traced).
strace_nook() {
  local log=$TEST_DIR/strace.$RANDOM e=() v
  for v in "$@"; do e+=(-E "$v"); done
  as_user strace -f -qq -e trace=arch_prctl -o "$log" "${e[@]}" "$NOOK_BIN" "${NOOK_ARGS[@]}" \
    >/dev/null 2>&1 || true
  cat "$log"
}
fast_path_taken() {
  local t
  t=$(strace_nook "$@")
  [[ -z $t ]] || {
    echo "nook ${NOOK_ARGS[*]} started glibc (the full path): $t" >&2
    return 1
  }
}
full_path_taken() {
  local t
  t=$(strace_nook "$@")
  [[ $t == *ARCH_SET_FS* ]] || {
    echo "nook ${NOOK_ARGS[*]} did not start glibc: '$t'" >&2
    return 1
  }
}

annotate() {
  cfg '.annotations = {"a": "plain", "quote\"key": "va\"l\\ue/", "uni": "é 日本 \ud83d\ude00",
        "ctl": "tab\there\u0001\u001f", "empty": "", "org.example/x": "</script>"}'
}

@test "state: created, running, stopped: the fast path prints the full path's bytes" {
  annotate
  set_args /probe sleep 60
  create_container s1
  state_both state s1
  assert_equal "$(jq -r .status <<<"$output")" created "status"
  assert_equal "$(jq -r '.annotations["quote\"key"]' <<<"$output")" 'va"l\ue/' "annotation"
  NOOK_ARGS=(--root "$STATE_ROOT" state s1)
  fast_path_taken

  run nook start s1
  assert_success
  state_both state s1
  assert_equal "$(jq -r .status <<<"$output")" running "status"
  fast_path_taken

  local pid
  pid=$(jq -r .pid <<<"$output")
  kill -9 "$pid"
  wait_for_status s1 stopped
  state_both state s1
  assert_equal "$(jq -r .pid <<<"$output")" 0 "pid of a stopped container"
  fast_path_taken
}

@test "state: a dead process whose PID was reused reads stopped both ways" {
  create_container s2
  # Point the state at a live process that is not the container's (this shell's PID, the
  # container's start time): the start time differs, so it is stopped. Both paths decide
  # with the same code (decide_status, src/fast/shared.hpp); the pre-libc one reads the pid
  # from state.oci, which names the bytes of the state.json it was written with: after a
  # hand edit of state.json, `state` takes the full path.
  local f=$STATE_ROOT/s2/state.json orig
  orig=$(cat "$f")
  jq -c --argjson p $$ '.pid = $p' <<<"$orig" >"$f"
  state_both state s2
  assert_equal "$(jq -r .status <<<"$output")" stopped "status"
  NOOK_ARGS=(--root "$STATE_ROOT" state s2)
  full_path_taken
  printf '%s' "$orig" >"$f"  # for the teardown's delete --force of the real process
  fast_path_taken
}

@test "state: state.oci is written with state.json, 0600, and only used with it" {
  create_container s6
  local d=$STATE_ROOT/s6
  [[ -f $d/state.oci && ! -L $d/state.oci ]] || { echo "no state.oci" >&2; return 1; }
  assert_equal "$(stat -c %a "$d/state.oci")" 600 "mode of state.oci"
  assert_equal "$(stat -c %u "$d/state.oci")" "$(stat -c %u "$d/state.json")" "owner"
  NOOK_ARGS=(--root "$STATE_ROOT" state s6)
  fast_path_taken
  state_both state s6
  assert_equal "$(jq -r .status <<<"$output")" created "status"
  # missing, truncated, a symlink, or another container's: the full path answers (the
  # files the test writes are root's: readable by all, so that they are read and refused)
  mv "$d/state.oci" "$TEST_DIR/oci"
  full_path_taken
  state_both state s6
  assert_equal "$(jq -r .status <<<"$output")" created "status"
  head -c 100 "$TEST_DIR/oci" >"$d/state.oci"
  chmod 644 "$d/state.oci"
  full_path_taken
  rm "$d/state.oci"
  ln -s "$TEST_DIR/oci" "$d/state.oci"
  full_path_taken
  rm "$d/state.oci"
  create_container s7
  cp "$STATE_ROOT/s7/state.oci" "$d/state.oci"
  chmod 644 "$d/state.oci"
  full_path_taken
  state_both state s6
  assert_equal "$(jq -r .id <<<"$output")" s6 "id"
  rm "$d/state.oci"
  mv "$TEST_DIR/oci" "$d/state.oci"
  fast_path_taken
}

@test "state: runc's global flags in their spellings stay on the fast path" {
  create_container s3
  local R=$STATE_ROOT
  local forms=(
    "--root=$R state s3"
    "-root $R state s3"
    "-root=$R state s3"
    "--log $TEST_DIR/log.json --log-format json --root $R state s3"
    "--log-format=text --systemd-cgroup --rootless auto --root $R state s3"
    "--cgroup-manager cgroupfs --root $R state s3"
  )
  local f
  for f in "${forms[@]}"; do
    read -ra NOOK_ARGS <<<"$f"
    fast_path_taken
    NOOK_NO_FAST_STATE=1 nook_raw "${NOOK_ARGS[@]}" >"$TEST_DIR/slow.out"
    nook_raw "${NOOK_ARGS[@]}" >"$TEST_DIR/fast.out"
    cmp "$TEST_DIR/fast.out" "$TEST_DIR/slow.out"
  done
  # --log is opened (created) at start, as runc does, but a successful state writes nothing
  [[ -e $TEST_DIR/log.json && ! -s $TEST_DIR/log.json ]] ||
    { echo "state's --log file: $(ls -l "$TEST_DIR/log.json" 2>&1)" >&2; return 1; }
  # and these go the full way: --debug, a flag after the ID, an unknown flag, NOOK_NO_FAST_STATE
  NOOK_ARGS=(--debug --root "$R" state s3)
  full_path_taken
  NOOK_ARGS=(--root "$R" state s3 --help)
  full_path_taken
  NOOK_ARGS=(--frobnicate --root "$R" state s3)
  full_path_taken
  NOOK_ARGS=(--root "$R" state s3)
  full_path_taken NOOK_NO_FAST_STATE=1
}

teardown() {
  # the default-root test's containers are outside $STATE_ROOT
  if [[ -n ${DFLT_ID:-} ]]; then
    nook_raw delete --force "$DFLT_ID" >/dev/null 2>&1 || true
    as_user env XDG_RUNTIME_DIR="$TEST_DIR/xdg" "$NOOK_BIN" delete --force "$DFLT_ID" \
      >/dev/null 2>&1 || true
  fi
  common_teardown
}

@test "state: the default --root is found as the full path finds it" {
  local id=dflt-$NOOK_TEST_MODE-$$ xdg=$TEST_DIR/xdg
  DFLT_ID=$id
  mkdir -p "$xdg"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$xdg"
  chmod 0700 "$xdg"
  # without XDG_RUNTIME_DIR: /run/nook (root) or /tmp/nook-UID
  nook_raw create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$TEST_DIR/c.err" ||
    { cat "$TEST_DIR/c.err" >&2; return 1; }
  NOOK_ARGS=(state "$id")
  fast_path_taken
  NOOK_NO_FAST_STATE=1 nook_raw state "$id" >"$TEST_DIR/slow.out"
  nook_raw state "$id" >"$TEST_DIR/fast.out"
  nook_raw delete --force "$id"
  cmp "$TEST_DIR/fast.out" "$TEST_DIR/slow.out"
  assert_equal "$(jq -r .id "$TEST_DIR/fast.out")" "$id" "id"

  # with an XDG_RUNTIME_DIR of the caller's: $XDG_RUNTIME_DIR/nook unprivileged, /run/nook root
  as_user env XDG_RUNTIME_DIR="$xdg" "$NOOK_BIN" create --bundle "$BUNDLE" "$id" </dev/null \
    >/dev/null 2>"$TEST_DIR/c.err" || { cat "$TEST_DIR/c.err" >&2; return 1; }
  if is_user_mode; then
    [[ -d $xdg/nook/$id ]] || { echo "not under \$XDG_RUNTIME_DIR/nook" >&2; return 1; }
  fi
  fast_path_taken XDG_RUNTIME_DIR="$xdg"
  as_user env XDG_RUNTIME_DIR="$xdg" NOOK_NO_FAST_STATE=1 "$NOOK_BIN" state "$id" >"$TEST_DIR/slow.out"
  as_user env XDG_RUNTIME_DIR="$xdg" "$NOOK_BIN" state "$id" >"$TEST_DIR/fast.out"
  as_user env XDG_RUNTIME_DIR="$xdg" "$NOOK_BIN" delete --force "$id"
  cmp "$TEST_DIR/fast.out" "$TEST_DIR/slow.out"
}

@test "state: what the fast path does not know gets the full path's answer and error" {
  create_container s4
  local f=$STATE_ROOT/s4/state.json orig
  orig=$(cat "$f")
  # a missing container, a bad ID, too many arguments
  state_both state nosuch
  assert_equal "$status" 1 "exit status, missing container"
  state_both state 'a/b'
  assert_equal "$status" 1 "exit status, bad ID"
  state_both state s4 s4
  [[ $status -ne 0 ]]
  # a key the fast path does not know (a newer nook's state file): the full parser ignores it
  jq -c '.futureKey = [1, {"x": null}]' <<<"$orig" >"$f"
  state_both state s4
  assert_success
  NOOK_ARGS=(--root "$STATE_ROOT" state s4)
  full_path_taken
  # annotations too large for the fast path's buffer
  jq -c '.annotations.big = ("x" * 40000)' <<<"$orig" >"$f"
  state_both state s4
  assert_equal "$(jq -r '.annotations.big | length' <<<"$output")" 40000 "big annotation"
  # the state file of another container, a wrong type, a missing or optional key
  local edit
  for edit in '.id = "other"' '.pid = "12"' '.pid = -1' '.created = 5' 'del(.startTime)'; do
    jq -c "$edit" <<<"$orig" >"$f"
    state_both state s4
    [[ $status -ne 0 ]] || { echo "state succeeded with $edit" >&2; return 1; }
  done
  jq -c 'del(.rootfs, .created, .owner, .annotations)' <<<"$orig" >"$f"
  state_both state s4
  assert_success
  # a corrupt one, a truncated one
  echo '{"id": "s4", "pid": ' >"$f"
  state_both state s4
  assert_failure
  printf '%s' "${orig:0:40}" >"$f"
  state_both state s4
  assert_failure
  printf '%s' "$orig" >"$f"
  state_both state s4
  assert_success
}

@test "state: created is the create time, RFC 3339 in UTC with nanoseconds" {
  local before after created
  before=$(date -u +%s)
  create_container s5
  after=$(date -u +%s)
  state_both state s5
  created=$(jq -r .created <<<"$output")
  [[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$ ]] ||
    { echo "created: $created" >&2; return 1; }
  local t
  t=$(date -u -d "${created%.*}Z" +%s)
  [[ $t -ge $before && $t -le $after ]] ||
    { echo "created $created ($t) not within $before..$after" >&2; return 1; }
}
