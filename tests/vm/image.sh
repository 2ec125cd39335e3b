#!/bin/bash
# The guest image of the VM test stage: Debian 12 from Debian's archive only, systemd as PID 1,
# pure cgroup v2, Podman, crun (the reference runtime), CRIU (checkpoint/restore), containerd
# (`ctr task checkpoint`; its service not started at boot), a lingering user with subuid ranges.
#
#   tests/vm/image.sh            prints the image directory, building it first when missing
#
# The image is cached in $NOOK_VM_CACHE (default /var/cache/nook-vm) under the hash of this
# file: editing the recipe makes a new image, anything else (the checks, nook itself) reuses
# it. The checks are not in the image: tests/vm/run.sh shares them with the guest over 9p at
# every boot, with the freshly built nook. Building needs root (debootstrap, chroot); a
# concurrent build of the same image waits for the first (flock).
#
# Pitfalls (learnt from ../shared/tools/vm, measured on this host):
# - debootstrap does not resolve virtual packages: Podman's network stack is named explicitly
#   (containernetworking-plugins);
# - the default initrd (MODULES=most) is 31 MB and slow to build: MODULES=list with virtio and
#   ext4 is 7 MB and ~10 s; the list is laid down before debootstrap, so the kernel's postinst
#   builds the small one directly;
# - podman-restart / podman-auto-update cost ~30 s of boot under emulation: masked, as are the
#   periodic timers;
# - a getty on ttyS0 would share the console with the checks' output: masked on the cmdline;
# - dpkg's fsync per file dominates debootstrap on a busy disk: force-unsafe-io.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${NOOK_VM_CACHE:-/var/cache/nook-vm}
KEY=$(sha256sum "$HERE/image.sh" | cut -c1-16)
IMG=$CACHE/$KEY
SUITE=bookworm
PKGS=systemd,systemd-sysv,udev,linux-image-amd64,dbus,dbus-user-session,libpam-systemd,systemd-container,podman,crun,runc,uidmap,busybox-static,iproute2,kmod,procps,catatonit,fuse-overlayfs,containernetworking-plugins,zstd,jq,criu,containerd
log() { echo "[image $(date +%T)] $*" >&2; }

# The Debian mirror this host's apt uses (deb822 .sources first, then sources.list).
host_mirror() {
  sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | grep . ||
    awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || echo http://deb.debian.org/debian
}

if [[ -f $IMG/ready ]]; then
  echo "$IMG"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "image.sh: no cached guest image in $IMG and building one needs root" >&2
  exit 77
fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [[ -f $IMG/ready ]]; then
  echo "$IMG"
  exit 0
fi
T0=$(date +%s)
R=$IMG/root
rm -rf "$IMG"
mkdir -p "$R"
cleanup() {
  umount "$R/proc" 2>/dev/null || true
  rm -rf "$R"
}
trap cleanup EXIT

# Small initrd: only what finds the root disk.
mkdir -p "$R/etc/initramfs-tools/conf.d" "$R/etc/initramfs-tools/hooks"
echo MODULES=list >"$R/etc/initramfs-tools/conf.d/nookvm.conf"
cat >"$R/etc/initramfs-tools/hooks/nookvm" <<'EOF'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
force_load virtio_pci
force_load virtio_blk
force_load ext4
EOF
chmod 755 "$R/etc/initramfs-tools/hooks/nookvm"

# dpkg without fsync: the image is made from scratch or thrown away, and the fsyncs of ~200
# packages were most of debootstrap's 12 minutes on this shared host (3 minutes of CPU).
mkdir -p "$R/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$R/etc/dpkg/dpkg.cfg.d/nookvm-unsafe-io"

MIRROR=${NOOK_VM_MIRROR:-$(host_mirror)}
log "debootstrap $SUITE from $MIRROR into $R"
# The .debs are kept in $CACHE/debs: a recipe change rebuilds without downloading again (the
# download is most of a first build here: ~9 of 11 minutes).
mkdir -p "$CACHE/debs"
debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PKGS" "$SUITE" "$R" "$MIRROR" \
  >"$IMG/debootstrap.log" 2>&1 || {
  tail -20 "$IMG/debootstrap.log" >&2
  exit 1
}
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*_Packages
log "debootstrap done ($(($(date +%s) - T0)) s)"

