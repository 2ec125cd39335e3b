#!/bin/bash
# The VM test stage (issue 15): boots the systemd + cgroup v2 guest of tests/vm/image.sh once
# under qemu (software emulation: no KVM needed), with the nook under test, tests/vm/checks.sh
# and an out/ directory shared over 9p; the guest runs the checks as root and as the lingering
# user "tester", for nook and for crun, and powers off. ctest's vm-boot test (the fixture of the
# per-check vm-* tests) is this script; tests/vm/result.sh reports one check.
#
#   NOOK=build/nook NOOK_VM_WORK=build/vm bash tests/vm/run.sh
#
# Environment: NOOK (the binary), NOOK_VM_WORK (work dir: share/, serial.log, the throwaway
# qcow2 layer), NOOK_VM_CACHE (image cache, default /var/cache/nook-vm), NOOK_VM_SMP (2),
# NOOK_VM_MEM (MiB, 2048), NOOK_VM_TIMEOUT (seconds for the boot and checks, 1700: under
# ctest's 2400), NOOK_VM_DEB_DIR (where package-deb left nook_*.deb: shared for the check "deb").
# Exit 77 (a ctest skip) with the reason when the host cannot run the stage.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NOOK=${NOOK:?NOOK must name the nook binary}
WORK=${NOOK_VM_WORK:-${TMPDIR:-/tmp}/nook-vm}
SMP=${NOOK_VM_SMP:-2}
MEM=${NOOK_VM_MEM:-2048}
TIMEOUT=${NOOK_VM_TIMEOUT:-1700}
log() { echo "[vm $(date +%T)] $*" >&2; }

for tool in qemu-system-x86_64 qemu-img; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool is not installed (apt-get install qemu-system-x86 qemu-utils)"
    exit 77
  fi
done
T0=$(date +%s)
rc=0
IMG=$(bash "$HERE/image.sh") || rc=$?
if ((rc == 77)); then
  echo "SKIP: no guest image cached and not root to build one"
  exit 77
fi
((rc == 0)) && [[ -f $IMG/ready ]] || { echo "guest image build failed ($IMG)"; exit 1; }
T1=$(date +%s)

rm -rf "$WORK"
mkdir -p "$WORK/share/out"
cp "$NOOK" "$WORK/share/nook"
cp "$HERE/checks.sh" "$WORK/share/checks.sh"
# The Debian package (tests/packaging/deb.sh, ctest package-deb), for the check "deb".
if [[ -n ${NOOK_VM_DEB_DIR:-} ]] && compgen -G "$NOOK_VM_DEB_DIR/nook_*.deb" >/dev/null; then
  cp "$NOOK_VM_DEB_DIR"/nook_*.deb "$WORK/share/"
fi
chmod -R a+rX "$WORK/share"
qemu-img create -q -f qcow2 -b "$IMG/disk.img" -F raw "$WORK/run.qcow2"
log "boot (TCG, -smp $SMP, -m $MEM; image $IMG, ready in $((T1 - T0)) s)"
# -accel tcg,thread=multi: one host thread per vCPU; cache=unsafe: the layer is thrown away.
timeout "$TIMEOUT" qemu-system-x86_64 \
  -accel tcg,thread=multi,tb-size=512 -cpu max -smp "$SMP" -m "$MEM" \
  -nographic -vga none -nic none -no-reboot \
  -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=false systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all systemd.wants=nookvm.service systemd.mask=serial-getty@ttyS0.service panic=-1" \
  -drive file="$WORK/run.qcow2",if=virtio,format=qcow2,cache=unsafe \
  -virtfs local,path="$WORK/share",mount_tag=host,security_model=none,id=host \
  </dev/null >"$WORK/serial.log" 2>&1 || rc=$?
rm -f "$WORK/run.qcow2"
T2=$(date +%s)
grep -a -E '^(RESULT|=====)' "$WORK/share/out/log.txt" 2>/dev/null || true
log "image $((T1 - T0)) s, boot + checks $((T2 - T1)) s, stage $((T2 - T0)) s"
echo "image_seconds=$((T1 - T0)) boot_and_checks_seconds=$((T2 - T1))" >"$WORK/share/out/timing.txt"
if ! grep -aq '===== nookvm done' "$WORK/share/out/log.txt" 2>/dev/null; then
  echo "the guest did not finish the checks (qemu exit $rc); last lines of $WORK/serial.log:"
  tail -40 "$WORK/serial.log"
  exit 1
fi
