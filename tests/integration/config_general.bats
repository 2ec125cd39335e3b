#!/usr/bin/env bats
# Config keys, general part (docs/config-keys.md): ociVersion, process presence, hooks (each
# phase, state on stdin, failures), annotations, intelRdt, resources.network/rdma, the key
# policy table (`nook config-keys`) against real configs, `nook features`, and the config.json
# files real clients send (tests/configs).

load ../lib/common
load config_lib

setup_file() { config_setup_file; }
setup() { config_setup; }

# ---------------------------------------------------------------------------------------------
# ociVersion, process

@test "ociVersion: every 1.x accepted (pre-release and build suffixes too), a newer minor warns once, other majors refused" {
  local v
  for v in 1.0.0 1.0.2-dev 1.1.0 1.2.0 1.2.5-dev 1.3.0 1.3.0+build 1.3.0-rc.1+dev; do
    cfg --arg v "$v" '.ociVersion = $v'
    inside "ver-$v" /probe echo ok
    assert_success
    assert_output ok
    # nook implements 1.3.0: nothing to warn about
    [[ $stderr != *warning* ]] || { echo "unexpected warning for $v: $stderr" >&2; return 1; }
  done
  # a later minor runs, and says so in exactly one line: at create, not again at start,
  # state or delete (they read the stored copy)
  cfg '.ociVersion = "1.4.0"'
  create_container ver-new
  local stderr=$output
  [[ $(grep -c . <<<"$stderr") == 1 && $stderr == *'ociVersion "1.4.0" is newer than runtime-spec 1.3.0'* ]] ||
    { echo "expected one warning line, got: $stderr" >&2; return 1; }
  [[ $stderr == *"$BUNDLE/config.json"* ]] || { echo "no file named: $stderr" >&2; return 1; }
  run --separate-stderr nook start ver-new
  assert_success
  local -a later=("$stderr")
  run --separate-stderr nook state ver-new
  assert_success
  later+=("$stderr")
  run --separate-stderr nook delete --force ver-new
  assert_success
  later+=("$stderr")
  [[ ${later[*]} != *newer* ]] || { echo "warned again after create: ${later[*]}" >&2; return 1; }
  for v in 0.9.0 2.0.0 2.0.0-dev 10.1.0 banana 1.3 1.3.0- " 1.3.0" 1.3.x; do
    cfg --arg v "$v" '.ociVersion = $v'
    expect_create_error "ver-bad" "$BUNDLE/config.json: /ociVersion: version \"$v\" is not"
  done
  cfg '.ociVersion = "2.0.0"'
  expect_create_error "ver-bad" "major version 2 is incompatible with 1.x"
}

@test "process: missing is refused at create" {
  cfg 'del(.process)'
  expect_create_error noproc "/process"
}

# ---------------------------------------------------------------------------------------------
# hooks

# add_hook PHASE NAME SCRIPT: append a hook running SCRIPT (sh) to hooks.PHASE.
add_hook() {
  local path
  path=$(hook_script "$2" "$3")
  cfg --arg ph "$1" --arg p "$path" --arg n "$2" \
    '.hooks[$ph] += [{path: $p, args: [$p, "arg-\($n)"], env: ["HOOK_NAME=\($n)", "PATH=/usr/bin:/bin"]}]'
}

