#!/bin/bash
# Podman 4.3 (with conmon) driving the runtime under test ($NOOK), as root and
# rootless. See docs/clients.md for the set-up this mirrors.
#
#   sudo NOOK=build/nook tests/clients/podman/podman.sh
#
# Identities: root (overlay storage, Podman's default bridge network) and
# nookp1, an unprivileged user with /etc/subuid ranges (vfs storage,
# --network none because /dev/net/tun is root-only here).

source "$(dirname "$0")/../lib.sh"

PODMAN_USER=nookp1
export PODMAN_USER

SCENARIOS=(
    "run_rm root 60"
    "run_rm $PODMAN_USER 60"
    "run_it root 60"
    "run_it $PODMAN_USER 60"
    "defaults root 60"
    "defaults $PODMAN_USER 60"
    "detached_exec_stop root 90"
    "detached_exec_stop $PODMAN_USER 90"
    "kill root 60"
    "kill $PODMAN_USER 60"
    "read_only root 60"
    "read_only $PODMAN_USER 60"
    "volume root 60"
    "volume $PODMAN_USER 60"
    "user root 60"
    "user $PODMAN_USER 60"
    "logs root 60"
    "logs $PODMAN_USER 60"
    "no_cgroups root 60"
    "no_cgroups $PODMAN_USER 60"
    "update root 90"
)

# pod ID ARGS...: podman as the identity, with the runtime under test given
# by path (the containers.conf below registers the same path as "nook").
pod() {
    local id=$1
    shift
    as_id "$id" podman --runtime "$NC_RUNTIME" "$@"
}

# podman_conf ID: a containers.conf that registers the runtime, as
# docs/clients.md describes.
podman_conf() {
    local id=$1 d
    d=$(id_dir "$id")
    {
        echo '[containers]'
        # Root here lacks CAP_SYS_RESOURCE and Podman lowers RLIMIT_NPROC to
        # 32768 at start: its default rlimits (nofile/nproc 1048576) would
        # make every container fail. Stay within the limits.
        echo 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]'
        if [ "$id" != root ]; then
            # /dev/net/tun is root-only on this host: no slirp4netns.
            echo 'netns = "none"'
        fi
        echo '[engine]'
        echo 'cgroup_manager = "cgroupfs"'
        echo 'events_logger = "file"'
        echo "tmp_dir = \"$d/libpod-tmp\""
        echo 'runtime = "nook"'
        # Podman passes --log-format=json --log FILE only to runtimes named
        # here; with --runtime PATH the name is the basename of PATH.
        echo 'runtime_supports_json = ["nook"]'
        echo 'runtime_supports_nocgroup = ["nook"]'
        echo '[engine.runtimes]'
        echo "nook = [\"$NC_RUNTIME\"]"
    } >"$d/containers.conf"
    chmod 0644 "$d/containers.conf"
    echo "CONTAINERS_CONF=$d/containers.conf" >>"$d/env"
}

suite_setup() {
    nc_require podman conmon buildah newuidmap script
    nc_ensure_user "$PODMAN_USER" subids
    local id
    for id in root "$PODMAN_USER"; do
        nc_wants "$id" || continue
        nc_identity "$id"
        if [ "$id" = root ]; then
            nc_storage_conf "$id" overlay
        else
            nc_storage_conf "$id" vfs
        fi
        podman_conf "$id"
        nc_build_base_image "$id"
        t 60 pod "$id" images --format '{{.Repository}}:{{.Tag}}'
        expect_out "$NC_IMAGE"
    done
}

scenario_cleanup() {
    pod "$1" rm --all --force --time 0
}

suite_teardown() {
    local id
    for id in root "$PODMAN_USER"; do
        [ -f "$NC_WORK/$id/env" ] || continue
        timeout 60 bash -c '"$@"' t pod "$id" rm --all --force --time 0 >/dev/null 2>&1
        timeout 60 bash -c '"$@"' t pod "$id" unshare rm -rf "$NC_WORK/$id/storage" >/dev/null 2>&1
        # Rootless Podman leaves its pause process (catatonit -P, which
        # holds the user namespace) running; its pid is in tmp_dir.
        nc_kill_pidfile "$NC_WORK/$id/libpod-tmp/pause.pid"
    done
}

