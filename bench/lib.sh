# bench/lib.sh - helpers shared by the bench/*.sh scripts (sourced, never run).
#
# Conventions every script follows:
#   script.sh [-r N] [-m root,rootless] -o OUTDIR LABEL=RUNTIME [LABEL=RUNTIME...]
# - LABEL=RUNTIME: a display name and a runc-compatible CLI (path or name in PATH); the FIRST
#   is the one under test (nook), ratios are against the others.
# - the same busybox rootfs as bench.sh ($NOOK_BENCH_DIR/rootfs, default /tmp/nook-bench) and
#   the same config.json (bench.sh's mkspec: `$BENCH_SPEC_RT spec` (default runc), rootfs
#   read-only, /bin/true; rootless: one uid/gid mapped to $BENCH_USER, default nobody);
# - state directories (--root) under $NOOK_BENCH_STATE when set (bench/run.sh: a tmpfs, like
#   /run and $XDG_RUNTIME_DIR on a normal host), else OUTDIR/state;
# - on hybrid-cgroup hosts everything runs in one private mount namespace without the cgroup2
#   mount at /sys/fs/cgroup/unified (crun 1.8 refuses to start otherwise), like bench.sh;
# - a summary is written to OUTDIR/<script>.json for report.py.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE=${NOOK_BENCH_DIR:-${TMPDIR:-/tmp}/nook-bench}
RUSER=${BENCH_USER:-nobody}
SPEC_RT=${BENCH_SPEC_RT:-runc}   # whose `spec` makes the config every runtime gets
RUID=$(id -u "$RUSER"); RGID=$(id -g "$RUSER")
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3   # Debian's python3 has matplotlib
ROOTFS=$BASE/rootfs
TOOLS=$BASE/tools
LAT=$TOOLS/lat
FLOORBIN=$TOOLS/floor
RSSBIN=$TOOLS/rss
BASEPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "${0##*/}: $*" >&2; exit 2; }
log() { echo "[${0##*/}] $*" >&2; }

# need_hide: true when crun would refuse this host (hybrid cgroups with controllers in cgroup2).
need_hide() {
  [ "$(id -u)" = 0 ] && [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] \
    && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] \
    && [ -n "$(tr -d ' \n' < /sys/fs/cgroup/unified/cgroup.controllers)" ]
}
# enter_ns "$0" "$@": re-exec the calling script in a private mount ns without the cgroup2 mount.
# Idempotent: inside that namespace need_hide is false.
enter_ns() {
  if need_hide; then
    exec unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified && exec "$@"' _ "$@"
  fi
}

