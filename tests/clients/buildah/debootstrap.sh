#!/bin/bash
# A Debian image build by a user with NO /etc/subuid entry (issue 10): Buildah
# 1.28 rootless falls back to a user namespace with only the user's own ID
# mapped (to 0), and the runtime runs each RUN step as "root" in it. Package
# managers chown to other IDs and switch users there; nook's root emulation
# makes those calls succeed as no-ops (docs/root-emulation.md), runc fails.
#
#   sudo NOOK=build/nook tests/clients/buildah/debootstrap.sh
#
# Set-up (as root):
#   - a Debian bookworm minbase root file system made with debootstrap from
#     Debian's archive, packed as a tarball with every file owned by 0:0 and
#     without the device nodes of /dev (a one-ID namespace can neither own
#     files as other IDs nor make device nodes, so Buildah could not unpack it
#     otherwise), cached in $NOOK_DEBOOTSTRAP_CACHE (default
#     /var/cache/nook-tests): a second run does not download it again;
#   - that tarball imported into the user's Buildah storage (vfs) as
#     localhost/nook-bookworm:latest (buildah from scratch / add / commit);
#   - `apt-get download hello` on the host into the build context
#     (debootstrap-context/, with the Containerfile);
#   - whether Debian's archive answers from here, as the user (the RUN steps
#     use the host's network, --network host): if it does not, the
#     apt-get install step is skipped and the reason printed.
# Scenarios (user nookdeb, no /etc/subuid or /etc/subgid entry):
#   bud_nook   buildah bud --runtime NOOK --isolation oci: useradd, chown -R
#              to the new user, dpkg -i of the copied .deb, apt-get update +
#              install; the committed image is checked from the host through
#              a Buildah mount (files, dpkg -s with the image's database) and
#              compared with the base image: nothing changed outside what the
#              RUN steps wrote, no tool replaced, no apt configuration added.
#   bud_runc   the same build with runc as the runtime must fail, at the
#              latest at the chown -R to uid 1000 (EINVAL: uid not mapped).
#
# Environment (besides lib.sh's): NOOK_DEBOOTSTRAP_CACHE (cache directory),
# NOOK_DEBIAN_MIRROR (default http://deb.debian.org/debian), RUNC (default:
# runc from PATH, else /usr/sbin/runc).

source "$(dirname "$0")/../lib.sh"

