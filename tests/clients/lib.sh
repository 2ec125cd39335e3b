# Shared helpers for the real-client suites (buildah, podman, containerd).
#
# Each suite script sources this file, defines scenario functions `sc_NAME`
# and a SCENARIOS list ("NAME IDENTITY TIMEOUT" per entry), and calls
# `nc_main "$@"`. nc_main does the one-time set-up (work directory, a
# world-readable copy of the runtime, users, base images), then runs every
# scenario in its own process under its own timeout by re-invoking the script
# with `--scenario NAME IDENTITY`, and reports TAP-like lines.
#
# Environment:
#   NOOK                 runtime under test (default: <repo>/build/nook)
#   NOOK_CLIENTS_FILTER  extended regex; only scenarios whose "NAME IDENTITY"
#                        matches run (e.g. 'root' or 'bud_tty')
#   NOOK_CLIENTS_WHO     "root" or "user": only scenarios (and set-up) of root
#                        or of the unprivileged users (ctest's -root/-user)
#   NOOK_CLIENTS_KEEP=1  keep the work directory for inspection
#   NOOK_CLIENTS_TRACE=1 put a logging wrapper in front of the runtime: every
#                        call (uid, arguments, exit status) goes to
#                        $NC_WORK/runtime-calls.log, printed when a scenario
#                        fails
#
# Must run as root: it creates users and starts daemons.

set -u
set -o pipefail

NC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NC_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Image every suite builds locally from Debian's busybox-static; never pulled.
NC_IMAGE=localhost/nook-busybox:latest
export NC_REPO NC_LIB_DIR NC_PATH NC_IMAGE

nc_log() { printf '# %s\n' "$*" >&2; }

# nc_die MSG: fail the current scenario (or the set-up) with MSG.
nc_die() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------
# Running commands and checking what they did

# Commands below may be shell functions (as_id, suite wrappers): nc_main
# exports every function so that `timeout bash -c` and `script` can run them.

# t SECS CMD...: run CMD with a timeout; stdout+stderr go to $OUT, the exit
# status to $RC (124 on timeout). Both are echoed to the test log.
t() {
    local secs=$1 t0=$SECONDS
    shift
    printf '$ %s\n' "$*" >&2
    OUT=$(timeout -k 5 "$secs" bash -c '"$@"' t "$@" 2>&1)
    RC=$?
    if [ -n "$OUT" ]; then
        printf '%s\n' "$OUT" | sed 's/^/  | /' >&2
    fi
    printf '  -> exit %s (%ss)\n' "$RC" "$((SECONDS - t0))" >&2
    if [ "$RC" = 124 ]; then
        nc_log "timed out after ${secs}s: $*"
    fi
    return 0
}

# t_stdout SECS CMD...: like t, but $OUT holds stdout only (stderr goes to the
# log); for commands whose output is parsed.
t_stdout() {
    local secs=$1 errf t0=$SECONDS
    shift
    errf=$(mktemp "$NC_WORK/stderr.XXXXXX")
    printf '$ %s\n' "$*" >&2
    OUT=$(timeout -k 5 "$secs" bash -c '"$@"' t "$@" 2>"$errf")
    RC=$?
    if [ -n "$OUT" ]; then printf '%s\n' "$OUT" | sed 's/^/  | /' >&2; fi
    if [ -s "$errf" ]; then sed 's/^/  ! /' "$errf" >&2; fi
    rm -f "$errf"
    printf '  -> exit %s (%ss)\n' "$RC" "$((SECONDS - t0))" >&2
    return 0
}

