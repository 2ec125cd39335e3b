#!/bin/bash
# The checks of the VM test stage, run inside the guest (systemd 252 as PID 1, pure cgroup v2)
# as root by nookvm.service at boot; tests/vm/run.sh shares this file, the freshly built nook
# and an out/ directory over 9p (/mnt/host). Every check runs for nook and, as the reference,
# for crun in the same boot: a check crun fails is a wrong check, not a nook bug (runc where
# crun lacks the feature: checkpoint/restore).
#
# Each check writes "RESULT <name>-<runtime> PASS|FAIL <seconds>" to out/results.txt after
# its output; tests/CMakeLists.txt registers one ctest per `check` line below and runtime
# (tests/vm/result.sh reads them), so every check is visible in ctest on its own.
#
# A check function gets the runtime's name (nook or crun) as $1; it fails with a message
# through `die` or a non-zero status. Root checks call the runtime directly; rootless ones run
# as the lingering user "tester" (uid 1000, subuid ranges), in a scope of its systemd --user
# instance with Delegate=yes (see as_user).
set -u
SHARE=/mnt/host
OUT=$SHARE/out
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt" >/dev/ttyS0) 2>&1
T0=$(date +%s.%N)
echo "===== nookvm start: uptime $(cut -d' ' -f1 /proc/uptime)s kernel $(uname -r)"

install -m 755 "$SHARE/nook" /usr/local/bin/nook
RUNTIMES="nook crun"
CALL_TIMEOUT=120
W=/var/tmp/nookvm
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"

now() { date +%s.%N; }
die() {
  echo "FAILED: $*"
  return 1
}
# expect WHAT ACTUAL WANTED
expect() {
  if [ "$2" = "$3" ]; then
    echo "ok: $1 = $3"
  else
    die "$1: got \"$2\", want \"$3\""
  fi
}