# --- scenarios -------------------------------------------------------------

# run --rm: output comes back, the exit status (3) is propagated, the
# container is gone afterwards.
sc_run_rm() {
    local id=$1
    t 45 pod "$id" run --rm --pull never --name rm-test "$NC_IMAGE" \
        sh -c 'echo hello from $(cat /etc/hostname); echo to-stderr >&2; exit 3'
    expect_rc 3
    expect_out "hello from"
    expect_out "to-stderr"
    t 20 pod "$id" ps -a --format '{{.Names}}'
    expect_rc 0
    expect_no_out rm-test
    t 45 pod "$id" run --rm --pull never "$NC_IMAGE" echo second-run-ok
    expect_rc 0
    expect_line second-run-ok
}

# run -it under a pty: the process gets a terminal on stdin and stdout
# (console socket path through conmon) with the caller's window size.
#
# What the runtime owns ends at the pty: conmon reads its master and copies
# the output to the container log and to the attach socket Podman 4.3
# connects before `start`. Podman can lose the attached copy when the
# container has exited before conmon accepted that connection (a race
# between the two clients, seen once in ~100 CI runs: exit status right,
# no output at all). So the log is the check on the runtime, always; the
# attached output is checked too, and an empty attach with a full log is
# retried (twice at most, each retry printed) rather than failed.
sc_run_it() {
    local id=$1 try log
    for try in 1 2 3; do
        NC_PTY_SIZE="30 100" t_pty 45 pod "$id" run -it --name it-test --pull never "$NC_IMAGE" \
            sh -c 'tty; [ -t 0 ] && echo stdin-is-a-tty; [ -t 1 ] && echo stdout-is-a-tty; stty size; exit 5'
        expect_rc 5
        local attached=$OUT
        t 20 pod "$id" logs it-test
        expect_rc 0
        log=$OUT
        t 30 pod "$id" rm it-test
        expect_rc 0
        OUT=$log
        expect_out /dev/pts/0
        expect_out stdin-is-a-tty
        expect_out stdout-is-a-tty
        expect_out "30 100"
        OUT=$attached
        case "$OUT" in
        *stdout-is-a-tty*) break ;;
        esac
        [ "$try" -lt 3 ] || nc_die "the attached output missed what the container log holds, 3 times"
        nc_log "attempt $try: the log holds the output but 'podman run -it' printed none (attach race in Podman/conmon); again"
    done
    expect_out /dev/pts/0
    expect_out stdin-is-a-tty
    expect_out stdout-is-a-tty
    expect_out "30 100"
}

# Defaults a plain run gets: private PID namespace (the command is PID 1),
# hostname = short container ID, /proc, /sys, /dev, /dev/shm, /dev/pts,
# environment, working directory, root user.
sc_defaults() {
    local id=$1
    t 45 pod "$id" run --pull never --name defaults-test "$NC_IMAGE" sh -c '
        echo "pid=$$"
        echo "host=$(hostname)"
        echo "cwd=$(pwd)"
        echo "uid=$(id -u) gid=$(id -g)"
        echo "path=$PATH"
        echo "comm1=$(cat /proc/1/comm)"
        ps -o comm | grep -qE "conmon|podman|process_api|init" || echo no-host-procs-visible
        [ -c /dev/null ] && echo dev-null-ok
        [ -c /dev/zero ] && [ -c /dev/urandom ] && [ -c /dev/tty ] && echo devices-ok
        [ -d /dev/pts ] && [ -d /dev/shm ] && [ -d /dev/mqueue ] && echo dev-dirs-ok
        grep -q " /sys " /proc/mounts && echo sys-mounted
        grep -q " /proc proc " /proc/mounts && echo proc-mounted
        echo data > /dev/shm/x && echo shm-writable
        [ -L /dev/fd ] && echo dev-fd-ok
        head -c 4 /dev/urandom | wc -c'
    expect_rc 0
    expect_line "pid=1"
    expect_line "cwd=/"
    expect_line "uid=0 gid=0"
    expect_line "path=/bin:/usr/bin"
    expect_line "comm1=sh"
    expect_line no-host-procs-visible
    expect_line dev-null-ok
    expect_line devices-ok
    expect_line dev-dirs-ok
    expect_line sys-mounted
    expect_line proc-mounted
    expect_line shm-writable
    expect_line dev-fd-ok
    expect_line 4
    local out=$OUT cid
    t_stdout 20 pod "$id" inspect --format '{{.Id}}' defaults-test
    expect_rc 0
    cid=$OUT
    OUT=$out
    expect_line "host=${cid:0:12}"
    t 30 pod "$id" rm defaults-test
    expect_rc 0
}