# t_pty SECS CMD...: run CMD with its stdin/stdout/stderr on a fresh pseudo
# terminal (util-linux script). $OUT gets the terminal output with CRs
# stripped, $RC the command's exit status. With NC_PTY_SIZE="ROWS COLS" the
# terminal gets that window size before CMD starts.
t_pty() {
    local secs=$1 cmd="" a t0=$SECONDS
    shift
    for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
    if [ -n "${NC_PTY_SIZE:-}" ]; then
        cmd=" stty rows ${NC_PTY_SIZE% *} cols ${NC_PTY_SIZE#* } &&$cmd"
    fi
    printf '$ [pty]%s\n' "$cmd" >&2
    OUT=$(SHELL=/bin/bash timeout -k 5 "$secs" script -qefc "${cmd# }" /dev/null </dev/null 2>&1 | tr -d '\r')
    RC=${PIPESTATUS[0]}
    if [ -n "$OUT" ]; then printf '%s\n' "$OUT" | sed 's/^/  | /' >&2; fi
    printf '  -> exit %s (%ss)\n' "$RC" "$((SECONDS - t0))" >&2
    return 0
}

# nc_skip REASON: end the current scenario as skipped, for a reason the
# machine really has (a client without the command); REASON is printed in the
# TAP line.
nc_skip() {
    printf '%s\n' "$*" >"$NC_WORK/skip-reason"
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

expect_rc() {
    [ "$RC" = "$1" ] || nc_die "expected exit status $1, got $RC"
}

expect_out() { # expect_out SUBSTRING: $OUT must contain it
    case "$OUT" in
    *"$1"*) ;;
    *) nc_die "expected output to contain '$1'" ;;
    esac
}

expect_no_out() { # expect_no_out SUBSTRING
    case "$OUT" in
    *"$1"*) nc_die "output must not contain '$1'" ;;
    *) ;;
    esac
}

expect_line() { # expect_line LINE: $OUT must contain exactly this line
    printf '%s\n' "$OUT" | grep -qxF -- "$1" || nc_die "expected a line '$1' in the output"
}

expect_eq() { # expect_eq WHAT EXPECTED ACTUAL
    [ "$2" = "$3" ] || nc_die "$1: expected '$2', got '$3'"
}

# ---------------------------------------------------------------------------
# Identities. A scenario runs as "root" or as an unprivileged user; `as_id`
# runs a command as that identity with the client environment the suite
# prepared for it ($NC_WORK/<identity>/env, KEY=VALUE lines).

as_id() {
    local id=$1
    shift
    local -a envv=()
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && envv+=("$line")
    done <"$NC_WORK/$id/env"
    if [ "$id" = root ]; then
        (cd "$NC_WORK/root" && env "${envv[@]}" "$@")
    else
        (cd "$NC_WORK/$id" && runuser -u "$id" -- env -i \
            PATH="$NC_PATH" HOME="$(getent passwd "$id" | cut -d: -f6)" \
            USER="$id" LOGNAME="$id" LANG=C.UTF-8 "${envv[@]}" "$@")
    fi
}

# nc_wants ID: whether this run covers the identity (NOOK_CLIENTS_WHO).
nc_wants() {
    case "${NOOK_CLIENTS_WHO:-}" in
    root) [ "$1" = root ] ;;
    user) [ "$1" != root ] ;;
    *) return 0 ;;
    esac
}

# id_dir IDENTITY: the identity's private directory (owned by it).
id_dir() { printf '%s/%s' "$NC_WORK" "$1"; }

# nc_ensure_user NAME subids|nosubids: create an unprivileged user for the
# tests, with /etc/subuid and /etc/subgid ranges or explicitly without any.
nc_ensure_user() {
    local name=$1 mode=$2 i
    if ! getent passwd "$name" >/dev/null; then
        local -a opts=(-m -s /bin/sh -c "nook client tests")
        if [ "$mode" = nosubids ]; then
            opts+=(-K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0)
        fi
        # Other suites may create users at the same time; useradd fails
        # rather than waits when /etc/passwd is locked.
        for i in 1 2 3 4 5 6 7 8 9 10; do
            useradd "${opts[@]}" "$name" 2>/dev/null && break
            getent passwd "$name" >/dev/null && break
            sleep 1
        done
        getent passwd "$name" >/dev/null || nc_die "cannot create user $name"
    fi
    local f
    for f in /etc/subuid /etc/subgid; do
        if [ "$mode" = nosubids ]; then
            if grep -q "^$name:" "$f" 2>/dev/null; then
                nc_log "removing $name's ranges from $f (this user must have none)"
                sed -i "/^$name:/d" "$f"
            fi
        elif ! grep -q "^$name:" "$f" 2>/dev/null; then
            # Next free range above everything allocated so far.
            local start
            start=$(awk -F: '{ e = $2 + $3; if (e > m) m = e } END { print (m < 100000 ? 100000 : m) }' "$f" 2>/dev/null)
            echo "$name:$start:65536" >>"$f"
            nc_log "gave $name the range $start:65536 in $f"
        fi
    done
}

