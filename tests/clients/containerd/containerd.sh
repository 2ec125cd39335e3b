#!/bin/bash
# containerd 1.6 (`ctr`, runc shim v2) with the runtime under test ($NOOK) as
# the shim's runc binary, as root. See docs/clients.md.
#
#   sudo NOOK=build/nook tests/clients/containerd/containerd.sh
#
# The suite starts a private containerd (config, root, state and sockets in
# its work directory, CRI plugin off), imports the busybox image as a
# docker-archive built with Buildah, runs `ctr run --runc-binary RUNTIME`
# scenarios, and stops containerd again.

source "$(dirname "$0")/../lib.sh"

CTR_NS=nooktest
CTR_UPDATE_PY=$(cd "$(dirname "$0")" && pwd)/task_update.py
CTR_IMAGE=docker.io/nook/busybox:latest
export CTR_NS CTR_IMAGE

SCENARIOS=(
    "run_rm root 60"
    "run_tty root 60"
    "detached_exec_kill root 120"
    "exec_user root 60"
    "kill_all root 60"
    "pause_resume root 60"
    "task_update root 60"
)

# c ARGS...: ctr against the private containerd.
c() {
    ctr --address "$NC_WORK/containerd.sock" --namespace "$CTR_NS" "$@"
}

suite_setup() {
    nc_require containerd ctr containerd-shim-runc-v2 buildah script
    # task_update.py: Debian's python3-grpcio is for the system Python
    /usr/bin/python3 -c 'import grpc' 2>/dev/null ||
        nc_die "/usr/bin/python3 cannot import grpc: apt-get install python3-grpcio (scripts/test-packages.txt)"
    nc_identity root
    nc_storage_conf root overlay
    nc_build_base_image root
    t 60 as_id root buildah push --quiet "$NC_IMAGE" "docker-archive:$NC_WORK/busybox.tar:$CTR_IMAGE"
    expect_rc 0

    local w=$NC_WORK
    cat >"$w/containerd.toml" <<EOF
version = 2
root = "$w/ctrd-root"
state = "$w/ctrd-state"
# Only what ctr needs: no CRI (it would look for CNI), no exotic snapshotters.
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "$w/containerd.sock"

[ttrpc]
  address = "$w/containerd.sock.ttrpc"

[debug]
  address = "$w/containerd-debug.sock"
  level = "debug"

[metrics]
  address = ""
EOF
    containerd --config "$w/containerd.toml" >"$w/containerd.log" 2>&1 &
    echo $! >"$w/containerd.pid"
    local i
    for i in $(seq 1 50); do
        c version >/dev/null 2>&1 && break
        sleep 0.2
    done
    t 20 c version
    expect_rc 0
    t 60 c image import "$w/busybox.tar"
    expect_rc 0
    t 20 c image ls -q
    expect_out "$CTR_IMAGE"
}

suite_teardown() {
    [ -f "$NC_WORK/containerd.pid" ] || return 0
    local x
    for x in $(timeout 20 bash -c '"$@"' t c task ls -q 2>/dev/null); do
        timeout 20 bash -c '"$@"' t c task kill -a -s KILL "$x" >/dev/null 2>&1
        timeout 20 bash -c '"$@"' t c task delete -f "$x" >/dev/null 2>&1
    done
    for x in $(timeout 20 bash -c '"$@"' t c container ls -q 2>/dev/null); do
        timeout 20 bash -c '"$@"' t c container delete "$x" >/dev/null 2>&1
    done
    nc_kill_pidfile "$NC_WORK/containerd.pid" TERM
    # The shim's default runtime root for our namespace; empty once every
    # container is deleted.
    rmdir "/run/containerd/runc/$CTR_NS" 2>/dev/null
    if [ "${NC_FAILED:-0}" != 0 ] || [ "${NOOK_CLIENTS_VERBOSE:-0}" = 1 ]; then
        nc_log "containerd log (warnings and errors):"
        grep -E 'level=(warning|error|fatal)' "$NC_WORK/containerd.log" | tail -n 40 >&2
    fi
}

# Between scenarios: no task or container may survive.
scenario_cleanup() {
    local x
    for x in $(c task ls -q); do
        c task kill -a -s KILL "$x"
        sleep 0.5
        c task delete -f "$x"
    done
    for x in $(c container ls -q); do c container delete "$x"; done
}

# task_status ID: RUNNING, STOPPED, PAUSED... from `ctr task ls`.
task_status() {
    c task ls | awk -v id="$1" '$1 == id { print $3 }'
}

