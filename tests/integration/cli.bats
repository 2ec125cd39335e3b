#!/usr/bin/env bats
# The command line (issues 2 and 3): spec, features, --version, global flags, and the
# --log/--log-format json error log that podman and conmon read.

load ../lib/common

@test "cli: --version and -v print a version and succeed" {
  run nook_raw --version
  assert_success
  assert_output_matches '[0-9]+\.[0-9]+'
  run nook_raw -v
  assert_success
  assert_output_matches '[0-9]+\.[0-9]+'
  # runc's layout: version, commit, spec, then the library versions
  run nook_raw --version
  assert_equal "$(cut -d: -f1 <<<"${lines[1]}") $(cut -d: -f1 <<<"${lines[2]}") $(cut -d: -f1 <<<"${lines[3]}")" \
    "commit spec libseccomp" "--version lines 2-4"
  assert_output_matches $'\nlibseccomp: [0-9]+\\.[0-9]+\\.[0-9]+$'
}

@test "cli: help, help VERB and VERB --help; an unknown command in one line" {
  run nook_raw help
  assert_success
  assert_output_contains "Usage: nook"
  assert_output_contains "update"
  run nook_raw help run
  assert_success
  assert_output_contains "Usage: nook run"
  run nook_raw --debug help kill
  assert_success
  assert_output_contains "Usage: nook kill"
  run nook_raw run --help
  assert_success
  assert_output_contains "--keep"
  run --separate-stderr nook_raw frobnicate x
  assert_failure
  assert_equal "$stderr" 'nook: unknown command "frobnicate" (nook --help lists them)' "stderr"
  run --separate-stderr nook_raw help frobnicate
  assert_failure
  assert_equal "$stderr" 'nook: unknown command "frobnicate" (nook --help lists them)' "stderr"
}

@test "cli: spec writes a default config.json that runs" {
  local d=$TEST_DIR/specdir
  mkdir "$d"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$d"
  run bash -c 'cd "$1" && nook_raw spec' _ "$d"
  assert_success
  jq -e '.ociVersion and (.process.args | length > 0) and .root.path == "rootfs"' "$d/config.json" >/dev/null ||
    { cat "$d/config.json" >&2; return 1; }
  [[ $(jq -r .ociVersion "$d/config.json") =~ ^1\.[0-9]+\.[0-9]+ ]]
}

@test "cli: spec --bundle DIR writes into DIR" {
  local d=$TEST_DIR/specdir2
  mkdir "$d"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$d"
  run nook_raw spec --bundle "$d"
  assert_success
  jq -e . "$d/config.json" >/dev/null
}

@test "cli: spec refuses to overwrite an existing config.json" {
  local before
  before=$(cat "$BUNDLE/config.json")
  run nook_raw spec --bundle "$BUNDLE"
  assert_failure
  assert_equal "$(cat "$BUNDLE/config.json")" "$before" "config.json"
}

@test "cli: spec --rootless asks for a user namespace mapping the caller's IDs" {
  local d=$TEST_DIR/specdir3
  mkdir "$d"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$d"
  run nook_raw spec --rootless --bundle "$d"
  assert_success
  local uid=${NOOK_AS_USER_UID:-$(id -u)} gid=${NOOK_AS_USER_GID:-$(id -g)}
  jq -e '.linux.namespaces | any(.type == "user")' "$d/config.json" >/dev/null
  assert_equal "$(jq -c '.linux.uidMappings' "$d/config.json")" "[{\"containerID\":0,\"hostID\":$uid,\"size\":1}]" "uidMappings"
  assert_equal "$(jq -c '.linux.gidMappings' "$d/config.json")" "[{\"containerID\":0,\"hostID\":$gid,\"size\":1}]" "gidMappings"
}

@test "cli: the default spec (terminal off) runs a container" {
  # The bundle of every test comes from `spec`; here only args change, to prove it runs as is.
  set_args /probe echo default-spec-runs
  run nook run --bundle "$BUNDLE" spec1
  assert_success
  assert_output "default-spec-runs"
}

@test "cli: features prints a JSON document with the OCI version range" {
  run --separate-stderr nook_raw features
  assert_success
  jq -e '.ociVersionMin and .ociVersionMax' <<<"$output" >/dev/null || { echo "$output" >&2; return 1; }
  jq -e '.linux.namespaces | index("user") and index("mount") and index("pid")' <<<"$output" >/dev/null
  jq -e '.mountOptions | index("ro") and index("nosuid")' <<<"$output" >/dev/null
}