# nc_identity ID: make the identity's private directory, owned by it, with a
# runtime directory (XDG_RUNTIME_DIR) for rootless clients.
nc_identity() {
    local id=$1 d
    d=$(id_dir "$id")
    mkdir -p "$d/x" "$d/tmp"
    chmod 0700 "$d/x"
    chmod 0755 "$d"
    if [ "$id" != root ]; then
        chown -R "$id:" "$d"
    fi
    : >"$d/env"
    echo "XDG_RUNTIME_DIR=$d/x" >>"$d/env"
    echo "TMPDIR=$d/tmp" >>"$d/env"
}

# nc_storage_conf ID DRIVER: write a storage.conf private to the identity and
# point CONTAINERS_STORAGE_CONF at it. rootless_storage_path is what rootless
# Buildah/Podman read; graphroot is what root reads.
nc_storage_conf() {
    local id=$1 driver=$2 d
    d=$(id_dir "$id")
    cat >"$d/storage.conf" <<EOF
[storage]
driver = "$driver"
graphroot = "$d/storage"
runroot = "$d/runroot"
rootless_storage_path = "$d/storage"
EOF
    chmod 0644 "$d/storage.conf"
    echo "CONTAINERS_STORAGE_CONF=$d/storage.conf" >>"$d/env"
}

# nc_busybox_rootfs DIR: a minimal root file system made of Debian's static
# busybox, packed as DIR.tar with every file owned by 0:0 (so that a
# single-ID user namespace can extract it).
nc_busybox_rootfs() {
    local dir=$1 applet
    rm -rf "$dir"
    mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/proc" "$dir/sys" "$dir/dev"
    cp /bin/busybox "$dir/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:tester:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
    printf 'root:x:0:\ntester:x:1000:\nnogroup:x:65534:\n' >"$dir/etc/group"
    chmod 1777 "$dir/tmp"
    chmod 0700 "$dir/root"
    tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$dir.tar" .
}

# nc_build_base_image ID: build $NC_IMAGE in the identity's storage with
# Buildah, from the busybox rootfs tarball: no network, works as root and
# rootless (with or without subordinate IDs), needs no runtime.
nc_build_base_image() {
    local id=$1
    [ -f "$NC_WORK/rootfs.tar" ] || {
        nc_busybox_rootfs "$NC_WORK/rootfs" && chmod 0644 "$NC_WORK/rootfs.tar"
    } || nc_die "cannot make the busybox rootfs"
    t 120 as_id "$id" sh -ec '
        c=$(buildah from scratch)
        buildah add --quiet "$c" "$1" /
        buildah config --cmd /bin/sh --env PATH=/bin:/usr/bin "$c"
        buildah commit --quiet --rm "$c" "$2"
        ' sh "$NC_WORK/rootfs.tar" "$NC_IMAGE"
    [ "$RC" = 0 ] || nc_die "cannot build the base image for $id"
}

# ---------------------------------------------------------------------------
# Set-up, scenario runner, clean-up

# nc_require CMD...: each client must be installed (CI installs them); a
# missing client is a failure, not a skip.
nc_require() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null ||
            nc_die "$c is not installed (CI installs it, see scripts/test-packages.txt)"
    done
}