# wait_status ID STATUS SECS
wait_status() {
    local id=$1 want=$2 secs=$3 i
    for i in $(seq 1 $((secs * 5))); do
        [ "$(task_status "$id")" = "$want" ] && return 0
        sleep 0.2
    done
    nc_die "task $id not $want after ${secs}s (now: $(task_status "$id"))"
}

# --- scenarios -------------------------------------------------------------

# ctr run --rm: output, exit status, default mounts and namespaces.
sc_run_rm() {
    t 45 c run --rm --runc-binary "$NC_RUNTIME" "$CTR_IMAGE" ctr-rm \
        sh -c 'echo hello-from-ctr; echo "pid=$$ uid=$(id -u) cwd=$(pwd)"; echo "host=$(hostname)"; grep -c " /proc proc " /proc/mounts; echo to-stderr >&2; exit 3'
    expect_rc 3
    expect_line hello-from-ctr
    expect_line "pid=1 uid=0 cwd=/"
    expect_line 1
    expect_line to-stderr
    t 20 c container ls -q
    expect_no_out ctr-rm
    t 45 c run --rm --runc-binary "$NC_RUNTIME" --env FOO=bar --cwd /tmp "$CTR_IMAGE" ctr-rm2 \
        sh -c 'echo "foo=$FOO cwd=$(pwd)"'
    expect_rc 0
    expect_line "foo=bar cwd=/tmp"
}

# ctr run -t under a pty: the runtime gets --console-socket from the shim.
sc_run_tty() {
    t_pty 45 c run --rm -t --runc-binary "$NC_RUNTIME" "$CTR_IMAGE" ctr-tty \
        sh -c 'tty; [ -t 0 ] && echo stdin-tty; [ -t 1 ] && echo stdout-tty; exit 5'
    expect_rc 5
    expect_out /dev/pts/0
    expect_out stdin-tty
    expect_out stdout-tty
}

# A detached task, exec into it (output, status, tty), ps, kill (SIGTERM,
# handled by the task), delete.
sc_detached_exec_kill() {
    local id=ctr-det
    t 45 c run -d --runc-binary "$NC_RUNTIME" "$CTR_IMAGE" "$id" \
        sh -c 'trap "echo got-term > /tmp/term; exit 0" TERM; echo started > /tmp/started; while :; do sleep 0.2; done'
    expect_rc 0
    wait_status "$id" RUNNING 10
    t 20 c task ps "$id"
    expect_rc 0
    [ "$(printf '%s\n' "$OUT" | grep -cE '^[0-9]+ ')" -ge 1 ] || nc_die "task ps lists no process"
    t 30 c task exec --exec-id e1 "$id" sh -c 'echo exec-ok; cat /tmp/started; echo "pid-not-1=$(( $$ != 1 ))"; exit 4'
    expect_rc 4
    expect_line exec-ok
    expect_line started
    expect_line pid-not-1=1
    t_pty 30 c task exec -t --exec-id e3 "$id" sh -c 'tty; [ -t 0 ] && echo exec-stdin-tty'
    expect_rc 0
    expect_out /dev/pts/
    expect_out exec-stdin-tty
    # The task ps during an exec would list it; afterwards only the init
    # process (and its sleep) remain.
    t 20 c task kill "$id"
    expect_rc 0
    wait_status "$id" STOPPED 10
    t 20 c task delete "$id"
    expect_rc 0
    t 20 c task ls -q
    expect_no_out "$id"
    t 20 c container delete "$id"
    expect_rc 0
}

# kill_and_delete ID: SIGKILL the task, wait until it stops, delete task and container.
kill_and_delete() {
    t 20 c task kill -s KILL "$1"
    expect_rc 0
    wait_status "$1" STOPPED 10
    t 20 c task delete "$1"
    expect_rc 0
    t 20 c container delete "$1"
    expect_rc 0
}

# task exec as another user, in another directory.
sc_exec_user() {
    local id=ctr-user
    t 45 c run -d --runc-binary "$NC_RUNTIME" "$CTR_IMAGE" "$id" sleep 1000
    expect_rc 0
    wait_status "$id" RUNNING 10
    t 30 c task exec --exec-id e1 --user 1000 --cwd /tmp "$id" sh -c 'echo "uid=$(id -u) cwd=$(pwd)"'
    expect_rc 0
    expect_line "uid=1000 cwd=/tmp"
    kill_and_delete "$id"
}