# run -d, exec (output, exit status, environment, -it), stop within its
# timeout (SIGTERM handled -> fast; SIGTERM ignored -> SIGKILL after -t),
# rm.
sc_detached_exec_stop() {
    local id=$1
    t 45 pod "$id" run -d --pull never --name det "$NC_IMAGE" \
        sh -c 'trap "echo got-term; exit 0" TERM; echo started; while :; do sleep 0.2; done'
    expect_rc 0
    t 20 pod "$id" inspect --format '{{.State.Status}}' det
    expect_line running
    t 30 pod "$id" exec det sh -c 'echo exec-output; echo exec-pid-not-1=$(( $$ != 1 ))'
    expect_rc 0
    expect_line exec-output
    expect_line exec-pid-not-1=1
    t 30 pod "$id" exec -e FOO=bar -w /tmp det sh -c 'echo "foo=$FOO cwd=$(pwd)"; exit 4'
    expect_rc 4
    expect_line "foo=bar cwd=/tmp"
    t_pty 30 pod "$id" exec -it det sh -c 'tty; [ -t 0 ] && echo exec-stdin-tty'
    expect_rc 0
    expect_out /dev/pts/
    expect_out exec-stdin-tty
    # The container handles SIGTERM: stop must be quick (well under -t 10).
    local s=$SECONDS
    t 40 pod "$id" stop -t 10 det
    expect_rc 0
    [ $((SECONDS - s)) -lt 8 ] || nc_die "stop of a SIGTERM-handling container took $((SECONDS - s))s"
    t 20 pod "$id" inspect --format '{{.State.Status}} {{.State.ExitCode}}' det
    expect_line "exited 0"
    t 20 pod "$id" logs det
    expect_out started
    expect_out got-term
    t 30 pod "$id" rm det
    expect_rc 0
    t 20 pod "$id" ps -a --format '{{.Names}}'
    expect_no_out det

    # PID 1 ignores SIGTERM: stop -t 2 must SIGKILL it after about 2s.
    t 45 pod "$id" run -d --pull never --name det2 "$NC_IMAGE" sleep 1000
    expect_rc 0
    s=$SECONDS
    t 40 pod "$id" stop -t 2 det2
    expect_rc 0
    [ $((SECONDS - s)) -lt 12 ] || nc_die "stop -t 2 took $((SECONDS - s))s"
    t 20 pod "$id" inspect --format '{{.State.Status}} {{.State.ExitCode}}' det2
    expect_line "exited 137"
    t 30 pod "$id" rm det2
    expect_rc 0
}

# kill: a signal reaches the container (its TERM trap exits 42), default
# kill is SIGKILL (exit 137), and killing a stopped container fails.
sc_kill() {
    local id=$1
    t 45 pod "$id" run -d --pull never --name k1 "$NC_IMAGE" \
        sh -c 'trap "exit 42" USR1; while :; do sleep 0.2; done'
    expect_rc 0
    t 20 pod "$id" kill --signal USR1 k1
    expect_rc 0
    t 30 pod "$id" wait k1
    expect_rc 0
    expect_line 42
    t 45 pod "$id" run -d --pull never --name k2 "$NC_IMAGE" sleep 1000
    expect_rc 0
    t 20 pod "$id" kill k2
    expect_rc 0
    t 30 pod "$id" wait k2
    expect_line 137
    t 20 pod "$id" kill k2
    [ "$RC" != 0 ] || nc_die "kill of an exited container succeeded"
    t 30 pod "$id" rm k1 k2
    expect_rc 0
}