# nc_setup SUITE: work directory and the world-readable runtime copy
# $NC_RUNTIME (named "nook" whatever NOOK points to, so client configs that
# register it by name apply to runc during validation too).
nc_setup() {
    local suite=$1
    [ "$(id -u)" = 0 ] || nc_die "the client suites must run as root"
    NOOK=${NOOK:-$NC_REPO/build/nook}
    [ -x "$NOOK" ] || nc_die "runtime under test not found or not executable: $NOOK (set NOOK)"
    # Short: rootless Podman refuses a runroot ($XDG_RUNTIME_DIR/containers)
    # longer than 50 characters.
    NC_WORK=$(mktemp -d "/tmp/ncl-$suite.XXXXXX")
    chmod 0755 "$NC_WORK"
    mkdir -p "$NC_WORK/bin"
    NC_RUNTIME=$NC_WORK/bin/nook
    if [ "${NOOK_CLIENTS_TRACE:-0}" = 1 ]; then
        cp "$NOOK" "$NC_WORK/bin/nook.real"
        chmod 0755 "$NC_WORK/bin/nook.real"
        : >"$NC_WORK/runtime-calls.log"
        chmod 0666 "$NC_WORK/runtime-calls.log"
        # Absolute paths: Podman calls kill and delete with no PATH.
        cat >"$NC_RUNTIME" <<EOF
#!/bin/sh
"$NC_WORK/bin/nook.real" "\$@"
rc=\$?
echo "\$(/bin/date +%T.%N) uid=\$(/usr/bin/id -u) rc=\$rc: nook \$*" >>"$NC_WORK/runtime-calls.log"
exit \$rc
EOF
    else
        cp "$NOOK" "$NC_RUNTIME"
    fi
    chmod 0755 "$NC_WORK/bin" "$NC_RUNTIME"
    export NOOK NC_WORK NC_RUNTIME
    nc_log "runtime under test: $NOOK ($("$NOOK" --version 2>&1 | head -n1))"
    nc_log "work directory: $NC_WORK"
}

# nc_kill_pidfile FILE [SIGNAL]: kill the process whose pid FILE holds (one
# the suite started, e.g. rootless Podman's pause process, containerd) and
# wait up to 10s for it to go.
nc_kill_pidfile() {
    local pid i
    [ -f "$1" ] || return 0
    pid=$(cat "$1" 2>/dev/null)
    case "$pid" in
    '' | *[!0-9]*) return 0 ;;
    esac
    kill "-${2:-KILL}" "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
    return 0
}

# nc_cg_file PID CONTROLLER FILE: FILE in the cgroup of process PID, in its v1
# hierarchy of CONTROLLER when there is one, else in its cgroup v2 directory.
nc_cg_file() {
    local mnt path
    mnt=$(findmnt -rn -t cgroup -O "$2" -o TARGET | head -1)
    if [ -n "$mnt" ]; then
        path=$(awk -F: -v c="$2" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' "/proc/$1/cgroup")
    else
        mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -1)
        path=$(awk -F: '$1 == "0" {print $3}' "/proc/$1/cgroup")
    fi
    echo "$mnt$path/$3"
}

# nc_runtime_is_runc: the runtime under test is runc (validation runs), for
# the few scenarios whose expected outcome differs on purpose.
nc_runtime_is_runc() {
    "$NC_RUNTIME" --version 2>/dev/null | head -n1 | grep -q '^runc version'
}

# Processes still running whose command line mentions the work directory
# (conmon, shims, containerd, container processes): the suite started them.
nc_pids_in_work() {
    local p cmd
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$$" ] && continue
        cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
        case "$cmd" in
        *"$NC_WORK"*) echo "$p" ;;
        esac
    done
}