@test "hooks: every phase runs once, in order, with the state on stdin, its args and env" {
  local out=$TEST_DIR/hooks.out
  user_file "$out"
  user_dir "$TEST_DIR/hookstate"
  for ph in prestart createRuntime createContainer startContainer poststart poststop; do
    add_hook "$ph" "$ph" "echo \"$ph \$1 \$HOOK_NAME \$(cat | jq -r '.status + \" \" + .id + \" \" + (.pid|tostring) + \" \" + .annotations.k')\" >>$out"
  done
  cfg '.annotations = {k: "v"}'
  # startContainer runs in the container: jq and the host's /bin are not there. Bind them.
  cfg '.mounts += [{destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"]}, {destination: "/lib", type: "bind", source: "/lib", options: ["rbind", "ro"]}, {destination: "/lib64", type: "bind", source: "/lib64", options: ["rbind", "ro"]}]'
  cfg --arg o "$out" '.mounts += [{destination: $o, type: "bind", source: $o, options: ["bind"]}]'
  # startContainer's path is resolved in the container: the hook script must be there too
  cfg --arg h "$TEST_DIR/hooks" '.mounts += [{destination: $h, type: "bind", source: $h, options: ["bind", "ro"]}]'
  set_args /probe sleep 1
  create_container hk1
  local pid
  pid=$(container_pid hk1)
  # after create: prestart, createRuntime, createContainer, and nothing else
  run cat "$out"
  assert_output "prestart arg-prestart prestart created hk1 $pid v
createRuntime arg-createRuntime createRuntime created hk1 $pid v
createContainer arg-createContainer createContainer created hk1 $pid v"
  run nook start hk1
  assert_success
  wait_for_status hk1 stopped
  run nook delete hk1
  assert_success
  run cat "$out"
  assert_output_contains "startContainer arg-startContainer startContainer created hk1"
  assert_output_contains "poststart arg-poststart poststart running hk1 $pid v"
  assert_output_contains "poststop arg-poststop poststop stopped hk1"
  assert_equal "$(wc -l <"$out")" 6 "hook runs"
}