# kill --all with SIGKILL: the task stops, delete reports status 137.
sc_kill_all() {
    local id=ctr-kill
    t 45 c run -d --runc-binary "$NC_RUNTIME" "$CTR_IMAGE" "$id" sh -c 'sleep 1000 & sleep 1000'
    expect_rc 0
    wait_status "$id" RUNNING 10
    t 20 c task kill -a -s KILL "$id"
    expect_rc 0
    wait_status "$id" STOPPED 10
    t 20 c task delete "$id"
    expect_rc 0
    expect_out 137
    t 20 c container delete "$id"
    expect_rc 0
}

# pause/resume (freezer) of a running task.
sc_pause_resume() {
    local id=ctr-pause
    t 45 c run -d --runc-binary "$NC_RUNTIME" "$CTR_IMAGE" "$id" \
        sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done'
    expect_rc 0
    wait_status "$id" RUNNING 10
    t 20 c task pause "$id"
    expect_rc 0
    wait_status "$id" PAUSED 10
    t 20 c task resume "$id"
    expect_rc 0
    wait_status "$id" RUNNING 10
    t 30 c task exec --exec-id e1 "$id" sh -c 'a=$(cat /tmp/count); sleep 0.5; b=$(cat /tmp/count); [ "$b" -gt "$a" ] && echo counting'
    expect_rc 0
    expect_line counting
    kill_and_delete "$id"
}

# The shim's Update (`RUNTIME update --resources - ID`), reached as the CRI plugin
# (kubelet's in-place resize) reaches it: containerd's gRPC Tasks/Update, called by
# task_update.py (ctr 1.6 has no `task update`). A task started with a 64 MiB memory limit
# gets 128 MiB and 512 CPU shares, then, in a second call, only a pids limit, which keeps the
# first call's values (runc's update applies only the fields given). Every value is read in
# the container's cgroup from the host; the task keeps running.
sc_task_update() {
    local id=ctr-upd pid mem_file cpu_file pids_file cpu_want
    t 45 c run -d --runc-binary "$NC_RUNTIME" --memory-limit 67108864 "$CTR_IMAGE" "$id" sleep 1000
    expect_rc 0
    wait_status "$id" RUNNING 10
    pid=$(c task ls | awk -v id="$id" '$1 == id { print $2 }')
    [ -n "$pid" ] && [ "$pid" -gt 0 ] || nc_die "no pid for $id"
    if [ -n "$(findmnt -rn -t cgroup -O memory -o TARGET)" ]; then
        mem_file=$(nc_cg_file "$pid" memory memory.limit_in_bytes)
    else
        mem_file=$(nc_cg_file "$pid" memory memory.max)
    fi
    if [ -n "$(findmnt -rn -t cgroup -O cpu -o TARGET)" ]; then
        cpu_file=$(nc_cg_file "$pid" cpu cpu.shares) cpu_want=512
    else
        cpu_file=$(nc_cg_file "$pid" cpu cpu.weight) cpu_want=20 # runc's conversion of 512 shares
    fi
    pids_file=$(nc_cg_file "$pid" pids pids.max)
    nc_log "cgroup files: $mem_file $cpu_file $pids_file"
    expect_eq "$mem_file before" 67108864 "$(cat "$mem_file")"
    local upd=(/usr/bin/python3 "$CTR_UPDATE_PY" "$NC_WORK/containerd.sock" "$CTR_NS" "$id")
    t 60 "${upd[@]}" '{"memory":{"limit":134217728},"cpu":{"shares":512}}'
    expect_rc 0
    expect_eq "$mem_file after Update" 134217728 "$(cat "$mem_file")"
    expect_eq "$cpu_file after Update" "$cpu_want" "$(cat "$cpu_file")"
    t 60 "${upd[@]}" '{"pids":{"limit":100}}'
    expect_rc 0
    expect_eq "$pids_file after the second Update" 100 "$(cat "$pids_file")"
    expect_eq "$mem_file after the second Update" 134217728 "$(cat "$mem_file")"
    expect_eq "$cpu_file after the second Update" "$cpu_want" "$(cat "$cpu_file")"
    # A value the kernel refuses (no CPU 999) fails in the runtime; the call returns its error.
    t 60 "${upd[@]}" '{"cpu":{"cpus":"999"}}'
    [ "$RC" != 0 ] || nc_die "Update with cpus 999 succeeded"
    expect_eq "$mem_file after the refused Update" 134217728 "$(cat "$mem_file")"
    wait_status "$id" RUNNING 5
    kill_and_delete "$id"
}

nc_main "$@"