echo nookvm >"$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 nookvm\n' >"$R/etc/hosts"
cat >"$R/etc/fstab" <<'EOF'
/dev/vda  /          ext4  rw,relatime                                        0 1
host      /mnt/host  9p    trans=virtio,version=9p2000.L,msize=262144,nofail  0 0
EOF
mkdir -p "$R/mnt/host"
chroot "$R" passwd -d root >/dev/null
# The unprivileged user: subuid/subgid ranges (Podman's user namespace) and lingering (its
# systemd --user instance runs from boot, so its user bus and delegated cgroup exist).
chroot "$R" useradd -m -u 1000 -s /bin/bash tester
echo 'tester:100000:65536' >"$R/etc/subuid"
echo 'tester:100000:65536' >"$R/etc/subgid"
mkdir -p "$R/var/lib/systemd/linger"
touch "$R/var/lib/systemd/linger/tester"
for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
  dpkg-db-backup.timer man-db.timer podman-auto-update.timer podman-auto-update.service \
  podman-restart.service systemd-networkd-wait-online.service; do
  ln -sf /dev/null "$R/etc/systemd/system/$t"
done
# containerd: started by the check that uses it (`systemctl start containerd`), not at boot,
# where it would only slow the other checks under emulation.
rm -f "$R/etc/systemd/system/multi-user.target.wants/containerd.service"
mkdir -p "$R/etc/systemd/user"
for t in podman-auto-update.timer podman-auto-update.service podman-restart.service; do
  ln -sf /dev/null "$R/etc/systemd/user/$t"
done
# The stage's entry point: started when the cmdline says systemd.wants=nookvm.service. It runs
# the checks the host shares at boot, then powers off whatever they did.
cat >"$R/usr/local/sbin/nookvm" <<'EOF'
#!/bin/bash
if ! mountpoint -q /mnt/host || [ ! -f /mnt/host/checks.sh ]; then
  echo "nookvm: no /mnt/host/checks.sh (9p share missing)" >/dev/ttyS0
else
  bash /mnt/host/checks.sh </dev/null
fi
sync
systemctl poweroff --no-block
EOF
chmod 755 "$R/usr/local/sbin/nookvm"
cat >"$R/etc/systemd/system/nookvm.service" <<'EOF'
[Unit]
Description=nook VM test stage (powers off when done)
Wants=user@1000.service
After=local-fs.target user@1000.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/nookvm
StandardOutput=journal+console
StandardError=journal+console
EOF
ln -sf /lib/systemd/system/multi-user.target "$R/etc/systemd/system/default.target"
# busybox: an OCI rootfs for the runtimes, and a tarball for `podman import`.
mkdir -p "$R/opt/rootfs/bin" "$R/opt/rootfs"/{proc,sys,dev,tmp,etc,root}
cp "$R/bin/busybox" "$R/opt/rootfs/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/opt/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/opt/rootfs/etc/passwd"
echo 'root:x:0:' >"$R/opt/rootfs/etc/group"
tar -C "$R/opt/rootfs" -cf "$R/opt/busybox.tar" .
log "update-initramfs"
mount -t proc proc "$R/proc"
chroot "$R" update-initramfs -u -k all >/dev/null 2>&1
umount "$R/proc"

cp -L "$R"/boot/vmlinuz-*-amd64 "$IMG/vmlinuz"
cp -L "$R"/boot/initrd.img-*-amd64 "$IMG/initrd.img"
log "mkfs.ext4 -d"
mkfs.ext4 -q -F -L root -d "$R" "$IMG/disk.img" 3G >&2  # stdout is the image path
rm -rf "$R"
trap - EXIT
echo "$(($(date +%s) - T0))" >"$IMG/build-seconds"
touch "$IMG/ready"
# Older images (other recipe hashes) are no longer used.
for d in "$CACHE"/*/; do
  [[ ${d%/} == "$IMG" || ${d%/} == "$CACHE/debs" ]] || rm -rf "${d%/}"
done
log "image ready in $(cat "$IMG/build-seconds") s: $IMG"
echo "$IMG"