@test "hooks: prestart, createRuntime and createContainer get created, and nook state says the same meanwhile" {
  # runtime-spec lifecycle: the hooks are steps 3-5, after step 2 ("creating: the container
  # is being created"). Each hook saves its stdin and what `nook state` prints while it runs
  # (create holds the container's lock: state must answer without waiting for it).
  local d=$TEST_DIR/hs ph
  user_dir "$d"
  for ph in prestart createRuntime createContainer; do
    add_hook "$ph" "$ph" "cat >$d/$ph.stdin; $NOOK_BIN --root $STATE_ROOT state hs1 >$d/$ph.state 2>$d/$ph.err; NOOK_NO_FAST_STATE=1 $NOOK_BIN --root $STATE_ROOT state hs1 >$d/$ph.full 2>>$d/$ph.err"
  done
  set_args /probe sleep 1
  create_container hs1
  local pid
  pid=$(container_pid hs1)
  for ph in prestart createRuntime createContainer; do
    assert_equal "$(cat "$d/$ph.err")" "" "$ph: nook state's stderr"
    assert_equal "$(jq -r '.status + " " + (.pid|tostring)' "$d/$ph.stdin")" "created $pid" "$ph stdin"
    assert_equal "$(jq -r '.status + " " + (.pid|tostring)' "$d/$ph.state")" "created $pid" "$ph: nook state"
    assert_equal "$(jq -r '.status + " " + (.pid|tostring)' "$d/$ph.full")" "created $pid" "$ph: nook state (full path)"
  done
  run nook state hs1
  assert_success
  assert_equal "$(jq -r .status <<<"$output")" created "after create"
  run nook delete --force hs1
  assert_success
  # run in the foreground: the same during its hooks (the hooks ask for hs1)
  rm -f "$d"/*
  set_args /probe echo ok
  run nook run --bundle "$BUNDLE" hs1
  assert_success
  assert_output ok
  for ph in prestart createRuntime createContainer; do
    assert_equal "$(jq -r .status "$d/$ph.stdin") $(jq -r .status "$d/$ph.state")" "created created" "run: $ph"
  done
}

@test "hooks: createContainer runs in the container's namespaces, prestart and createRuntime in the runtime's" {
  local out=$TEST_DIR/ns.out
  user_file "$out"
  cfg '.hostname = "inside-ns"'
  for ph in createRuntime createContainer; do
    add_hook "$ph" "$ph" "echo \"$ph \$(hostname)\" >>$out"
  done
  inside hk2 /probe echo ok
  assert_success
  run cat "$out"
  assert_output "createRuntime $(hostname)
createContainer inside-ns"
}

@test "hooks: createContainer runs in nook's working directory, also after plain binds" {
  local out=$TEST_DIR/cwd.out
  user_file "$out"
  user_dir "$TEST_DIR/bsrc"
  mkdir -p "$ROOTFS/mnt/pb"
  # a plain bind is mounted onto "." after a chdir into its destination; nook returns after
  add_mount /mnt/pb bind "$TEST_DIR/bsrc" bind
  add_hook createContainer cwd "pwd >>$out"
  mkdir -p "$TEST_DIR/here"
  chmod 0755 "$TEST_DIR/here"
  cd "$TEST_DIR/here"
  inside hkcwd /probe echo ok
  assert_success
  run cat "$out"
  assert_output "$TEST_DIR/here"
}

@test "hooks: a failing prestart, createRuntime or createContainer hook fails create, leaving nothing" {
  for ph in prestart createRuntime createContainer; do
    cfg 'del(.hooks)'
    add_hook "$ph" "fail-$ph" "exit 3"
    expect_create_error "hkf-$ph" "$ph hook"
  done
}

@test "hooks: a hook that runs past its timeout fails the operation" {
  cfg --arg p "$(hook_script slow 'sleep 30')" '.hooks.createRuntime = [{path: $p, timeout: 1}]'
  expect_create_error hkt "timed out"
}

@test "hooks: without env the runtime's hooks get nook's environment, the container's get process.env" {
  local out=$TEST_DIR/hookenv.out p
  user_file "$out"
  # runc and crun: a hook without `env` runs with the runtime's environment (Go's exec with a
  # nil Env; environ); `env: []` is an empty environment. createContainer runs in the
  # container's process, which (as runc's init) has process.env by then.
  for ph in prestart createRuntime poststart createContainer; do
    p=$(hook_script "env-$ph" "echo \"$ph \${NOOK_HOOKENV:-unset}\" >>$out")
    cfg --arg ph "$ph" --arg p "$p" '.hooks[$ph] += [{path: $p}]'
  done
  p=$(hook_script env-empty "echo \"empty \${NOOK_HOOKENV:-unset}\" >>$out")
  cfg --arg p "$p" '.hooks.prestart += [{path: $p, env: []}]'
  set_env NOOK_HOOKENV=from-config
  export NOOK_HOOKENV=from-caller
  inside hkenv /probe echo ran
  assert_success
  assert_output "ran"
  run sort "$out"
  assert_output $'createContainer from-config\ncreateRuntime from-caller\nempty unset\npoststart from-caller\nprestart from-caller'
}

@test "hooks: a failing poststart hook fails start and stops the container (runtime-spec 1.3)" {
  local out=$TEST_DIR/poststop.out
  user_file "$out"
  add_hook poststart fail-poststart "exit 4"
  add_hook poststop note-poststop "echo poststop >>$out"
  set_args /bin/sleep 100
  create_container hkps
  run --separate-stderr nook start hkps
  assert_failure
  [[ $stderr == *"poststart hook"* ]] || { echo "no error: $stderr" >&2; false; }
  # stopped, not running; delete destroys it and runs poststop (lifecycle step 12, 13)
  wait_for_status hkps stopped
  run nook delete hkps
  assert_success
  assert_no_container hkps
  assert_equal "$(cat "$out")" poststop "poststop"
  # run in the foreground: the same, and run fails (not the program's status)
  : >"$out"
  run --separate-stderr nook run --bundle "$BUNDLE" hkps2
  assert_failure
  [[ $stderr == *"poststart hook"* ]] || { echo "no error: $stderr" >&2; false; }
  assert_no_container hkps2
  assert_equal "$(cat "$out")" poststop "poststop after run"
}

@test "hooks: a failing poststop hook is a warning only" {
  add_hook poststop fail-poststop "exit 5"
  set_args /probe echo ran
  create_container hkpo
  run nook start hkpo
  wait_for_status hkpo stopped
  run --separate-stderr nook delete hkpo
  assert_success
  [[ $stderr == *"poststop hook"* ]] || { echo "no warning: $stderr" >&2; false; }
  assert_no_container hkpo
}

@test "hooks: a failing startContainer hook fails the container before its program runs" {
  add_hook startContainer fail-start "exit 6"
  cfg '.mounts += [{destination: "/bin/sh", type: "bind", source: "/bin/sh", options: ["bind", "ro"]}]'
  inside hkst /probe echo must-not-run
  assert_failure
  assert_output_not_contains "must-not-run"
}

# ---------------------------------------------------------------------------------------------
# annotations, intelRdt, resources the cgroup code does not manage

@test "annotations: accepted and shown in state" {
  cfg '.annotations = {"org.example.key": "value", "another": "two words"}'
  set_args /probe sleep 30
  create_container ann1
  run state_field ann1 '.annotations["org.example.key"] + "|" + .annotations.another'
  assert_output "value|two words"
}

@test "linux.intelRdt: refused (no resctrl support)" {
  cfg '.linux.intelRdt = {closID: "guaranteed_group", l3CacheSchema: "L3:0=7f0"}'
  expect_create_error rdt1 "intelRdt"
}

@test "linux.memoryPolicy and linux.netDevices (runtime-spec 1.3): refused" {
  cfg '.ociVersion = "1.3.0" | .linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0"}'
  expect_create_error mpol "/linux/memoryPolicy: a NUMA memory policy (runtime-spec 1.3) is not implemented by nook"
  cfg '.ociVersion = "1.3.0" | del(.linux.memoryPolicy) | .linux.netDevices = {eth1: {name: "ctr1"}}'
  expect_create_error netdev "/linux/netDevices: moving network devices into the container"
  cfg 'del(.linux.netDevices) | .freebsd = {}'
  expect_create_error fbsd "/freebsd: platform is not Linux"
}

@test "linux.resources.rdma: ignored with a warning; network unprivileged too" {
  # network as root is the cgroup's (cgroup.bats "cgroup: linux.resources.network ..."):
  # honoured on cgroup v1, an error where cgroup v1 lacks net_cls
  cfg '.linux.resources.rdma = {"mlx5_1": {hcaHandles: 3}}'
  if is_user_mode; then cfg '.linux.resources.network = {classID: 1048577}'; fi
  inside netres /probe echo ok
  assert_success
  [[ $stderr == *"linux.resources.rdma ignored"* ]] || { echo "$stderr" >&2; false; }
  # said once each (the cgroup plan does not repeat them)
  [[ $(grep -c 'rdma' <<<"$stderr") -eq 1 ]] || { echo "$stderr" >&2; false; }
  if is_user_mode; then
    [[ $stderr == *"linux.resources.network ignored: net_cls and net_prio are cgroup v1 controllers"* ]] ||
      { echo "$stderr" >&2; false; }
    [[ $(grep -c 'network' <<<"$stderr") -eq 1 ]] || { echo "$stderr" >&2; false; }
  fi
}

# ---------------------------------------------------------------------------------------------
# The key policy (src/lib/keys.cpp, `nook config-keys`), docs/config-keys.md and what nook does.
# tests/unit/keys_test.cpp compares every row of the table and the doc; these run configs.

KEYS_DOC=$NOOK_REPO_DIR/docs/config-keys.md

# key_field POINTER N [VALUE]: field N of the `nook config-keys` line for POINTER (1 pointer,
# 2 values, 3 root, 4 unprivileged, 5 reason), from $KEYS_TABLE; with VALUE, the line whose
# values name it (a mount option's row).
key_field() {
  awk -F'\t' -v p="$1" -v n="$2" -v v="${3:-}" \
    '$1 == p && (v == "" || index(" " $2 " ", " " v " ")) { print $n; exit }' <<<"$KEYS_TABLE"
}

# sample_key ID POINTER[=VALUE] JQ [LOG]: the test's bundle with JQ applied; nook must do what the table
# says for POINTER in this mode: refuse (error with the pointer and the reason), ignore (the
# warning "KEY ignored: REASON"), lsm (either, as the host's LSM is on or off), honour (run, no
# warning naming the key), or fall back (run; with --debug, the log line LOG).
sample_key() {
  local id=$1 ptr=${2%%=*} value= edit=$3 log=${4:-} treat reason key
  [[ $2 == *=* ]] && value=${2#*=}
  treat=$(key_field "$ptr" "$(is_user_mode && echo 4 || echo 3)" "$value")
  reason=$(key_field "$ptr" 5 "$value")
  key=${ptr#/}
  key=${key//\//.}
  [[ -n $treat ]] || { echo "$ptr: not in nook config-keys" >&2; return 1; }
  [[ -z $reason ]] || grep -qF -- "$reason" "$KEYS_DOC" || { echo "$ptr: reason not in the doc: $reason" >&2; return 1; }
  cat "$TEST_DIR/pristine.json" >"$BUNDLE/config.json"
  cfg "$edit"
  set_args /probe echo ok
  if [[ $treat == lsm ]]; then
    local lsm=SELinux
    case $ptr in
      /process/apparmorProfile) lsm=AppArmor && grep -qs Y /sys/module/apparmor/parameters/enabled && treat=refused ;;
      *) grep -qs 1 /sys/fs/selinux/enforce && treat=refused ;;
    esac
    if [[ $treat == lsm ]]; then treat=ignored reason="$lsm is not enabled on this host"; fi
  fi
  echo "# $ptr: $treat${reason:+ ($reason)}" >&3
  case $treat in
    refused)
      nook_create "$id"
      assert_failure
      # $ptr unquoted: its "*" matches the array index
      [[ $output == *$ptr:* && $output == *"$reason"* ]] ||
        { echo "$ptr: no pointer and reason \"$reason\" in: $output" >&2; return 1; }
      assert_no_container "$id" ;;
    ignored)
      run --separate-stderr nook run --bundle "$BUNDLE" "$id"
      assert_success
      [[ $stderr == *"$key ignored: $reason"* ]] || { echo "$ptr: no warning in: $stderr" >&2; return 1; } ;;
    honoured | fallback)
      run --separate-stderr nook --debug run --bundle "$BUNDLE" "$id"
      assert_success
      assert_output ok
      # honoured: no warning about the key; a fallback may announce itself in one (the
      # mappings replaced by the single ID do), and must log what it did
      [[ $treat == fallback || $stderr != *"warning"*"$key"* ]] || { echo "$ptr: warned about: $stderr" >&2; return 1; }
      [[ $treat == honoured || $stderr == *"$log"* ]] || { echo "$ptr: no fallback log \"$log\": $stderr" >&2; return 1; } ;;
    *)
      echo "$ptr: no sample check for treatment $treat" >&2
      return 1 ;;
  esac
}

@test "config keys: a sample of each treatment behaves as the table and this document say" {
  run nook config-keys
  assert_success
  KEYS_TABLE=$output
  cp "$BUNDLE/config.json" "$TEST_DIR/pristine.json"
  # refused
  sample_key k-rdt /linux/intelRdt '.linux.intelRdt = {closID: "guaranteed_group", l3CacheSchema: "L3:0=7f0"}'
  sample_key k-sol /solaris '.solaris = {}'
  sample_key k-pers /linux/personality/flags '.linux.personality = {domain: "LINUX", flags: ["x"]}'
  # ignored, with a warning
  sample_key k-cmd /process/commandLine '.process.commandLine = "cmd.exe /c"'
  sample_key k-usr /process/user/username '.process.user.username = "Administrator"'
  # honoured as root only where cgroup v1 has net_cls (cgroup.bats tests that)
  if is_user_mode; then
    sample_key k-net /linux/resources/network '.linux.resources.network = {classID: 1048577}'
  fi
  sample_key k-rdma /linux/resources/rdma '.linux.resources.rdma = {"mlx5_1": {hcaHandles: 3}}'
  # refused where the LSM is on, else ignored
  sample_key k-aa /process/apparmorProfile '.process.apparmorProfile = "nook-test"'
  sample_key k-se /linux/mountLabel '.linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  # honoured
  sample_key k-host /hostname '.hostname = "keys-sample"'
  sample_key k-nnp /process/noNewPrivileges '.process.noNewPrivileges = true'
  # honoured as root; refused unprivileged (the kernel's rule for ID-mapped mounts)
  mkdir -p "$TEST_DIR/vol"
  sample_key k-umap /mounts/*/uidMappings '.mounts += [{destination: "/mnt", type: "bind", source: "'"$TEST_DIR/vol"'", options: ["rbind"], uidMappings: [{containerID: 0, hostID: 0, size: 1}], gidMappings: [{containerID: 0, hostID: 0, size: 1}]}]'
  # honoured as root; unprivileged, the host mounts' locked atime mode is kept (logged)
  sample_key k-ratime /mounts/*/options=rnoatime '.mounts += [{destination: "/mnt", type: "bind", source: "'"$TEST_DIR/vol"'", options: ["rbind", "rnoatime"]}]' "recursive atime option not applied"
  # honoured as root; unprivileged, the single-ID map instead (logged)
  if is_root_mode; then chmod 0755 "$ROOTFS"; fi
  sample_key k-map /linux/uidMappings '.linux.namespaces |= (if any(.type == "user") then . else . + [{type: "user"}] end) | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]' "single-ID user namespace"
}

@test "features: what nook reports matches the decisions in docs/config-keys.md" {
  run nook features
  assert_success
  local f=$output
  assert_equal "$(jq -r '.linux.namespaces | sort | join(",")' <<<"$f")" "cgroup,ipc,mount,network,pid,time,user,uts" namespaces
  assert_equal "$(jq -r '.hooks | join(",")' <<<"$f")" "prestart,createRuntime,createContainer,startContainer,poststart,poststop" hooks
  # the range docs/config-keys.md's ociVersion row gives
  assert_equal "$(jq -r '.ociVersionMin + " " + .ociVersionMax' <<<"$f")" "1.0.0 1.3.0" ociVersion
  # apparmor, selinux, intelRdt, idmap: enabled exactly when the table does not refuse the key
  run nook config-keys
  assert_success
  KEYS_TABLE=$output
  local want=() p
  for p in /process/apparmorProfile /process/selinuxLabel /linux/intelRdt; do
    [[ $(key_field "$p" 3) == honoured ]] && want+=(true) || want+=(false)
  done
  [[ $(awk -F'\t' '$1 == "/mounts/*/options" && $2 ~ /(^| )idmap( |$)/ { print $3 }' <<<"$KEYS_TABLE") == honoured ]] && want+=(true) || want+=(false)
  assert_equal "$(jq -r '[.linux.apparmor.enabled, .linux.selinux.enabled, .linux.intelRdt.enabled, .linux.mountExtensions.idmap.enabled] | map(tostring) | join(",")' <<<"$f")" "$(IFS=,; echo "${want[*]}")" "lsm, rdt, idmap"
  [[ ${want[*]} == "false false false true" ]]
  # mountOptions: exactly the options the doc's honoured mounts[].options rows name
  local doc
  doc=$(awk -F' [|] ' '$1 ~ /^[|] `mounts\[\]\.options`/ && $2 ~ /^honoured/ { print $1 }' "$KEYS_DOC" |
    grep -o '`[^`]*`' | tr -d '`' | grep -vxF 'mounts[].options' | sort)
  [[ $(wc -l <<<"$doc") -gt 40 ]] || { echo "too few options in the doc: $doc" >&2; false; }
  assert_equal "$(jq -r '.mountOptions[]' <<<"$f" | sort)" "$doc" "mountOptions"
}