nc_cleanup_work() {
    [ -n "${NC_WORK:-}" ] && [ -d "$NC_WORK" ] || return 0
    local p pids m
    pids=$(nc_pids_in_work)
    if [ -n "$pids" ]; then
        nc_log "killing leftover processes: $(echo $pids)"
        for p in $pids; do kill -9 "$p" 2>/dev/null; done
        sleep 1
    fi
    # Unmount whatever the clients left mounted under the work directory,
    # deepest first.
    for m in $(awk -v w="$NC_WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2>/dev/null
    done
    if [ "${NOOK_CLIENTS_KEEP:-0}" = 1 ]; then
        nc_log "keeping $NC_WORK"
        return 0
    fi
    # vfs/overlay storage written from a user namespace may hold files only
    # the owner can remove; root can remove all of them.
    rm -rf "$NC_WORK" 2>/dev/null || {
        chmod -R u+rwX "$NC_WORK" 2>/dev/null
        rm -rf "$NC_WORK" || nc_log "could not remove all of $NC_WORK"
    }
}

# nc_main "$@": entry point of every suite.
nc_main() {
    export -f $(compgen -A function)
    if [ "${1:-}" = --scenario ]; then
        # Child: one scenario, under the parent's timeout.
        local name=$2 id=$3
        if [ "${NOOK_CLIENTS_TRACE:-0}" = 1 ]; then
            # Show the runtime calls of this scenario when it fails.
            NC_MARK=$(wc -l <"$NC_WORK/runtime-calls.log")
            trap '[ $? = 0 ] || { echo "runtime calls:"; tail -n +$((NC_MARK + 1)) "$NC_WORK/runtime-calls.log" | cut -c1-400; } >&2' EXIT
        fi
        "sc_$name" "$id"
        exit 0
    fi
    local suite
    suite=$(basename "$0" .sh)
    nc_setup "$suite"
    trap '[ "${NOOK_CLIENTS_KEEP:-0}" = 1 ] || suite_teardown; nc_cleanup_work' EXIT
    trap 'exit 130' INT TERM
    local t0=$SECONDS
    suite_setup || nc_die "suite set-up failed"
    nc_log "set-up took $((SECONDS - t0))s"

    local entry name id secs n=0 failed=0 start rc
    local -a failures=()
    echo "1..${#SCENARIOS[@]}"
    for entry in "${SCENARIOS[@]}"; do
        read -r name id secs <<<"$entry"
        n=$((n + 1))
        if ! nc_wants "$id"; then
            echo "ok $n - $suite $id $name # SKIP NOOK_CLIENTS_WHO=$NOOK_CLIENTS_WHO"
            continue
        fi
        if [ -n "${NOOK_CLIENTS_FILTER:-}" ] && ! [[ "$name $id" =~ ${NOOK_CLIENTS_FILTER} ]]; then
            echo "ok $n - $suite $id $name # SKIP filtered out"
            continue
        fi
        echo "# --- $suite: $name as $id (timeout ${secs}s)"
        start=$SECONDS
        rm -f "$NC_WORK/skip-reason"
        timeout -k 10 "$secs" "$0" --scenario "$name" "$id" 2>&1 | sed 's/^/    /'
        rc=${PIPESTATUS[0]}
        if [ "$rc" = 77 ] && [ -f "$NC_WORK/skip-reason" ]; then
            echo "ok $n - $suite $id $name # SKIP $(cat "$NC_WORK/skip-reason")"
        elif [ "$rc" = 0 ]; then
            echo "ok $n - $suite $id $name ($((SECONDS - start))s)"
        else
            [ "$rc" = 124 ] && echo "    TIMEOUT: scenario exceeded ${secs}s"
            echo "not ok $n - $suite $id $name ($((SECONDS - start))s, exit $rc)"
            failed=$((failed + 1))
            failures+=("$id $name")
        fi
        # Scenarios clean up after themselves; between scenarios make sure
        # nothing is left running that would confuse the next one.
        scenario_cleanup "$id" >/dev/null 2>&1 || true
    done
    NC_FAILED=$failed
    echo "# $suite: $((n - failed))/$n passed in $((SECONDS - t0))s with runtime $NOOK"
    if [ "$failed" != 0 ]; then
        printf '# failed: %s\n' "${failures[@]}"
        exit 1
    fi
    exit 0
}

# Defaults, overridden by suites.
suite_setup() { :; }
suite_teardown() { :; }
scenario_cleanup() { :; }