# check NAME FUNCTION [RUNTIME...]: runs FUNCTION for each runtime (default: nook and crun) and
# records the result. tests/CMakeLists.txt reads these lines: keep them one per check.
check() {
  local name=$1 fn=$2 rt t0 rc
  shift 2
  for rt in ${*:-$RUNTIMES}; do
    echo "----- BEGIN $name-$rt"
    t0=$(now)
    (set -o pipefail; "$fn" "$rt")
    rc=$?
    local secs
    secs=$(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")
    echo "----- END $name-$rt rc=$rc ${secs}s"
    if [ $rc = 0 ]; then
      echo "RESULT $name-$rt PASS $secs" >>"$OUT/results.txt"
    else
      echo "RESULT $name-$rt FAIL $secs" >>"$OUT/results.txt"
    fi
  done
}

# A bundle for runtime $1 named $2: busybox rootfs, `crun spec` (--rootless for $3=user),
# then the jq program $4 applied to config.json. Prints the bundle directory.
bundle() {
  local rt=$1 id=$2 mode=$3 prog=$4 b=$W/$2
  rm -rf "$b"
  mkdir -p "$b"
  cp -a /opt/rootfs "$b/rootfs"
  if [ "$mode" = user ]; then
    # as the user: the rootless spec maps the caller's own uid
    chown -R tester: "$b"
    runuser -u tester -- sh -c "cd '$b' && crun spec --rootless"
  else
    (cd "$b" && crun spec)
  fi
  jq ".process.terminal=false | $prog" "$b/config.json" >"$b/config.json.new"
  mv "$b/config.json.new" "$b/config.json"
  [ "$mode" = user ] && chown tester: "$b/config.json"
  echo "$b"
}

rt() { timeout "$CALL_TIMEOUT" "$@"; }

# The cgroup v2 directory of process $1, as the host sees it.
cgroup_of() { echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"; }

# The container's PID from `RUNTIME state ID` (run as the same user).
state_pid() { "$@" | jq -r .pid; }
state_status() { "$@" | jq -r .status; }

# As the user: a login-less systemd --user scope with Delegate=yes, so its cgroup is the user's
# (as a service or a Podman container of the user's would get). Environment for the user bus.
as_user() {
  runuser -u tester -- env XDG_RUNTIME_DIR=/run/user/1000 \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus HOME=/home/tester \
    systemd-run --user --scope --quiet -p Delegate=yes -- "$@"
}
# As the user in a login session (PAM, logind: what `ssh` or a terminal gives), for Podman.
as_login() { runuser -l tester -c "$*"; }

# ------------------------------------------------------------------------------------------
# The host: systemd, pure cgroup v2, the user manager and its delegation.

c_host() {
  if [ "$1" = nook ]; then
    /usr/local/bin/nook --version || return 1
    expect "features: systemd systemdUser" "$(nook features | jq -c '[.linux.cgroup.systemd, .linux.cgroup.systemdUser]')" "[true,true]" || return 1
  fi
  [ "$1" = crun ] && { crun --version | head -1 || return 1; }
  systemctl --version | head -1
  expect "fs type of /sys/fs/cgroup" "$(stat -fc %T /sys/fs/cgroup)" cgroup2fs
  expect "v1 mounts" "$(grep -c ' cgroup ' /proc/mounts)" 0
  echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  expect "user@1000.service" "$(systemctl is-active user@1000.service)" active
  echo "delegated to tester: $(cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers)"
  test -S /run/user/1000/bus || die "no user bus"
}

# ------------------------------------------------------------------------------------------
# Root, cgroupfs driver.

c_root_limits() {
  local id=lim-$1 b
  b=$(bundle "$1" "$id" root '.process.args=["sh","-c","cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight"]
      | .linux.resources={"memory":{"limit":67108864},"pids":{"limit":64},"cpu":{"shares":1024,"quota":50000,"period":100000}}
      | .linux.cgroupsPath="/nookvm/'$id'"')
  local out
  out=$(rt "$1" run --bundle "$b" "$id") || die "run failed: $out" || return 1
  echo "$out"
  expect "memory.max pids.max cpu.max cpu.weight" "$(echo $out)" "67108864 64 50000 100000 39"
  test ! -e /sys/fs/cgroup/nookvm/$id || die "cgroup /sys/fs/cgroup/nookvm/$id left after run"
}

# A detached container running "sleep" for runtime $1 ($2 = id, $3 = root|user, $4 = extra jq)
start_sleeper() {
  local rt=$1 id=$2 mode=$3 extra=${4:-.} b
  b=$(bundle "$rt" "$id" "$mode" '.process.args=["sh","-c","sleep 1000 & sleep 1000 & wait"] | '"$extra")
  if [ "$mode" = user ]; then
    as_user $rt ${RT_FLAGS:-} run -d --bundle "$b" "$id" </dev/null >/dev/null
  else
    rt $rt ${RT_FLAGS:-} run -d --bundle "$b" "$id" </dev/null >/dev/null
  fi
}

# exec, pause/resume (cgroup.freeze), ps, kill --all, delete: as root or the user ($2).
lifecycle() {
  local rt=$1 mode=$2 id=lc-$2-$1 R=()
  [ "$mode" = user ] && R=(as_user)
  local extra=.
  [ "$mode" = root ] && extra='.linux.cgroupsPath="/nookvm/'$id'"'
  start_sleeper "$rt" "$id" "$mode" "$extra" || die "run -d failed" || return 1
  local pid cg
  pid=$(state_pid "${R[@]}" $rt state "$id") || return 1
  cg=$(cgroup_of "$pid")
  echo "container pid $pid in $cg"
  [ "$cg" != /sys/fs/cgroup/ ] || die "no cgroup" || return 1
  [ "$mode" = root ] && { expect cgroup "$cg" /sys/fs/cgroup/nookvm/$id || return 1; }
  # exec: the new process is in the container's cgroup
  local ecg
  ecg=$("${R[@]}" $rt exec "$id" cat /proc/self/cgroup) || die "exec failed" || return 1
  expect "exec's /proc/self/cgroup" "$ecg" "$("${R[@]}" $rt exec "$id" cat /proc/1/cgroup)" || return 1
  # ps lists the three processes (sh and two sleeps)
  local n
  n=$("${R[@]}" $rt ps "$id" | tail -n +2 | wc -l)
  expect "ps lines" "$n" 3 || return 1
  # pause / resume through cgroup.freeze
  "${R[@]}" $rt pause "$id" || die "pause failed" || return 1
  expect "cgroup.freeze after pause" "$(cat "$cg/cgroup.freeze")" 1 || return 1
  expect "status after pause" "$(state_status "${R[@]}" $rt state "$id")" paused || return 1
  "${R[@]}" $rt resume "$id" || die "resume failed" || return 1
  expect "cgroup.freeze after resume" "$(cat "$cg/cgroup.freeze")" 0 || return 1
  expect "status after resume" "$(state_status "${R[@]}" $rt state "$id")" running || return 1
  # kill --all: every process, not just the first
  "${R[@]}" $rt kill --all "$id" KILL || die "kill --all failed" || return 1
  local i
  for i in $(seq 50); do
    [ -z "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break
    sleep 0.1
  done
  expect "cgroup.procs after kill --all" "$(cat "$cg/cgroup.procs" 2>/dev/null)" "" || return 1
  expect "status after kill --all" "$(state_status "${R[@]}" $rt state "$id")" stopped || return 1
  # delete: no cgroup left
  "${R[@]}" $rt delete "$id" || die "delete failed" || return 1
  test ! -e "$cg" || die "$cg left after delete"
}
c_root_lifecycle() { lifecycle "$1" root; }
c_user_lifecycle() { lifecycle "$1" user; }

c_user_run() {
  local id=urun-$1 b out
  b=$(bundle "$1" "$id" user '.process.args=["sh","-c","echo hello from $(id -u)"]')
  out=$(as_user $1 run --bundle "$b" "$id" </dev/null) || die "run failed: $out" || return 1
  expect output "$out" "hello from 0"
}

# issue 21: an exec pending on a frozen container (exec --ignore-paused waits while the cgroup
# is frozen) blocks neither `delete --force` (it thaws and kills; the exec ends with 128+9,
# nothing is left) nor `resume` (the exec then runs and exits 0). As root ($2=root) or the
# user in the user manager's delegated cgroup ($2=user).
paused_exec() {
  local rt=$1 mode=$2 id=pe-$2-$1 R=() round
  [ "$mode" = user ] && R=(as_user)
  for round in delete resume; do
    start_sleeper "$rt" "$id" "$mode" || die "run -d failed" || return 1
    local pid cg epid st=0
    pid=$(state_pid "${R[@]}" $rt state "$id") || return 1
    cg=$(cgroup_of "$pid")
    "${R[@]}" $rt pause "$id" || die "pause failed" || return 1
    "${R[@]}" $rt exec --ignore-paused "$id" true </dev/null >"$W/$id.exec" 2>&1 &
    epid=$!
    sleep 1
    kill -0 $epid 2>/dev/null || die "exec into the frozen container returned at once: $(cat "$W/$id.exec")" || return 1
    if [ $round = delete ]; then
      "${R[@]}" timeout 30 $rt delete --force "$id" || die "delete --force with an exec pending failed" || return 1
      timeout 30 tail --pid=$epid -f /dev/null
      wait $epid || st=$?
      expect "exec's status after delete --force" "$st" 137 || return 1
      test ! -e "$cg" || die "$cg left after delete --force" || return 1
      expect "state after delete --force" "$("${R[@]}" $rt state "$id" 2>/dev/null | wc -c)" 0 || return 1
    else
      "${R[@]}" timeout 30 $rt resume "$id" || die "resume with an exec pending failed" || return 1
      timeout 30 tail --pid=$epid -f /dev/null
      wait $epid || st=$?
      expect "exec's status after resume" "$st" 0 || return 1
      "${R[@]}" timeout 30 $rt delete --force "$id" || die "delete --force failed" || return 1
    fi
    echo "ok: round $round"
  done
}
# events --stats from the container's cgroup v2 files: the memory limit and the three processes.
events_stats() {
  local rt=$1 mode=$2 id=ev-$2-$1 R=() out
  [ "$mode" = user ] && R=(as_user)
  start_sleeper "$rt" "$id" "$mode" '.linux.resources={"memory":{"limit":67108864},"pids":{"limit":64}}' ||
    die "run -d failed" || return 1
  local i
  for i in $(seq 50); do  # until sh has started both sleeps
    out=$("${R[@]}" $rt events --stats "$id") || die "events --stats failed: $out" || return 1
    [ "$(echo "$out" | jq -r .data.pids.current)" = 3 ] && break
    sleep 0.1
  done
  echo "$out" | jq -c '{type, memory: .data.memory.usage, pids: .data.pids, cpu: .data.cpu.usage.total}'
  expect "type" "$(echo "$out" | jq -r .type)" stats || return 1
  expect "memory limit" "$(echo "$out" | jq -r .data.memory.usage.limit)" 67108864 || return 1
  expect "pids current/limit" "$(echo "$out" | jq -r '"\(.data.pids.current)/\(.data.pids.limit)"')" 3/64 || return 1
  "${R[@]}" timeout 30 $rt delete --force "$id" || die "delete --force failed"
}
# update: new limits land in the container's cgroup v2 files (crun as the reference).
update_limits() {
  local rt=$1 mode=$2 id=up-$2-$1${RT_FLAGS:+-sd} R=() pid cg
  [ "$mode" = user ] && R=(as_user)
  start_sleeper "$rt" "$id" "$mode" '.linux.resources={"memory":{"limit":67108864},"pids":{"limit":64}}' ||
    die "run -d failed" || return 1
  pid=$(state_pid "${R[@]}" $rt state "$id") || return 1
  cg=$(cgroup_of "$pid")
  "${R[@]}" $rt update --memory 134217728 --pids-limit 100 "$id" || die "update failed" || return 1
  expect "memory.max after update" "$(cat "$cg/memory.max")" 134217728 || return 1
  expect "pids.max after update" "$(cat "$cg/pids.max")" 100 || return 1
  "${R[@]}" timeout 30 $rt delete --force "$id" || die "delete --force failed"
}
c_root_update() { update_limits "$1" root; }
c_root_systemd_update() { RT_FLAGS=--systemd-cgroup update_limits "$1" root; }
c_user_systemd_update() { RT_FLAGS=--systemd-cgroup update_limits "$1" user; }
c_root_events() { events_stats "$1" root; }
# The user through the systemd driver, as rootless Podman runs it: with the cgroupfs driver the
# user's scope holds processes, so its children cannot get controllers (no internal processes).
c_user_events() { RT_FLAGS=--systemd-cgroup events_stats "$1" user; }
c_root_paused_exec() { paused_exec "$1" root; }
c_user_paused_exec() { paused_exec "$1" user; }

# ------------------------------------------------------------------------------------------
# The systemd driver (--systemd-cgroup): a transient scope systemd knows while the container
# runs, its limits as unit properties and in the cgroup, nothing left after delete.

# systemd_lifecycle RUNTIME root|user
systemd_lifecycle() {
  local rt=$1 mode=$2 id=sd-$2-$1 R=() S=(systemctl) slice=system.slice
  if [ "$mode" = user ]; then
    R=(as_user)
    S=(as_user systemctl --user)
    slice=user.slice
  fi
  local unit=nookvm-$id.scope
  start_sleeper "$rt" "$id" "$mode" '.linux.cgroupsPath="'$slice':nookvm:'$id'"
      | .linux.resources.memory={"limit":67108864} | .linux.resources.pids={"limit":64}' \
    || die "--systemd-cgroup run -d failed" || return 1
  expect "systemctl is-active $unit" "$("${S[@]}" is-active "$unit")" active || return 1
  expect "Delegate of $unit" "$("${S[@]}" show -p Delegate --value "$unit")" yes || return 1
  # nook gives systemd the limits as unit properties and puts the process in the scope itself
  # (runc's way); crun 1.8 writes them only into a "container" sub-cgroup of the scope, where
  # it puts the process (its properties read "infinity"): for crun they are only shown, and
  # the limits are checked inside the container for both below
  local unit_dir
  unit_dir=/sys/fs/cgroup$("${S[@]}" show -p ControlGroup --value "$unit")
  if [ "$rt" = nook ]; then
    expect "MemoryMax of $unit" "$("${S[@]}" show -p MemoryMax --value "$unit")" 67108864 || return 1
    expect "TasksMax of $unit" "$("${S[@]}" show -p TasksMax --value "$unit")" 64 || return 1
    expect "memory.max of $unit" "$(cat "$unit_dir/memory.max")" 67108864 || return 1
  else
    echo "$unit: $("${S[@]}" show -p MemoryMax -p TasksMax "$unit" | tr '\n' ' ')"
  fi
  local pid cg
  pid=$(state_pid "${R[@]}" $rt state "$id") || return 1
  cg=$(cgroup_of "$pid")
  echo "container pid $pid in $cg"
  case $cg in "$unit_dir" | "$unit_dir"/container) ;; *) die "not in $unit_dir: $cg" || return 1 ;; esac
  expect "memory.max inside" "$("${R[@]}" $rt exec "$id" cat /sys/fs/cgroup/memory.max)" 67108864 || return 1
  expect "pids.max inside" "$("${R[@]}" $rt exec "$id" cat /sys/fs/cgroup/pids.max)" 64 || return 1
  "${R[@]}" $rt pause "$id" || die "pause failed" || return 1
  expect "cgroup.freeze after pause" "$(cat "$cg/cgroup.freeze")" 1 || return 1
  "${R[@]}" $rt resume "$id" || die "resume failed" || return 1
  "${R[@]}" $rt kill "$id" KILL || die "kill failed" || return 1
  local i
  for i in $(seq 50); do
    [ "$(state_status "${R[@]}" $rt state "$id")" = stopped ] && break
    sleep 0.1
  done
  "${R[@]}" $rt delete "$id" || die "delete failed" || return 1
  sleep 0.5
  expect "units named $unit after delete" "$("${S[@]}" list-units --all --no-legend "$unit" | wc -l)" 0 || return 1
  test ! -e "$cg" || die "$cg left after delete"
}
c_root_systemd() { RT_FLAGS=--systemd-cgroup systemd_lifecycle "$1" root; }
c_user_systemd() { RT_FLAGS=--systemd-cgroup systemd_lifecycle "$1" user; }

# ------------------------------------------------------------------------------------------
# Podman with its default systemd cgroup manager, as root and as the user (rootless).

podman_image() {
  "$@" podman image exists localhost/bb 2>/dev/null ||
    "$@" podman import -q /opt/busybox.tar localhost/bb >/dev/null
}
runtime_path() { [ "$1" = nook ] && echo /usr/local/bin/nook || command -v "$1"; }

c_podman_root_limits() {
  podman_image env || return 1
  echo "cgroup manager: $(podman info --format '{{.Host.CgroupManager}}')"
  local out
  out=$(podman --runtime "$(runtime_path $1)" run --rm --memory 64m --pids-limit 64 --network none \
    localhost/bb sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup') ||
    die "podman run failed: $out" || return 1
  echo "$out"
  expect "memory.max pids.max" "$(echo $out | cut -d' ' -f1-2)" "67108864 64"
}

c_podman_user() {
  podman_image as_login || return 1
  as_login "podman info --format 'cgroup manager: {{.Host.CgroupManager}}, rootless {{.Host.Security.Rootless}}'"
  local P="podman --runtime $(runtime_path $1)" name=plc-$1 out
  as_login "$P run -d --name $name --memory 64m --pids-limit 64 --network none localhost/bb sleep 1000" >/dev/null ||
    die "podman run -d failed" || return 1
  echo "cgroup: $(as_login "podman inspect -f '{{.State.CgroupPath}}' $name")"
  out=$(as_login "$P exec $name cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max") ||
    die "podman exec failed: $out" || return 1
  expect "memory.max pids.max inside" "$(echo $out)" "67108864 64" || return 1
  as_login "$P pause $name" >/dev/null || die "podman pause failed" || return 1
  expect "status after pause" "$(as_login "podman inspect -f '{{.State.Status}}' $name")" paused || return 1
  as_login "$P unpause $name" >/dev/null || die "podman unpause failed" || return 1
  expect "status after unpause" "$(as_login "podman inspect -f '{{.State.Status}}' $name")" running || return 1
  out=$(as_login "podman stats --no-stream --format '{{.MemUsage}}' $name") || die "podman stats failed: $out" || return 1
  echo "stats: $out"
  case $out in *"/ 67.11MB"*) echo "ok: stats shows the 64 MiB limit" ;; *) die "stats: no 64 MiB limit in \"$out\"" || return 1 ;; esac
  local cid
  cid=$(as_login "podman inspect -f '{{.Id}}' $name")
  as_login "$P stop -t 2 $name" >/dev/null || die "podman stop failed" || return 1
  expect "status after stop" "$(as_login "podman inspect -f '{{.State.Status}}' $name")" exited || return 1
  as_login "$P rm $name" >/dev/null || die "podman rm failed" || return 1
  expect "libpod-$cid.scope after rm" "$(as_user systemctl --user list-units --all --no-legend "libpod-$cid.scope" | wc -l)" 0
}

# ------------------------------------------------------------------------------------------
# The Debian package (issue 19; tests/packaging/deb.sh builds it, tests/vm/run.sh shares it):
# `apt-get install ./nook_*.deb` in this fresh Debian 12, nook from /usr/bin as root and as the
# user, Podman finding it by name through the package's containers.conf drop-in, the installed
# bash completion, and a purge that leaves nothing. Last: the drop-in changes what Podman
# passes to a runtime named "nook" (runtime_supports_json), which the checks above must not see.

c_deb() {
  local debs=("$SHARE"/nook_*.deb) out
  [ -f "${debs[0]}" ] || die "no nook_*.deb shared (the package-deb test makes it)" || return 1
  podman_image env || return 1
  # Before: Podman knows no runtime called nook (it does not look names up in PATH).
  if out=$(podman --runtime nook info --format '{{.Host.OCIRuntime.Path}}' 2>&1); then
    die "podman --runtime nook worked before the package was installed: $out" || return 1
  fi
  echo "before: $out"
  cp "${debs[0]}" /var/tmp/
  out=$(cd /var/tmp && apt-get install -y "./${debs[0]##*/}" 2>&1) || die "apt-get install failed: $out" || return 1
  echo "$out" | tail -3
  expect "dpkg status" "$(dpkg-query -W -f '${db:Status-Status}' nook)" installed || return 1
  /usr/bin/nook --version || die "/usr/bin/nook --version" || return 1
  # nook run from the installed path, as root and as the user.
  local b
  b=$(bundle nook deb-root root '.process.args=["sh","-c","echo hello from $(id -u)"]')
  out=$(rt /usr/bin/nook run --bundle "$b" deb-root </dev/null) || die "run as root failed: $out" || return 1
  expect "/usr/bin/nook run as root" "$out" "hello from 0" || return 1
  b=$(bundle nook deb-user user '.process.args=["sh","-c","echo hello from $(id -u)"]')
  out=$(as_user /usr/bin/nook run --bundle "$b" deb-user </dev/null) || die "run as tester failed: $out" || return 1
  expect "/usr/bin/nook run as tester" "$out" "hello from 0" || return 1
  # Podman by name, root and rootless: the drop-in's path, and a container that ran.
  expect "podman --runtime nook: runtime path" "$(podman --runtime nook info --format '{{.Host.OCIRuntime.Path}}')" /usr/bin/nook || return 1
  out=$(podman --runtime nook run --name deb-p --network none localhost/bb sh -c 'echo podman ok') ||
    die "podman --runtime nook run failed: $out" || return 1
  expect "podman --runtime nook run as root" "$out" "podman ok" || return 1
  expect "OCIRuntime of the container" "$(podman inspect -f '{{.OCIRuntime}}' deb-p)" nook || return 1
  podman rm deb-p >/dev/null
  out=$(as_login "podman --runtime nook run --rm --network none localhost/bb sh -c 'echo podman ok from \$(id -u)'") ||
    die "rootless podman --runtime nook run failed: $out" || return 1
  expect "podman --runtime nook run as tester" "$out" "podman ok from 0" || return 1
  expect "rootless podman's runtime path" "$(as_login "podman --runtime nook info --format '{{.Host.OCIRuntime.Path}}'")" /usr/bin/nook || return 1
  # The installed completion lists the IDs of the --root given.
  b=$(bundle nook deb-bg root '.process.args=["sleep","1000"]')
  rt /usr/bin/nook --root /run/nook-deb run -d --bundle "$b" deb-bg </dev/null >/dev/null || die "run -d failed" || return 1
  out=$(bash -c 'source /usr/share/bash-completion/completions/nook
    COMP_WORDS=(nook --root /run/nook-deb kill ""); COMP_CWORD=4; _nook; echo "${COMPREPLY[*]}"')
  expect "completion of nook --root /run/nook-deb kill <TAB>" "$out" deb-bg || return 1
  /usr/bin/nook --root /run/nook-deb delete --force deb-bg || die "delete failed" || return 1
  # Purge: nothing of the package left.
  apt-get purge -y nook >/dev/null 2>&1 || die "apt-get purge nook failed" || return 1
  for f in /usr/bin/nook /etc/containers/containers.conf.d/nook.conf /usr/share/man/man8/nook-run.8.gz \
    /usr/share/bash-completion/completions/nook; do
    test ! -e $f || die "$f left after purge" || return 1
  done
  echo "ok: purged"
}

# issue 16: checkpoint and restore through CRIU (Debian's criu 3.17 works on this 6.1 kernel).
# A counter that lives in the process's memory: checkpoint stops it and removes the container
# (as runc), restore from the same bundle continues it from where it was (a fresh start would
# count from 1 again); state shows the restored PID running in the container's cgroup; delete
# removes it. --leave-running first: the container keeps counting.
c_root_checkpoint() {
  local rt=$1 id=ckpt-$1 img=$W/ckpt-img-$1 b
  rm -rf "$img" "$img-live"
  b=$(bundle "$rt" "$id" root '.process.args=["sh","-c","exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/count; sleep 0.1; done"]
      | .root.readonly=false | .linux.cgroupsPath="/nookvm/'$id'"')
  rt $rt run -d --bundle "$b" "$id" </dev/null >/dev/null || die "run -d failed" || return 1
  echo "running: pid $(state_pid rt $rt state "$id")"
  local c0=0 c1 c2 c3 pid cg t0 i
  for i in $(seq 100); do
    c0=$(cat "$b/rootfs/count" 2>/dev/null)
    [ "${c0:-0}" -gt 5 ] && break
    sleep 0.1
  done
  [ "${c0:-0}" -gt 5 ] || die "the counter does not count (${c0:-no file})" || return 1
  echo "counting: $c0"
  t0=$(now)
  rt $rt checkpoint --leave-running --image-path "$img-live" "$id" ||
    { tail -5 "$img-live/dump.log"; die "checkpoint --leave-running failed"; } || return 1
  echo "checkpoint --leave-running: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  expect "status after checkpoint --leave-running" "$(state_status rt $rt state "$id")" running || return 1
  test -s "$img-live/pstree.img" || die "no pstree.img in $img-live" || return 1
  t0=$(now)
  rt $rt checkpoint --image-path "$img" "$id" ||
    { tail -5 "$img/dump.log"; die "checkpoint failed"; } || return 1
  echo "checkpoint: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  # runc's behaviour: the checkpointed container is gone
  rt $rt state "$id" >/dev/null 2>&1 && die "state still answers after checkpoint" && return 1
  test ! -e "/sys/fs/cgroup/nookvm/$id" || die "cgroup left after checkpoint" || return 1
  c1=$(cat "$b/rootfs/count")
  sleep 1
  c2=$(cat "$b/rootfs/count")
  expect "counter while checkpointed" "$c2" "$c1" || return 1
  t0=$(now)
  rt $rt restore -d --image-path "$img" --bundle "$b" "$id" </dev/null >/dev/null ||
    { tail -5 "$img/restore.log"; die "restore failed"; } || return 1
  echo "restore: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  expect "status after restore" "$(state_status rt $rt state "$id")" running || return 1
  pid=$(state_pid rt $rt state "$id")
  kill -0 "$pid" || die "restored pid $pid does not exist" || return 1
  cg=$(cgroup_of "$pid")
  expect "restored process's cgroup" "$cg" "/sys/fs/cgroup/nookvm/$id" || return 1
  sleep 1
  c3=$(cat "$b/rootfs/count")
  echo "counter: $c0 before, $c1 at checkpoint, $c3 a second after restore"
  [ "$c3" -gt "$c2" ] || die "the counter did not continue ($c3 after $c2)" || return 1
  rt $rt delete --force "$id" || die "delete failed" || return 1
  rt $rt state "$id" >/dev/null 2>&1 && die "state still answers after delete" && return 1
  test ! -e "$cg" || die "$cg left after delete"
}

# Podman's checkpoint/restore as root (it refuses rootless): Podman calls `RUNTIME checkpoint
# --image-path CTR/checkpoint --work-path BUNDLE ID`, and restores through conmon, which calls
# `RUNTIME restore --bundle B --pid-file F --detach --image-path CTR/checkpoint --work-path B ID`.
# The same memory counter as root-checkpoint: stopped while checkpointed, continued (not
# restarted) after restore; exec into the restored container; stop and rm.
PCOUNTER='exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/count; sleep 0.1; done'

# has_line LINE TEXT: TEXT has the line LINE. (Not `CMD | grep -q`: grep leaves at the first
# match, CMD may then die writing the rest, and the checks run with pipefail.)
has_line() { grep -qxF -- "$1" <<<"$2"; }

# count_in DIR: the counter the container's rootfs DIR holds (0 when none yet; a read between
# the shell's truncation and its write is retried).
count_in() {
  local v i
  for i in 1 2 3 4 5; do
    v=$(cat "$1/count" 2>/dev/null)
    [ -n "$v" ] && break
    sleep 0.05
  done
  echo "${v:-0}"
}
# wait_count DIR N: until the counter in DIR passes N (20 s at most).
wait_count() {
  local i
  for i in $(seq 200); do
    [ "$(count_in "$1")" -gt "$2" ] && return 0
    sleep 0.1
  done
  die "the counter in $1 stays at $(count_in "$1") (not beyond $2)"
}

c_podman_root_checkpoint() {
  local P="podman --runtime $(runtime_path $1)" name=pck-$1 out mnt c0 c1 c2 c3 t0
  podman_image env || return 1
  podman rm -f $name >/dev/null 2>&1
  $P run -d --name $name --network none localhost/bb sh -c "$PCOUNTER" >/dev/null ||
    die "podman run -d failed" || return 1
  mnt=$(podman inspect -f '{{.GraphDriver.Data.MergedDir}}' $name)
  wait_count "$mnt" 5 || return 1
  c0=$(count_in "$mnt")
  echo "counting: $c0"
  t0=$(now)
  out=$($P container checkpoint $name 2>&1) || die "podman container checkpoint failed: $out" || return 1
  echo "podman container checkpoint: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  expect "status after checkpoint" "$(podman inspect -f '{{.State.Status}}' $name)" exited || return 1
  expect "State.Checkpointed" "$(podman inspect -f '{{.State.Checkpointed}}' $name)" true || return 1
  # the rootfs is unmounted while checkpointed: mount it to read the counter
  mnt=$(podman mount $name) || die "podman mount failed" || return 1
  c1=$(count_in "$mnt")
  sleep 1
  c2=$(count_in "$mnt")
  podman umount $name >/dev/null
  expect "counter while checkpointed" "$c2" "$c1" || return 1
  t0=$(now)
  out=$($P container restore $name 2>&1) || die "podman container restore failed: $out" || return 1
  echo "podman container restore: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  expect "status after restore" "$(podman inspect -f '{{.State.Status}}' $name)" running || return 1
  mnt=$(podman inspect -f '{{.GraphDriver.Data.MergedDir}}' $name)
  wait_count "$mnt" "$c1" || return 1
  sleep 1
  c3=$(count_in "$mnt")
  echo "counter: $c0 before, $c1 at checkpoint, $c3 a second after restore"
  [ "$c3" -gt "$((c1 + 1))" ] || die "the counter did not continue ($c3 after $c1)" || return 1
  # (cat retried while it reads the file between the shell's truncation and its write)
  out=$($P exec $name sh -c 'c=; while [ -z "$c" ]; do c=$(cat /count); done; echo $c') ||
    die "podman exec into the restored container failed: $out" || return 1
  [ "$out" -ge "$c3" ] || die "exec reads the counter $out, below $c3" || return 1
  echo "ok: exec into the restored container reads $out"
  $P stop -t 2 $name >/dev/null || die "podman stop failed" || return 1
  expect "status after stop" "$(podman inspect -f '{{.State.Status}}' $name)" exited || return 1
  $P rm $name >/dev/null || die "podman rm failed" || return 1
  expect "podman ps -a after rm" "$(podman ps -a --filter name=^$name\$ -q | wc -l)" 0
}

# checkpoint --export to a file, rm, restore --import: a new container from the archive (its
# rootfs changes included), the counter continuing from the archive's value.
c_podman_root_checkpoint_export() {
  local P="podman --runtime $(runtime_path $1)" name=pex-$1 exp=$W/pex-$1.tar.gz out mnt c1 c3 t0
  podman_image env || return 1
  podman rm -f $name >/dev/null 2>&1
  rm -f "$exp"
  $P run -d --name $name --network none localhost/bb sh -c "$PCOUNTER" >/dev/null ||
    die "podman run -d failed" || return 1
  mnt=$(podman inspect -f '{{.GraphDriver.Data.MergedDir}}' $name)
  wait_count "$mnt" 5 || return 1
  t0=$(now)
  out=$($P container checkpoint --compress gzip --export="$exp" $name 2>&1) ||
    die "podman container checkpoint --export failed: $out" || return 1
  echo "podman container checkpoint --export: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s, $(stat -c %s "$exp") bytes"
  out=$(tar -tzf "$exp") || die "tar -tzf $exp failed" || return 1
  has_line checkpoint/pstree.img "$out" || die "no checkpoint/pstree.img in $exp: $(echo $out)" || return 1
  c1=$(tar -xzOf "$exp" rootfs-diff.tar | tar -xOf - count) || die "no count in the archive's rootfs-diff.tar" || return 1
  echo "the archive's counter: $c1"
  $P rm $name >/dev/null || die "podman rm of the checkpointed container failed" || return 1
  t0=$(now)
  out=$($P container restore --import="$exp" 2>&1) || die "podman container restore --import failed: $out" || return 1
  echo "podman container restore --import: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  expect "status after restore --import" "$(podman inspect -f '{{.State.Status}}' $name)" running || return 1
  mnt=$(podman inspect -f '{{.GraphDriver.Data.MergedDir}}' $name)
  sleep 1
  c3=$(count_in "$mnt")
  echo "counter: $c1 in the archive, $c3 a second after restore --import"
  [ "$c3" -gt "$((c1 + 1))" ] || die "the counter did not continue ($c3 after $c1)" || return 1
  $P stop -t 2 $name >/dev/null || die "podman stop failed" || return 1
  $P rm $name >/dev/null || die "podman rm failed" || return 1
  rm -f "$exp"
}

# containerd 1.6's checkpoint paths through the runc shim v2 with --runc-binary RUNTIME (the
# shim calls `RUNTIME checkpoint --image-path I --work-path W [--leave-running] ID` and, for a
# task created from a checkpoint, `RUNTIME restore --image-path I --detach --pid-file F
# -no-subreaper --bundle B ID`; ctr 1.6 has no `run --checkpoint` flag, its restore is
# `ctr container restore --live` of a `ctr container checkpoint --task` image):
# - `ctr task checkpoint --image-path DIR` leaves the task running and CRIU's images in DIR;
# - `ctr container checkpoint --task --rw ID REF` (ctr pauses, checkpoints leaving it running,
#   resumes) makes a checkpoint image, from which `ctr container restore --live --rw` makes a
#   new container whose task continues the counter;
# - `ctr task checkpoint --exit` makes a checkpoint image and stops the task; the shim's delete
#   then meets a container the runtime has already removed (as runc's checkpoint does). On a
#   second container: containerd 1.6's tasks service stores the container's spec with each
#   content-store checkpoint and fails a second one of the same spec ("content sha256:...:
#   already exists", runc alike), and ctr 1.6 has no way to restore a `task checkpoint` image
#   (its index has no runtime: `ctr container restore` wants one).
C_NS=nookvm
ctr_() { timeout "$CALL_TIMEOUT" ctr -n $C_NS "$@"; }
ctr_status() { ctr_ task ls | awk -v id="$1" '$1 == id { print $3 }'; }
ctr_rootfs() { echo "/run/containerd/io.containerd.runtime.v2.task/$C_NS/$1/rootfs"; }
ctr_images() { ctr_ image ls -q || echo "(ctr image ls failed)"; }
ctr_image() {
  systemctl start containerd || die "systemctl start containerd failed" || return 1
  has_line localhost/bb:latest "$(ctr_images)" && return 0
  podman_image env || return 1
  podman save -q --format docker-archive -o $W/bb-docker.tar localhost/bb || die "podman save failed" || return 1
  ctr_ image import $W/bb-docker.tar >/dev/null || die "ctr image import failed" || return 1
  has_line localhost/bb:latest "$(ctr_images)" || die "no localhost/bb:latest after import: $(ctr_images)"
}

c_ctr_checkpoint() {
  local rt=$1 id=cck-$1 rid=cck-$1-r xid=cck-$1-x ref=localhost/ckpt/cck-$1:1 img=$W/cck-img-$1 out c0 c1 c3 t0 i
  ctr_image || return 1
  echo "$(ctr --version), $(containerd --version | cut -d' ' -f1-3)"
  rm -rf "$img"
  for i in $id $xid; do
    ctr_ run -d --runc-binary "$(runtime_path $rt)" localhost/bb:latest $i sh -c "$PCOUNTER" ||
      die "ctr run -d $i failed" || return 1
  done
  wait_count "$(ctr_rootfs $id)" 5 || return 1
  echo "counting: $(count_in "$(ctr_rootfs $id)")"
  t0=$(now)
  out=$(ctr_ task checkpoint --image-path "$img" $id 2>&1) || die "ctr task checkpoint --image-path failed: $out" || return 1
  echo "ctr task checkpoint --image-path: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  test -s "$img/pstree.img" || die "no pstree.img in $img" || return 1
  expect "status after task checkpoint --image-path" "$(ctr_status $id)" RUNNING || return 1
  c0=$(count_in "$(ctr_rootfs $id)")
  wait_count "$(ctr_rootfs $id)" "$c0" || return 1
  echo "ok: the task goes on counting"
  # the checkpoint has at least the value read just before (a fresh start would count from 1)
  c1=$(count_in "$(ctr_rootfs $id)")
  t0=$(now)
  out=$(ctr_ container checkpoint --task --rw $id $ref 2>&1) || die "ctr container checkpoint --task failed: $out" || return 1
  echo "ctr container checkpoint --task --rw: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s, counter at $c1 before"
  expect "status after container checkpoint" "$(ctr_status $id)" RUNNING || return 1
  has_line "$ref" "$(ctr_images)" || die "no checkpoint image $ref: $(ctr_images)" || return 1
  ctr_ task kill -s KILL $id || die "ctr task kill failed" || return 1
  for i in $(seq 50); do [ "$(ctr_status $id)" = STOPPED ] && break; sleep 0.2; done
  ctr_ task delete $id >/dev/null || die "ctr task delete failed" || return 1
  ctr_ container delete $id || die "ctr container delete failed" || return 1
  # --exit, on the second container
  t0=$(now)
  out=$(ctr_ task checkpoint --exit $xid 2>$W/cck-$rt.err) ||
    die "ctr task checkpoint --exit failed: $(cat $W/cck-$rt.err)" || return 1
  echo "ctr task checkpoint --exit: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s, image $out"
  has_line "$out" "$(ctr_images)" || die "no checkpoint image $out: $(ctr_images)" || return 1
  for i in $(seq 50); do [ "$(ctr_status $xid)" = STOPPED ] && break; sleep 0.2; done
  expect "status after task checkpoint --exit" "$(ctr_status $xid)" STOPPED || return 1
  ctr_ task delete $xid >/dev/null || die "ctr task delete after checkpoint --exit failed" || return 1
  ctr_ container delete $xid || die "ctr container delete failed" || return 1
  ctr_ image rm "$out" >/dev/null
  # The restore: a new container and task from the --task --rw image.
  t0=$(now)
  out=$(ctr_ container restore --live --rw $rid $ref 2>&1 </dev/null) ||
    die "ctr container restore --live --rw failed: $out" || return 1
  echo "ctr container restore --live --rw: $(awk "BEGIN{printf \"%.1f\", $(now) - $t0}")s"
  expect "status after restore" "$(ctr_status $rid)" RUNNING || return 1
  sleep 1
  c3=$(count_in "$(ctr_rootfs $rid)")
  echo "counter: $c1 at the checkpoint, $c3 a second after restore"
  [ "$c3" -gt "$((c1 + 1))" ] || die "the counter did not continue ($c3 after $c1)" || return 1
  out=$(ctr_ task exec --exec-id e1 $rid cat /count) || die "ctr task exec into the restored task failed: $out" || return 1
  echo "ok: exec into the restored task reads $out"
  ctr_ task kill -s KILL $rid || die "ctr task kill failed" || return 1
  for i in $(seq 50); do [ "$(ctr_status $rid)" = STOPPED ] && break; sleep 0.2; done
  ctr_ task delete $rid >/dev/null || die "ctr task delete failed" || return 1
  ctr_ container delete $rid || die "ctr container delete failed" || return 1
  ctr_ image rm $ref >/dev/null
  expect "containers left" "$(ctr_ container ls -q | grep -c "^$id")" 0
}

# ------------------------------------------------------------------------------------------

echo "===== boot: $(systemctl is-system-running --wait 2>&1), uptime $(cut -d' ' -f1 /proc/uptime)s"
systemctl --failed --no-legend

check host c_host
check root-limits c_root_limits
check root-lifecycle c_root_lifecycle
check user-run c_user_run
# nook only: crun has no rootless cgroupfs placement (it leaves the container in the caller's
# cgroup: no pause, and exec'd processes stay in their own), nook uses the caller's delegated
# cgroup (docs/cgroups.md, "Who gets a cgroup")
check user-lifecycle c_user_lifecycle nook
# nook only: `exec --ignore-paused` is runc's flag, which crun does not have
check root-paused-exec c_root_paused_exec nook
check user-paused-exec c_user_paused_exec nook
check root-update c_root_update
check root-systemd-update c_root_systemd_update
check user-systemd-update c_user_systemd_update
# nook only: crun has no `events`
check root-events c_root_events nook
check user-events c_user_events nook
check root-systemd c_root_systemd
check user-systemd c_user_systemd
check podman-root-limits c_podman_root_limits
check podman-user c_podman_user
# runc as the reference: Debian 12's crun 1.8.1 is built without CRIU ("unknown command
# checkpoint"), runc 1.1.5 is not
check root-checkpoint c_root_checkpoint nook runc
check podman-root-checkpoint c_podman_root_checkpoint nook runc
check podman-root-checkpoint-export c_podman_root_checkpoint_export nook runc
check ctr-checkpoint c_ctr_checkpoint nook runc
check deb c_deb nook

echo "===== nookvm done: $(grep -c ' PASS ' "$OUT/results.txt") passed, $(grep -c ' FAIL ' "$OUT/results.txt") failed; checks took $(awk "BEGIN{printf \"%.0f\", $(now) - $T0}")s; uptime $(cut -d' ' -f1 /proc/uptime)s"
sync