# ---------------------------------------------------------------------------------------------
# The config.json files real clients send (tests/configs), rewritten to the test rootfs

CLIENT_CONFIGS=${NOOK_CLIENT_CONFIGS:-$NOOK_REPO_DIR/tests/configs}

# client_bundle FILE: $BUNDLE/config.json becomes FILE with root.path = rootfs, host paths of
# bind sources replaced by files in the bundle, process.args the probe script given.
client_bundle() {
  local src=$1
  user_dir "$BUNDLE/binds"
  user_file "$BUNDLE/binds/file" "bound file"
  jq --arg b "$BUNDLE/binds" '
    .root.path = "rootfs" | .root.readonly = false |
    .process.terminal = false |
    .mounts |= map(if (.type == "bind" or .type == "none" or (.options // [] | index("bind") or index("rbind")))
                      and .source != "/sys" and .source != "/dev" and .source != "/proc"
                   then .source = (if (.destination | test("shm$")) then $b else $b + "/file" end) else . end) |
    del(.hooks)' "$src" >"$BUNDLE/config.json"
  if is_user_mode; then
    # unprivileged, a hard limit above the caller's is refused (config_process.bats shows it)
    cfg --arg n "$(ulimit -Hn)" --arg u "$(ulimit -Hu)" '.process.rlimits = ((.process.rlimits // []) | map(select(
      (.type == "RLIMIT_NOFILE" and ($n != "unlimited") and .hard > ($n|tonumber)) or
      (.type == "RLIMIT_NPROC" and ($u != "unlimited") and .hard > ($u|tonumber)) | not)))'
  fi
  is_user_mode && chown "$NOOK_AS_USER_UID" "$BUNDLE/config.json"
  return 0
}