@test "cli: --log FILE --log-format json writes JSON lines with level, msg and time on errors" {
  local log=$TEST_DIR/log.json
  run nook --log "$log" --log-format json state no-such-container
  assert_failure
  [[ -s $log ]] || { echo "log file empty or missing" >&2; return 1; }
  local line n=0 errors=0
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    n=$((n + 1))
    jq -e 'type == "object" and (.level | type == "string") and (.msg | type == "string") and (.time | type == "string")' \
      <<<"$line" >/dev/null || { echo "not a JSON log line with level/msg/time: $line" >&2; return 1; }
    [[ $(jq -r .level <<<"$line") == error ]] && errors=$((errors + 1))
  done <"$log"
  [[ $errors -ge 1 ]] || { echo "no level=error line in: $(cat "$log")" >&2; return 1; }
}

@test "cli: --log json records a failing create, with the reason" {
  local log=$TEST_DIR/log.json
  rm -rf "$ROOTFS"
  nook --log "$log" --log-format json create --bundle "$BUNDLE" logc </dev/null >/dev/null 2>&1 && {
    echo "create without rootfs succeeded" >&2
    return 1
  }
  jq -e -s 'map(select(.level == "error")) | length >= 1' "$log" >/dev/null || { cat "$log" >&2; return 1; }
  jq -r -s 'map(select(.level == "error") | .msg) | join(" ")' "$log" | grep -qi rootfs ||
    { echo "no error naming the rootfs in: $(cat "$log")" >&2; return 1; }
  assert_no_container logc
}

@test "cli: --log FILE in text format gets the error" {
  local log=$TEST_DIR/log.txt
  run nook --log "$log" --log-format text state no-such-container
  assert_failure
  [[ -s $log ]]
  grep -qi error "$log"
  # text, not JSON
  ! jq -e . "$log" >/dev/null 2>&1
}

@test "cli: the log file is appended to, not truncated" {
  local log=$TEST_DIR/log.json
  echo '{"level":"info","msg":"earlier line","time":"2000-01-01T00:00:00Z"}' >"$log"
  is_user_mode && chown "$NOOK_AS_USER_UID" "$log"
  run nook --log "$log" --log-format json state no-such-container
  assert_failure
  assert_equal "$(head -1 "$log" | jq -r .msg)" "earlier line" "first line kept"
  [[ $(wc -l <"$log") -ge 2 ]]
}

@test "cli: global flags before the command, as conmon and the containerd shim send them" {
  set_args /probe echo flags-ok
  local log=$BUNDLE/log.json
  run nook --debug --log "$log" --log-format json run --bundle "$BUNDLE" flags1
  assert_success
  assert_output_contains "flags-ok"
  run nook_raw --root "$STATE_ROOT" --log-format=json --log="$log" list -q
  assert_success
}

@test "cli: --rootless and --systemd-cgroup are accepted" {
  local v
  # runc reads --rootless with Go's ParseBool, or "auto"
  for v in true auto 1 0 t F TRUE False; do
    run nook --rootless "$v" list
    assert_success
  done
  for v in maybe yes "" 2; do
    run --separate-stderr nook --rootless "$v" list
    assert_failure
    output=$stderr
    assert_one_error_line "rootless"
  done
  # runc's --criu PATH (the CRIU binary of checkpoint/restore): in either dash form
  run nook --criu /usr/sbin/criu list
  assert_success
  run nook -criu /usr/sbin/criu list
  assert_success
  run nook --systemd-cgroup list
  assert_success
}

@test "cli: crun's --cgroup-manager is accepted" {
  runtime_is_runc && skip "runc does not have crun's --cgroup-manager flag"
  run nook --cgroup-manager cgroupfs list
  assert_success
  run nook --cgroup-manager disabled list
  assert_success
}

@test "cli: --root is created on demand and holds the container's state" {
  [[ ! -e $STATE_ROOT ]]
  create_container r1
  [[ -d $STATE_ROOT ]]
  [[ -n $(find "$STATE_ROOT" -mindepth 1 -maxdepth 2 -name 'r1*' -print -quit) ]] ||
    { echo "no trace of r1 under $STATE_ROOT" >&2; return 1; }
  # a different --root does not see it
  run nook_raw --root "$TEST_DIR/other-root" state r1
  assert_failure
}

@test "cli: kill and delete work with no PATH in the environment (as podman calls them)" {
  set_args /probe sleep 60
  create_container nopath
  run nook start nopath
  assert_success
  run as_user env -u PATH "$NOOK_BIN" --root "$STATE_ROOT" kill nopath KILL
  assert_success
  wait_for_status nopath stopped
  run as_user env -u PATH "$NOOK_BIN" --root "$STATE_ROOT" delete --force nopath
  assert_success
  assert_no_container nopath
}

# ---------------------------------------------------------------------------------------------
# runc and crun parity (docs/runc-parity.md)