# --read-only: the root file system is read-only, /tmp (Podman's tmpfs) and
# /dev/shm are writable.
sc_read_only() {
    local id=$1
    t 45 pod "$id" run --rm --read-only --pull never "$NC_IMAGE" sh -c '
        touch /rootfs-write 2>&1 && echo rootfs-writable
        touch /tmp/ok && echo tmp-writable
        touch /dev/shm/ok && echo shm-writable
        grep " / " /proc/mounts'
    expect_rc 0
    expect_out "Read-only file system"
    expect_no_out rootfs-writable
    expect_line tmp-writable
    expect_line shm-writable
    expect_out " ro"
}

# -v HOSTDIR:/data: host files visible, container writes land on the host,
# owned by the invoking user; :ro bind is read-only.
sc_volume() {
    local id=$1 dir
    dir=$(id_dir "$id")/vol
    rm -rf "$dir"
    mkdir -p "$dir"
    echo from-host >"$dir/in.txt"
    [ "$id" = root ] || chown -R "$id:" "$dir"
    t 45 pod "$id" run --rm --pull never -v "$dir:/data" "$NC_IMAGE" \
        sh -c 'cat /data/in.txt; echo from-container > /data/out.txt; ls -ln /data/in.txt'
    expect_rc 0
    expect_line from-host
    # Inside, the file is owned by container root (root, or the rootless
    # user mapped to 0).
    expect_out " 0 "
    [ "$(cat "$dir/out.txt" 2>/dev/null)" = from-container ] ||
        nc_die "file written in the container is not on the host"
    expect_eq "owner of out.txt on the host" "$id" "$(stat -c %U "$dir/out.txt")"
    t 45 pod "$id" run --rm --pull never -v "$dir:/data:ro" "$NC_IMAGE" \
        sh -c 'cat /data/in.txt; touch /data/x 2>&1 || echo ro-refused'
    expect_rc 0
    expect_line from-host
    expect_line ro-refused
    [ ! -e "$dir/x" ] || nc_die "write through a :ro volume reached the host"
}

# --user: the process runs with the given uid/gid (and supplementary groups
# from the image's /etc/group plus --group-add); exec --user likewise.
sc_user() {
    local id=$1
    t 45 pod "$id" run --rm --pull never --user 1000:1000 --group-add 65534 "$NC_IMAGE" \
        sh -c 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"; touch /tmp/f; stat -c "%u:%g" /tmp/f; touch /root/x 2>&1 || echo root-denied'
    expect_rc 0
    expect_out "uid=1000 gid=1000 groups=1000 65534"
    expect_line "1000:1000"
    expect_line root-denied
    t 45 pod "$id" run --rm --pull never --user tester "$NC_IMAGE" sh -c 'id -un; id -u; echo "home=$HOME"'
    expect_rc 0
    expect_line tester
    expect_line 1000
    # exec --user into a container running as root.
    t 45 pod "$id" run -d --pull never --name user-exec "$NC_IMAGE" sleep 1000
    expect_rc 0
    t 30 pod "$id" exec --user 1000:1000 user-exec sh -c 'echo "exec-uid=$(id -u) gid=$(id -g)"'
    expect_rc 0
    expect_line "exec-uid=1000 gid=1000"
    t 30 pod "$id" rm --force --time 0 user-exec
    expect_rc 0
}

# podman logs of a finished detached container: stdout and stderr lines, in
# order.
sc_logs() {
    local id=$1
    t 45 pod "$id" run -d --pull never --name logs-test "$NC_IMAGE" \
        sh -c 'echo line-one; echo line-two >&2; sleep 0.3; echo line-three'
    expect_rc 0
    t 30 pod "$id" wait logs-test
    expect_line 0
    t 20 pod "$id" logs logs-test
    expect_rc 0
    expect_line line-one
    expect_line line-two
    expect_line line-three
    [ "$(printf '%s\n' "$OUT" | grep -c '^line-')" = 3 ] || nc_die "expected exactly 3 log lines"
    t 30 pod "$id" rm logs-test
    expect_rc 0
}