@test "clients: every recorded client config runs, and its key features hold inside" {
  [[ -d $CLIENT_CONFIGS ]] || { echo "no recorded configs at $CLIENT_CONFIGS" >&2; return 1; }
  local f name ran=0
  for f in "$CLIENT_CONFIGS"/*.config.json; do
    name=$(basename "$f" .config.json)
    client_bundle "$f"
    # what the config asks for, checked from inside
    set_args /bin/sh -c '
      /probe uid; /probe hostname; /probe mounts /proc | cut -d" " -f2
      /probe mounts /dev/pts | cut -d" " -f2; /probe mounts /dev/shm | cut -d" " -f1 | cut -d, -f1
      /probe cat /proc/keys | wc -c; /probe write /proc/sys/kernel/hostname 2>&1
      /probe rlimit NOFILE; /probe caps | grep CapBnd; echo $$'
    run --separate-stderr nook run --bundle "$BUNDLE" "client-$ran"
    if [[ $status -ne 0 ]]; then
      echo "$name: status $status: $stderr" >&2
      return 1
    fi
    local want_uid want_host want_nofile want_bnd
    want_uid="$(jq -r '"\(.process.user.uid) \(.process.user.gid)"' "$f")"
    want_host=$(jq -r '.hostname // empty' "$f")
    want_nofile=$(jq -r '.process.rlimits[]? | select(.type == "RLIMIT_NOFILE") | "\(.soft) \(.hard)"' "$f")
    local lines
    mapfile -t lines <<<"$output"
    assert_equal "${lines[0]}" "$want_uid" "$name: uid"
    [[ -z $want_host ]] || assert_equal "${lines[1]}" "$want_host" "$name: hostname"
    assert_equal "${lines[2]}" "proc" "$name: /proc"
    assert_equal "${lines[3]}" "devpts" "$name: /dev/pts"
    assert_equal "${lines[5]}" "0" "$name: /proc/keys masked"
    assert_equal "${lines[6]}" "EROFS" "$name: /proc/sys read-only"
    if [[ -n $want_nofile ]] && { is_root_mode || [[ ${want_nofile#* } -le $(ulimit -Hn) ]]; }; then
      assert_equal "${lines[7]}" "$want_nofile" "$name: RLIMIT_NOFILE"
    fi
    assert_equal "${lines[9]}" "1" "$name: PID namespace"
    ran=$((ran + 1))
  done
  [[ $ran -gt 10 ]]
}