@test "cli: a --log that cannot be opened fails the command, as in runc" {
  local log=$TEST_DIR/no-such-dir/log.json
  run nook --log "$log" list
  assert_failure
  assert_one_error_line "open --log $log: No such file or directory"
  set_args /probe sleep 30
  nook_create logbad --log-format json
  assert_success
  # `state` (its pre-libc path included) and create fail the same way
  run nook --log "$log" state logbad
  assert_failure
  assert_one_error_line "open --log $log: No such file or directory"
  run nook --log "$log" --log-format json create --bundle "$BUNDLE" logbad2
  assert_failure
  assert_one_error_line "No such file or directory"
  assert_no_container logbad2
  run nook --log "$TEST_DIR" state logbad
  assert_failure
  assert_one_error_line "Is a directory"
}

@test "cli: crun's --config FILE for create and run, relative to the current directory" {
  runtime_is_runc && skip "runc has no --config"
  set_args /probe echo from-bundle
  jq '.process.args = ["/probe", "echo", "from-other"]' "$BUNDLE/config.json" >"$TEST_DIR/other.json"
  mkdir -p "$TEST_DIR/cwd"
  if is_user_mode; then chown "$NOOK_AS_USER_UID:$NOOK_AS_USER_GID" "$TEST_DIR/cwd"; fi
  cp "$TEST_DIR/other.json" "$TEST_DIR/cwd/other.json"
  # root.path ("rootfs") stays relative to the bundle
  cd "$TEST_DIR/cwd"
  run --separate-stderr nook run --bundle "$BUNDLE" --config other.json cfg1
  assert_success
  assert_output "from-other"
  run --separate-stderr nook run -f "$TEST_DIR/other.json" --bundle "$BUNDLE" cfg2
  assert_success
  assert_output "from-other"
  nook_create cfg3 --config other.json
  assert_success
  assert_equal "$(state_field cfg3 .bundle)" "$BUNDLE" "bundle in state"
  run nook run --bundle "$BUNDLE" --config missing.json cfg4
  assert_failure
  assert_one_error_line "$TEST_DIR/cwd/missing.json: No such file or directory"
}

@test "cli: LISTEN_FDS passes descriptors 3.. on with LISTEN_FDS and LISTEN_PID set for the program" {
  echo first >"$TEST_DIR/a"
  echo second >"$TEST_DIR/b"
  echo third >"$TEST_DIR/c"
  chmod 0644 "$TEST_DIR/a" "$TEST_DIR/b" "$TEST_DIR/c"
  local script='echo "$LISTEN_FDS $LISTEN_PID $$"; /probe cat /proc/self/fd/3; /probe cat /proc/self/fd/4; /probe cat /proc/self/fd/5 || true'
  set_args /bin/sh -c "$script"
  # LISTEN_PID unset (crun's test): the descriptors are nook's to pass on; --preserve-fds
  # counts from after them (runc, crun)
  export LISTEN_FDS=2
  run --separate-stderr nook run --bundle "$BUNDLE" --preserve-fds 1 lfd1 3<"$TEST_DIR/a" 4<"$TEST_DIR/b" 5<"$TEST_DIR/c"
  assert_success
  assert_output $'2 1 1\nfirst\nsecond\nthird'
  # without --preserve-fds the one after them is not passed
  run --separate-stderr nook run --bundle "$BUNDLE" lfd2 3<"$TEST_DIR/a" 4<"$TEST_DIR/b" 5<"$TEST_DIR/c"
  assert_success
  assert_output $'2 1 1\nfirst\nsecond\nENOENT'
  # the config's own LISTEN_PID is kept (crun)
  set_env LISTEN_PID=7
  run --separate-stderr nook run --bundle "$BUNDLE" lfd3 3<"$TEST_DIR/a" 4<"$TEST_DIR/b"
  assert_success
  assert_output $'2 7 1\nfirst\nsecond\nENOENT'
  # LISTEN_PID naming another process: the descriptors are not nook's (sd_listen_fds, runc)
  cfg '.process.env |= map(select(startswith("LISTEN_") | not))'
  export LISTEN_PID=1
  run --separate-stderr nook run --bundle "$BUNDLE" lfd4 3<"$TEST_DIR/a" 4<"$TEST_DIR/b"
  assert_success
  assert_output $'  1\nENOENT\nENOENT\nENOENT'
  unset LISTEN_FDS LISTEN_PID
}

@test "cli: exec --cgroup is refused in one line" {
  set_args /probe sleep 100
  create_container c1
  run nook start c1
  run --separate-stderr nook exec --cgroup sub c1 /probe echo hi
  assert_failure
  output=$stderr
  assert_one_error_line "exec --cgroup sub"
}