D_USER=nookdeb
D_SUITE=bookworm
D_MIRROR=${NOOK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
D_CACHE=${NOOK_DEBOOTSTRAP_CACHE:-/var/cache/nook-tests}
D_BASE=localhost/nook-bookworm:latest
D_DEB=hello             # fetched on the host, installed with dpkg -i
D_APT_PACKAGE=tree      # installed in the container with apt-get
export D_USER D_SUITE D_MIRROR D_CACHE D_BASE D_DEB D_APT_PACKAGE

SCENARIOS=(
    "bud_nook $D_USER 900"
    "bud_runc $D_USER 600"
)

# --- set-up ----------------------------------------------------------------

# The runc the contrast scenario uses.
d_runc() {
    if [ -n "${RUNC:-}" ]; then
        echo "$RUNC"
    elif command -v runc >/dev/null; then
        command -v runc
    else
        echo /usr/sbin/runc
    fi
}

# d_base_tarball: print the path of the cached minbase tarball, making it with
# debootstrap first when it is not there yet.
d_base_tarball() {
    local arch tar t0 tmp
    arch=$(dpkg --print-architecture)
    tar=$D_CACHE/debootstrap-$D_SUITE-minbase-$arch.tar
    mkdir -p "$D_CACHE"
    # Another run may be making it right now.
    exec 9>"$D_CACHE/.debootstrap.lock"
    flock 9
    if [ -s "$tar" ]; then
        nc_log "debootstrap: using the cached $tar (made $(date -r "$tar" '+%F %T'); delete it to make it again)"
    else
        tmp=$(mktemp -d "$D_CACHE/debootstrap.XXXXXX")
        nc_log "debootstrap --variant=minbase $D_SUITE $tmp/rootfs $D_MIRROR"
        t0=$SECONDS
        if ! debootstrap --variant=minbase "$D_SUITE" "$tmp/rootfs" "$D_MIRROR" >"$tmp/log" 2>&1; then
            tail -n 30 "$tmp/log" >&2
            rm -rf "$tmp"
            nc_die "debootstrap failed (is $D_MIRROR reachable?)"
        fi
        nc_log "debootstrap took $((SECONDS - t0))s ($(du -sh "$tmp/rootfs" | cut -f1))"
        tar --numeric-owner --owner=0 --group=0 --exclude='./dev/*' \
            -C "$tmp/rootfs" -cf "$tmp/base.tar" . || nc_die "cannot pack the debootstrap tree"
        mv "$tmp/base.tar" "$tar"
        rm -rf "$tmp"
    fi
    exec 9>&-
    echo "$tar"
}

# d_fetch_deb DIR: `apt-get download` the .deb into DIR (cached next to the
# base tarball).
d_fetch_deb() {
    local dir=$1 cache=$D_CACHE/debs deb
    mkdir -p "$cache"
    deb=$(ls "$cache"/"${D_DEB}"_*.deb 2>/dev/null | head -n1)
    if [ -z "$deb" ]; then
        local tmp
        tmp=$(mktemp -d "$cache/dl.XXXXXX")
        # Writable by _apt, so apt downloads sandboxed as usual.
        chown _apt "$tmp" 2>/dev/null
        if ! (cd "$tmp" && apt-get download "$D_DEB") >&2; then
            nc_log "apt-get download $D_DEB failed; apt-get update and again"
            apt-get update -q >&2
            (cd "$tmp" && apt-get download "$D_DEB") >&2 || {
                rm -rf "$tmp"
                nc_die "apt-get download $D_DEB failed"
            }
        fi
        mv "$tmp"/"${D_DEB}"_*.deb "$cache/"
        rm -rf "$tmp"
        deb=$(ls "$cache"/"${D_DEB}"_*.deb | head -n1)
    fi
    nc_log "$D_DEB: $(basename "$deb") ($(dpkg-deb -f "$deb" Version), Depends: $(dpkg-deb -f "$deb" Depends))"
    cp "$deb" "$dir/"
}

# d_archive_check: empty when Debian's archive answers an HTTP request from
# the user's network (which the RUN steps share), else why not.
d_archive_check() {
    local url=$D_MIRROR/dists/$D_SUITE/InRelease hostport host port path reply
    case "$url" in
    http://*) ;;
    *)
        echo "the mirror $D_MIRROR is not plain http (the probe speaks only http)"
        return 0
        ;;
    esac
    hostport=${url#http://}
    path=/${hostport#*/}
    hostport=${hostport%%/*}
    host=${hostport%:*}
    port=80
    [ "$host" = "$hostport" ] || port=${hostport##*:}
    reply=$(as_id "$D_USER" timeout 20 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "HEAD %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" "$3" "$1" >&3
        head -n1 <&3' probe "$host" "$port" "$path" 2>&1 | tr -d '\r' | tr '\n' ' ')
    case "$reply" in
    "HTTP/1."?" 200"*) ;;
    *) echo "$url does not answer from the build's network (${reply:-no reply}): archive not reachable" ;;
    esac
}

suite_setup() {
    nc_require buildah debootstrap apt-get dpkg-deb flock
    local runc
    runc=$(d_runc)
    [ -x "$runc" ] || nc_die "runc not found ($runc; CI installs it, see scripts/test-packages.txt)"
    nc_log "contrast runtime: $runc ($("$runc" --version | head -n1))"
    nc_ensure_user "$D_USER" nosubids
    nc_wants "$D_USER" || return 0
    nc_identity "$D_USER"
    nc_storage_conf "$D_USER" vfs

    local tar t0
    tar=$(d_base_tarball) || exit 1
    cp "$tar" "$NC_WORK/base.tar"
    chmod 0644 "$NC_WORK/base.tar"
    t0=$SECONDS
    t 300 as_id "$D_USER" sh -ec '
        c=$(buildah from scratch)
        buildah add --quiet "$c" "$1" /
        buildah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
        buildah commit --quiet --rm "$c" "$2"
        ' sh "$NC_WORK/base.tar" "$D_BASE"
    [ "$RC" = 0 ] || nc_die "cannot import the debootstrap tree into $D_USER's storage"
    nc_log "import into Buildah storage took $((SECONDS - t0))s"
    rm -f "$NC_WORK/base.tar"

    cp -r "$(dirname "$0")/debootstrap-context" "$NC_WORK/ctx"
    d_fetch_deb "$NC_WORK/ctx"
    chmod -R a+rX "$NC_WORK/ctx"

    d_archive_check >"$NC_WORK/apt-skip"
    if [ -s "$NC_WORK/apt-skip" ]; then
        nc_log "the apt-get install step will be skipped: $(cat "$NC_WORK/apt-skip")"
    else
        nc_log "$D_MIRROR answers: the apt-get install step runs"
    fi
    chmod 0644 "$NC_WORK/apt-skip"
}

suite_teardown() {
    [ -f "$NC_WORK/$D_USER/env" ] || return 0
    timeout 60 bash -c '"$@"' t as_id "$D_USER" buildah rm --all >/dev/null 2>&1
    timeout 120 bash -c '"$@"' t as_id "$D_USER" buildah unshare rm -rf "$NC_WORK/$D_USER/storage" >/dev/null 2>&1
}

scenario_cleanup() {
    as_id "$1" buildah rm --all
}

# --- helpers ---------------------------------------------------------------

# in_image ID IMAGE SCRIPT [ARGS...]: run the shell SCRIPT on the host, in
# Buildah's user namespace, with $M the mounted root file system of IMAGE (no
# runtime involved).
in_image() {
    local id=$1 image=$2 script=$3
    shift 3
    as_id "$id" buildah unshare sh -c '
        image=$1 script=$2
        shift 2
        c=$(buildah from --pull=never --quiet "$image") || exit 125
        M=$(buildah mount "$c") || { buildah rm "$c" >/dev/null; exit 125; }
        export M
        sh -c "$script" sh "$@"
        rc=$?
        buildah umount "$c" >/dev/null
        buildah rm "$c" >/dev/null
        exit $rc' sh "$image" "$script" "$@"
}

# Every path of the mounted tree (but /proc, /sys, /dev contents) with type,
# mode, owner, size (files), link target and sha256 (files); sorted.
MANIFEST_SCRIPT='
cd "$M" || exit 1
find . \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o \
    -printf "%p\t%y %m %U:%G %s %l\n" | LC_ALL=C sort >"$1/list"
find . \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o -type f -print0 |
    xargs -0 sha256sum | sed "s/^\([0-9a-f]*\)  \(.*\)$/\2\t\1/" | LC_ALL=C sort >"$1/sums"
LC_ALL=C join -t "$(printf "\t")" -a 1 "$1/list" "$1/sums" |
    awk -F "\t" "{ split(\$2, a, \" \"); if (a[1] == \"d\") a[4] = \"-\"; print \$1 \"\t\" a[1] \" \" a[2] \" \" a[3] \" \" a[4] \" \" a[5] \" \" \$3 }"
'

# image_manifest ID IMAGE OUTFILE
image_manifest() {
    local tmp
    tmp=$(mktemp -d "$NC_WORK/$1/tmp/manifest.XXXXXX")
    chown "$1" "$tmp"
    in_image "$1" "$2" "$MANIFEST_SCRIPT" "$tmp" >"$3"
    local rc=$?
    rm -rf "$tmp"
    return $rc
}

# Paths the Containerfile's steps write (ERE on "./path"): the new user's
# entries and home, /srv/app, the two packages' files, dpkg's and apt's
# databases, caches and logs. Anything else that differs from the base image
# was written by someone else.
ALLOWED_CHANGES='^\./(etc/(passwd|group|shadow|gshadow|subuid|subgid)-?|etc/ld\.so\.cache|home(/builder(/.*)?)?|srv(/app(/.*)?)?|usr/bin/(hello|'"$D_APT_PACKAGE"')|usr/share/(doc|man|info|locale)(/.*)?|var/lib/dpkg(/.*)?|var/lib/apt(/.*)?|var/cache/(apt|debconf|ldconfig)(/.*)?|var/log/(apt(/.*)?|dpkg\.log|alternatives\.log|lastlog|faillog))$'

# Mount destinations in Buildah's config that the image may lack; the runtime
# makes them (runc too), as empty files.
MOUNT_POINTS='^\./(etc/(hosts|hostname|resolv\.conf)|run/\.containerenv)$'

# The tools the steps run: the image must have the base image's binaries and
# apt configuration, not replacements (a "root emulation" that symlinks chown
# to /bin/true would pass the build).
WATCHED='^\./(usr/)?(s?bin/(chown|chgrp|useradd|groupadd|usermod|dpkg|dpkg-deb|dpkg-statoverride|apt-get|apt|apt-config|true|false|id|mknod|su|setpriv|runuser|stat)|usr/lib/apt/methods/.*|etc/apt(/.*)?|etc/ld\.so\.preload|etc/dpkg(/.*)?|etc/login\.defs|etc/pam\.d(/.*)?)$'

expect_no_line() { # expect_no_line LINE: $OUT must not contain exactly this line
    ! printf '%s\n' "$OUT" | grep -qxF -- "$1" || nc_die "the output must not have a line '$1'"
}

# --- scenarios -------------------------------------------------------------

bud_args() { # bud_args RUNTIME TAG
    printf '%s\n' bud --runtime "$1" --isolation oci --network host --pull=never --layers=false \
        --build-arg "APT_SKIP=$(cat "$NC_WORK/apt-skip")" --build-arg "APT_PACKAGE=$D_APT_PACKAGE" \
        -f "$NC_WORK/ctx/Containerfile" -t "$2" "$NC_WORK/ctx"
}

sc_bud_nook() {
    local id=$1 image=localhost/nook-test/debootstrap skip
    local -a args
    skip=$(cat "$NC_WORK/apt-skip")

    # First what a RUN step gets: Buildah's one-ID user namespace, and a chown
    # to an unmapped uid that root emulation must turn into a no-op success
    # (in a throw-away container of the base image).
    t_stdout 120 as_id "$id" sh -c '
        c=$(buildah from --pull=never --quiet "$2") || exit 125
        buildah run --runtime "$1" --isolation oci --network host "$c" -- sh -c "
            echo uid_map: \$(cat /proc/self/uid_map); echo setgroups: \$(cat /proc/self/setgroups)
            grep Seccomp_filters: /proc/self/status
            touch /tmp/probe; chown 1000:1000 /tmp/probe && echo chown-1000-ok"
        rc=$?
        buildah rm "$c" >/dev/null
        exit $rc' sh "$NC_RUNTIME" "$D_BASE"
    printf '%s\n' "$OUT" | grep -qx chown-1000-ok ||
        nc_die "chown to uid 1000 fails in a RUN container (exit $RC): root emulation is not on in Buildah's one-ID user namespace"

    mapfile -t args < <(bud_args "$NC_RUNTIME" "$image")
    t 800 as_id "$id" buildah "${args[@]}"
    expect_rc 0
    expect_out "uid=1000(builder) gid=1000(builder) groups=1000(builder)"
    expect_line useradd-step-ran
    # The chown succeeded and did nothing: the file keeps the builder's own
    # ID, 0 in the container.
    expect_line "owner after chown -R: 0:0"
    expect_line chown-step-ran
    expect_line "Hello, world!"
    expect_line dpkg-step-ran
    if [ -z "$skip" ]; then
        expect_line "Status: install ok installed"
        expect_line apt-step-ran
    else
        expect_line "apt-step-skipped: $skip"
        nc_log "SKIPPED the apt-get install step: $skip"
    fi

    # The committed image, read from the host through a Buildah mount.
    t_stdout 60 in_image "$id" "$image" 'grep "^builder:" "$M/etc/passwd"; test -d "$M/home/builder" && echo home-exists; cat "$M/srv/app/sub/file"; stat -c "%u:%g" "$M/srv/app/sub/file"; test -x "$M/usr/bin/hello" && echo hello-exists'
    expect_rc 0
    expect_line "builder:x:1000:1000::/home/builder:/bin/bash"
    expect_line home-exists
    expect_line payload
    expect_line 0:0
    expect_line hello-exists
    # dpkg on the host, reading the image's package database.
    t_stdout 60 in_image "$id" "$image" 'dpkg --admindir="$M/var/lib/dpkg" -s "$1" | grep -E "^(Package|Status|Version):"' "$D_DEB"
    expect_rc 0
    expect_line "Status: install ok installed"
    expect_line "Package: $D_DEB"
    if [ -z "$skip" ]; then
        t_stdout 60 in_image "$id" "$image" 'dpkg --admindir="$M/var/lib/dpkg" -s "$1" | grep -E "^(Package|Status|Version):"; test -x "$M/usr/bin/$1" && echo binary-exists' "$D_APT_PACKAGE"
        expect_rc 0
        expect_line "Status: install ok installed"
        expect_line binary-exists
    fi
    t 30 as_id "$id" buildah inspect --type image --format '{{.OCIv1.Config.Cmd}}' "$image"
    expect_rc 0
    expect_out "[/usr/bin/hello]"

    # Nothing written into the image but what the steps wrote.
    local base_m new_m changed bad watched
    base_m=$NC_WORK/manifest-base
    new_m=$NC_WORK/manifest-built
    image_manifest "$id" "$D_BASE" "$base_m" || nc_die "cannot list the base image"
    image_manifest "$id" "$image" "$new_m" || nc_die "cannot list the built image"
    nc_log "manifest: $(wc -l <"$base_m") paths in the base image, $(wc -l <"$new_m") in the built one"
    [ "$(wc -l <"$base_m")" -gt 1000 ] || nc_die "the base image manifest is too short"
    changed=$(LC_ALL=C diff "$base_m" "$new_m" | grep '^[<>] ' | cut -c3- | cut -f1 | LC_ALL=C sort -u)
    nc_log "$(printf '%s\n' "$changed" | grep -c .) paths differ from the base image:"
    printf '%s\n' "$changed" | grep -v '^\./usr/share/' | sed 's/^/#   /' >&2
    nc_log "  and $(printf '%s\n' "$changed" | grep -c '^\./usr/share/') under /usr/share"
    bad=$(printf '%s\n' "$changed" | grep . | grep -Ev "$ALLOWED_CHANGES" | while IFS= read -r p; do
        # Destinations of the config's bind mounts (Buildah's /etc/hosts...)
        # may appear, as empty files: the runtime creates missing mount points.
        if printf '%s\n' "$p" | grep -Eq "$MOUNT_POINTS" && ! grep -q "^$p$(printf '\t')" "$base_m" &&
            grep -Eq "^$p$(printf '\t')f [0-7]+ [0-9]+:[0-9]+ 0 " "$new_m"; then
            nc_log "$p: empty mount point (absent in the base image)"
            continue
        fi
        echo "$p"
    done)
    if [ -n "$bad" ]; then
        printf '%s\n' "$bad" | head -n 40 | sed 's/^/  unexpected change: /' >&2
        LC_ALL=C diff "$base_m" "$new_m" | grep -F -f <(printf '%s\n' "$bad" | head -n 40) | head -n 80 | sed 's/^/  | /' >&2
        nc_die "the image changed outside what the Containerfile's steps write"
    fi
    watched=$(printf '%s\n' "$changed" | grep -E "$WATCHED")
    [ -z "$watched" ] || nc_die "tools or their configuration changed in the image: $(echo $watched)"
    # Sanity: the diff sees what the steps did.
    printf '%s\n' "$changed" | grep -qx './srv/app/sub/file' || nc_die "the manifest diff misses /srv/app/sub/file"
    printf '%s\n' "$changed" | grep -qx './usr/bin/hello' || nc_die "the manifest diff misses /usr/bin/hello"
}

sc_bud_runc() {
    local id=$1 image=localhost/nook-test/debootstrap-runc runc
    local -a args
    runc=$(d_runc)
    mapfile -t args < <(bud_args "$runc" "$image")
    t 500 as_id "$id" buildah "${args[@]}"
    [ "$RC" != 0 ] || nc_die "the build with runc succeeded; it must fail (no root emulation, one ID)"
    [ "$RC" != 124 ] || nc_die "the build with runc timed out instead of failing"
    # At the latest at the chown -R to uid 1000.
    # (The markers are in the STEP lines too: whole lines only.)
    expect_no_line chown-step-ran
    expect_no_line dpkg-step-ran
    expect_no_line apt-step-ran
    expect_out 'Error: building at STEP "RUN '
    nc_log "runc failed at $(printf '%s\n' "$OUT" | grep -o '^STEP [0-9]*/[0-9]*: RUN .\{0,40\}' | tail -n1)...: $(printf '%s\n' "$OUT" | grep -E 'Invalid argument|Operation not permitted' | head -n1)"
    t 20 as_id "$id" buildah images --format '{{.Name}}'
    expect_no_out nook-test/debootstrap-runc
}

nc_main "$@"