# parse_runtimes LABEL=RUNTIME...: fills LABELS[] and RTS[] (absolute paths).
parse_runtimes() {
  LABELS=(); RTS=()
  local a l p q
  for a in "$@"; do
    case $a in *=*) l=${a%%=*}; p=${a#*=};; *) p=$a; l=${a##*/};; esac
    q=$(command -v "$p" || true)
    [ -n "$q" ] && [ -x "$q" ] || die "not executable: $p"
    LABELS+=("$l"); RTS+=("$(readlink -f "$q")")
  done
  [ ${#RTS[@]} -ge 1 ] || die "no runtime given"
}

# ensure_tools: compile the C helpers into $TOOLS (rebuilt when the source is newer).
ensure_tools() {
  mkdir -p "$TOOLS"; chmod 755 "$BASE" "$TOOLS"
  local src bin
  for src in lat floor rss exit0; do
    bin=$TOOLS/$src
    if [ ! -x "$bin" ] || [ "$BENCH_DIR/$src.c" -nt "$bin" ]; then
      if [ $src = exit0 ]; then
        gcc -O2 -Wall -static -nostdlib -fno-stack-protector -o "$bin" "$BENCH_DIR/$src.c"
      else
        gcc -O2 -Wall -o "$bin" "$BENCH_DIR/$src.c"
      fi
      chmod 755 "$bin"
    fi
  done
}

# ensure_rootfs: the busybox rootfs, built exactly as bench.sh builds it, plus /mnt/b0..b255
# (empty directories used as bind-mount destinations by mounts.sh, harmless for the others).
ensure_rootfs() {
  if [ ! -x "$ROOTFS/bin/busybox" ]; then
    local BB a; BB=$(command -v busybox) || die "need busybox-static"
    file -L "$BB" | grep -q static || die "need busybox-static"
    mkdir -p "$ROOTFS"/{bin,etc,proc,dev,sys,tmp,root}
    cp "$BB" "$ROOTFS/bin/busybox"
    for a in $("$BB" --list); do [ -e "$ROOTFS/bin/$a" ] || ln -s /bin/busybox "$ROOTFS/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$ROOTFS/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' > "$ROOTFS/etc/group"
    chmod 1777 "$ROOTFS/tmp"; chmod -R a+rX "$ROOTFS"
  fi
  if [ ! -d "$ROOTFS/mnt/b255" ]; then
    local i; for i in $(seq 0 255); do mkdir -p "$ROOTFS/mnt/b$i"; done; chmod -R a+rX "$ROOTFS/mnt"
  fi
  mkdir -p "$BASE/bindsrc"; chmod 755 "$BASE/bindsrc"
}

# ro_copy BIN: prints the path of a copy of BIN on a read-only bind mount (below $BASE; the
# mount goes with the private mount namespace enter_ns gives each script). nook under valgrind
# must not re-execute itself (valgrind cannot follow execveat of a memfd or a detached mount),
# and a binary on a read-only mount is one no container can write (docs/security.md).
ro_copy() {
  local d; d=$(mktemp -d "$BASE/ro.XXXXXX"); chmod 755 "$d"
  cp "$1" "$d/${1##*/}"
  mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || die "cannot make $d read-only"
  echo "$d/${1##*/}"
}

# mkbundle MODE DIR [NBINDS]: DIR/config.json as bench.sh -s $SPEC_RT makes it for MODE,
# plus NBINDS extra bind mounts of $BASE/bindsrc on /mnt/b0.. (options: bind only).
mkbundle() {
  local mode=$1 d=$2 nb=${3:-0} tmp
  mkdir -p "$d"; tmp=$(mktemp -d "$d/tmp.XXXX")
  local sp=(spec); [ "$mode" = rootless ] && sp=(spec --rootless)
  ( cd "$tmp" && "$SPEC_RT" "${sp[@]}" ) >/dev/null 2>&1 || ( cd "$tmp" && runc "${sp[@]}" )
  jq --arg r "$ROOTFS" --argjson u "$RUID" --argjson g "$RGID" --arg m "$mode" \
     --arg src "$BASE/bindsrc" --argjson nb "$nb" '
      .root.path=$r | .root.readonly=true | .process.args=["/bin/true"] | .process.terminal=false
      | if $m=="rootless" then (.linux.uidMappings=[{containerID:0,hostID:$u,size:1}]
                                | .linux.gidMappings=[{containerID:0,hostID:$g,size:1}]) else . end
      | .mounts += [range(0; $nb) | {destination: ("/mnt/b" + tostring), type: "bind",
                                     source: $src, options: ["bind"]}]' \
      "$tmp/config.json" > "$d/config.json"
  rm -rf "$tmp"; chmod -R a+rX "$d"
}

# statedir DIR MODE: create a --root directory usable in MODE.
statedir() {
  mkdir -p "$1"; chmod 755 "$1"
  if [ "$2" = rootless ]; then chown "$RUID:$RGID" "$1"; fi
}

# as_mode MODE CMD...: run CMD with the clean environment lat.c gives runtimes, as root or as
# $RUSER (groups cleared) for rootless.
as_mode() {
  local mode=$1; shift
  mode_prefix "$mode"
  "${PREFIX[@]}" "$@"
}
# mode_prefix MODE: PREFIX[] = the command prefix as_mode uses (for tools that take a command).
mode_prefix() {
  if [ "$1" = rootless ]; then
    local home; home=$(getent passwd "$RUSER" | cut -d: -f6)
    PREFIX=(setpriv --reuid="$RUID" --regid="$RGID" --clear-groups
            env -i PATH=$BASEPATH HOME="$home" USER="$RUSER" LOGNAME="$RUSER")
  else
    PREFIX=(env -i PATH=$BASEPATH HOME=/root USER=root LOGNAME=root)
  fi
}

# lat user for a mode
lat_user() { if [ "$1" = rootless ]; then echo "$RUSER"; else echo root; fi; }
mtag() { if [ "$1" = rootless ]; then echo rl; else echo root; fi; }

# common option parsing: -r ROUNDS -m MODES -o OUT -n PARAM -F (add floor.c rows);
# sets ROUNDS MODES OUT PARAM FLOOR, leaves the LABEL=RUNTIME arguments in ARGS[].
parse_common() {
  local defr=$1 defp=$2; shift 2
  ROUNDS=$defr; PARAM=$defp; MODES=root,rootless; OUT=""; FLOOR=0
  local o OPTIND=1
  while getopts "r:m:o:n:Fh" o; do
    case $o in
      r) ROUNDS=$OPTARG;; m) MODES=$OPTARG;; o) OUT=$OPTARG;; n) PARAM=$OPTARG;; F) FLOOR=1;;
      *) sed -n '2,20p' "$0"; exit 2;;
    esac
  done
  shift $((OPTIND-1))
  [ -n "$OUT" ] || OUT=$BASE/results/${0##*/}-$(date +%Y%m%d-%H%M%S)-$$
  mkdir -p "$OUT"; chmod 755 "$OUT"
  STATE_DIR=${NOOK_BENCH_STATE:-$OUT/state}; mkdir -p "$STATE_DIR"; chmod 755 "$STATE_DIR"
  ARGS=("$@")
  [ "$(id -u)" = 0 ] || die "run as root (rootless mode runs as $RUSER)"
}