# --cgroups=disabled: Podman allows it only for runtimes listed in
# runtime_supports_nocgroup and then calls `RUNTIME --cgroup-manager disabled
# create ...` (crun's flag) with no cgroupsPath in the config. runc does not
# know the flag: against runc the scenario checks that failure instead.
sc_no_cgroups() {
    local id=$1
    t 45 pod "$id" run --rm --pull never --cgroups=disabled "$NC_IMAGE" \
        sh -c 'echo no-cgroups-ok; cat /proc/self/cgroup'
    if nc_runtime_is_runc; then
        [ "$RC" != 0 ] || nc_die "runc accepted --cgroup-manager (unexpected)"
        expect_out "flag provided but not defined: -cgroup-manager"
        return 0
    fi
    expect_rc 0
    expect_line no-cgroups-ok
    # No cgroup of its own in any hierarchy: it stays where conmon is, so
    # no path names the container (libpod-ID, nook/ID: a 64-hex-digit ID).
    expect_no_out libpod
    if printf '%s\n' "$OUT" | grep -E '^[0-9]+:[^:]*:.*[0-9a-f]{64}' >&2; then
        nc_die "--cgroups=disabled: the container got cgroups of its own (above)"
    fi
}

# podman update (4.3: `RUNTIME update --resources=FILE ID`): a new memory
# limit, then cpu shares, land in the container's cgroup, read from the host
# side through /proc/PID/cgroup; the second update keeps the first and the
# pids limit from run. As root
# only: rootless Podman on this cgroup v1 host has no cgroup to update.
sc_update() {
    local id=$1 pid mem pids_dir mem_dir
    t 20 pod "$id" update --help
    [ "$RC" = 0 ] || nc_skip "podman $(podman --version | awk '{print $3}') has no update command"
    t 45 pod "$id" run -d --pull never --name upd --memory 64m --pids-limit 100 "$NC_IMAGE" sleep 1000
    expect_rc 0
    t_stdout 20 pod "$id" inspect --format '{{.State.Pid}}' upd
    pid=$OUT
    [ -n "$pid" ] && [ "$pid" -gt 0 ] || nc_die "no pid for upd"
    if [ -n "$(findmnt -rn -t cgroup -O memory -o TARGET)" ]; then
        mem=memory.limit_in_bytes
    else
        mem=memory.max
    fi
    mem_dir=$(nc_cg_file "$pid" memory "$mem")
    pids_dir=$(nc_cg_file "$pid" pids pids.max)
    [ "$(cat "$mem_dir")" = 67108864 ] || nc_die "$mem_dir: $(cat "$mem_dir"), not 64m before the update"
    t 30 pod "$id" update --memory 128m upd
    expect_rc 0
    [ "$(cat "$mem_dir")" = 134217728 ] || nc_die "$mem_dir: $(cat "$mem_dir") after update --memory 128m"
    [ "$(cat "$pids_dir")" = 100 ] || nc_die "pids.max: $(cat "$pids_dir"), the first limit lost"
    # podman 4.3's update has no --pids-limit: the second one sets cpu shares
    local cpu_file want
    if [ -n "$(findmnt -rn -t cgroup -O cpu -o TARGET)" ]; then
        cpu_file=$(nc_cg_file "$pid" cpu cpu.shares) want=512
    else
        cpu_file=$(nc_cg_file "$pid" cpu cpu.weight) want=20 # runc's conversion of 512 shares
    fi
    t 30 pod "$id" update --cpu-shares 512 upd
    expect_rc 0
    [ "$(cat "$cpu_file")" = "$want" ] || nc_die "$cpu_file: $(cat "$cpu_file") after update --cpu-shares 512"
    [ "$(cat "$mem_dir")" = 134217728 ] || nc_die "$mem_dir: $(cat "$mem_dir"): the second update undid the first"
    [ "$(cat "$pids_dir")" = 100 ] || nc_die "pids.max: $(cat "$pids_dir") after the second update"
    # what the container itself runs under
    t 30 pod "$id" exec upd sh -c 'echo alive'
    expect_rc 0
    expect_line alive
    t 30 pod "$id" rm -f -t 0 upd
    expect_rc 0
}

nc_main "$@"
