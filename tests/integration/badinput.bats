#!/usr/bin/env bats
# Bad input (issue 2): each mistake gives one clear error line on stderr, nothing on
# stdout, a non-zero exit, and leaves no container behind (issue 3: a failed operation
# leaves things as if it was never attempted).

load ../lib/common

# expect_one_error TEXT CMD...: run CMD, which must fail with exactly one non-empty stderr
# line mentioning TEXT, and print nothing on stdout.
expect_one_error() {
  local text=$1
  shift
  run --separate-stderr "$@"
  local out=$output
  if [[ $status -eq 0 ]]; then
    echo "expected failure, got status 0; stdout: $out; stderr: $stderr" >&2
    return 1
  fi
  assert_equal "$out" "" "stdout"
  output=$stderr
  assert_one_error_line "$text"
}

@test "bad input: a missing bundle directory" {
  expect_one_error "$TEST_DIR/no-such-bundle" nook run --bundle "$TEST_DIR/no-such-bundle" nobundle
  assert_no_container nobundle
}

@test "bad input: a bundle without config.json" {
  rm "$BUNDLE/config.json"
  expect_one_error "config.json" nook run --bundle "$BUNDLE" nocfg
  assert_no_container nocfg
}

@test "bad input: config.json is truncated JSON (names the file)" {
  head -c 200 "$BUNDLE/config.json" >"$TEST_DIR/trunc"
  cat "$TEST_DIR/trunc" >"$BUNDLE/config.json"
  expect_one_error "config.json" nook run --bundle "$BUNDLE" trunc
  assert_no_container trunc
}

@test "bad input: config.json is not JSON at all (names the file)" {
  echo 'this is not json' >"$BUNDLE/config.json"
  expect_one_error "config.json" nook run --bundle "$BUNDLE" notjson
  assert_no_container notjson
}

@test "bad input: config.json is a JSON array, not an object" {
  echo '[1, 2, 3]' >"$BUNDLE/config.json"
  expect_one_error "config.json" nook run --bundle "$BUNDLE" notobject
  assert_no_container notobject
}

@test "bad input: a wrongly typed value names the file and the JSON location" {
  cfg '.process.args = ["/probe", 42]'
  expect_one_error "args" nook run --bundle "$BUNDLE" badtype
  assert_output_contains "config.json"
  assert_no_container badtype
}

@test "bad input: process.args empty" {
  cfg '.process.args = []'
  expect_one_error "args" nook run --bundle "$BUNDLE" noargs
  assert_no_container noargs
}

@test "bad input: a relative process.cwd" {
  cfg '.process.cwd = "tmp"'
  expect_one_error "cwd" nook run --bundle "$BUNDLE" relcwd
  assert_no_container relcwd
}

@test "bad input: a missing rootfs names the path" {
  rm -rf "$ROOTFS"
  expect_one_error "rootfs" nook run --bundle "$BUNDLE" norootfs
  assert_no_container norootfs
}

@test "bad input: root.path names a missing absolute directory" {
  cfg --arg r "$TEST_DIR/missing-root" '.root.path = $r'
  expect_one_error "$TEST_DIR/missing-root" nook run --bundle "$BUNDLE" norootabs
  assert_no_container norootabs
}

@test "bad input: a command not found in the container's PATH" {
  set_args no-such-command arg
  expect_one_error "no-such-command" nook run --bundle "$BUNDLE" nocmd
  assert_no_container nocmd
  assert_equal "$(pids_rooted_under "$BUNDLE")" "" "processes left in the bundle"
}

@test "bad input: an absolute command path that does not exist" {
  set_args /no/such/program
  expect_one_error "/no/such/program" nook run --bundle "$BUNDLE" noabs
  assert_no_container noabs
}

@test "bad input: a command that is not executable" {
  set_args /etc/passwd
  expect_one_error "/etc/passwd" nook run --bundle "$BUNDLE" noexec
  assert_no_container noexec
}

@test "bad input: a command not found, with create: create fails, nothing remains" {
  # Whether the failure shows at create or start, the end state must be clean.
  set_args no-such-command
  nook_create nocmd2
  if [[ $status -eq 0 ]]; then
    run nook start nocmd2
    assert_failure
    [[ $output == *no-such-command* ]] || {
      echo "start error does not name the command: $output" >&2
      return 1
    }
    # and it is then reported as stopped, never as running
    local st
    st=$(container_status nocmd2 || echo gone)
    [[ $st == stopped || $st == gone ]] || { echo "status after failed start: $st" >&2; return 1; }
  else
    assert_one_error_line "no-such-command"
    assert_no_container nocmd2
  fi
}

@test "bad input: container IDs with / or .. or control characters are refused" {
  local id
  for id in "a/b" ".." "../escape" "x/../../escape" $'bad\nid' $'tab\tid' "" ; do
    run nook run --bundle "$BUNDLE" "$id"
    assert_failure
  done
  # nothing was created next to or above the state root
  [[ ! -e $TEST_DIR/escape && ! -e $STATE_ROOT/../escape ]]
  assert_equal "$(find "$STATE_ROOT" -mindepth 1 2>/dev/null)" "" "state root content"
}

@test "bad input: an absurdly long container ID is refused" {
  local id
  id=$(printf 'x%.0s' {1..1024})
  run nook run --bundle "$BUNDLE" "$id"
  assert_failure
}

@test "bad input: run without a container ID" {
  run nook run --bundle "$BUNDLE"
  assert_failure
}

@test "bad input: an unknown command" {
  run nook no-such-verb
  assert_failure
}

@test "bad input: an unknown flag" {
  run nook --no-such-flag state x
  assert_failure
  run nook run --no-such-flag --bundle "$BUNDLE" flagid
  assert_failure
  assert_no_container flagid
}

@test "bad input: the bundle is a file, not a directory" {
  touch "$TEST_DIR/afile"
  expect_one_error "afile" nook run --bundle "$TEST_DIR/afile" bundlefile
  assert_no_container bundlefile
}

@test "bad input: unknown properties anywhere in config.json are ignored" {
  cfg '.nookUnknownTop = {a: [1, 2]} | .process.unknownKey = "x" | .linux.unknownLinux = [] | .root.unknownRoot = true | .mounts[0].unknownMountKey = 1'
  set_args /probe echo unknown-ignored
  run nook run --bundle "$BUNDLE" unknown1
  assert_success
  assert_output "unknown-ignored"
}

@test "bad input: ociVersion 1.x, with -dev/-rc/+build suffixes, is accepted" {
  local v n=0
  for v in 1.0.0 1.0.2-dev 1.1.0 1.1.0-rc.1-dev 1.2.0 1.2.1 1.3.0 1.3.0+dev; do
    n=$((n + 1))
    cfg --arg v "$v" '.ociVersion = $v'
    set_args /probe echo "accepted $v"
    run nook run --bundle "$BUNDLE" "ver$n"
    assert_success
    assert_output "accepted $v"
  done
}

@test "bad input: an ociVersion outside the supported range is refused, naming value and range" {
  local v
  for v in 2.0.0 0.9.0; do
    cfg --arg v "$v" '.ociVersion = $v'
    expect_one_error "$v" nook run --bundle "$BUNDLE" badver
    # the supported range is in the message too
    [[ $output == *"accepts 1.0.0 and every later 1.x"* ]] || { echo "no supported range in: $output" >&2; return 1; }
    assert_no_container badver
  done
}

# Issue 14, finding 3: `exec --user 4294967294` ran as that ID, and process.json's uid
# 4294967295 (-1 to setresuid) as root. IDs are 0..2^31-1, as in config.json, with runc's
# wording.
@test "bad input: exec --user and exec -p with an ID above 2^31-1 are refused" {
  local c=bi$$-$BATS_TEST_NUMBER u
  set_args /probe sleep 600
  create_container "$c"
  run nook start "$c"
  assert_success
  wait_for_status "$c" running
  for u in 4294967295 4294967294 2147483648 0:4294967294; do
    expect_one_error "--user: ${u#*:} is out of range: uids and gids must be in range 0-2147483647" \
      nook exec --user "$u" "$c" /probe uid
  done
  jq -n '{args: ["/probe", "uid"], cwd: "/", user: {uid: 4294967295, gid: 0}}' >"$TEST_DIR/p.json"
  chmod 0644 "$TEST_DIR/p.json"
  expect_one_error "p.json: /user/uid: 4294967295 is out of range: uids and gids must be in range 0-2147483647" \
    nook exec -p "$TEST_DIR/p.json" "$c"
  for u in 4294967295 2147483648; do
    expect_one_error "--additional-gids: $u is out of range: uids and gids must be in range 0-2147483647" \
      nook exec --additional-gids "$u" "$c" /probe uid
  done
  # the edge is an ID like any other (root: it runs as it; single-ID: not mapped, refused)
  if is_root_mode; then
    run nook exec --user 2147483647:2147483647 "$c" /probe uid
    assert_success
    assert_output "2147483647 2147483647"
  fi
  run nook delete --force "$c"
  assert_success
}
