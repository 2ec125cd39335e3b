#!/bin/bash
# make-bundle.sh DIR [--userns UID GID]
#
# Builds a plain OCI bundle in DIR: a busybox rootfs (Debian's busybox-static,
# applets installed as symlinks with `busybox --install -s`) and the config.json
# that `runc spec` writes (runc 1.1.5), with terminal off. The config has no user
# namespace and no ID mappings: it is the bundle an HPC user would hand to Slurm,
# and the one runc cannot run for an unprivileged user.
#
# Run as root. Everything is owned by root and world-readable, so any job user can
# read it; /tmp in the rootfs is 1777 as in any distribution image, so a runtime
# can create mount points under it (Slurm bind-mounts /tmp/slurm/* for batch
# steps).
#
# --userns UID GID writes instead what `runc spec --rootless` writes, with container
# root mapped to host UID/GID: the specially prepared bundle runc needs to run for
# an unprivileged user (user namespace, no network namespace, no device cgroup
# rule, /sys bound instead of mounted, no gid= for devpts). The tests use it only
# to check themselves against runc; nook must run the plain bundle.
set -euo pipefail

dir=${1:?usage: make-bundle.sh DIR [--userns UID GID]}
userns_uid= userns_gid=
if [ "${2:-}" = --userns ]; then
	userns_uid=${3:?--userns needs UID GID}
	userns_gid=${4:?--userns needs UID GID}
fi
busybox=${BUSYBOX:-/bin/busybox}

# The rootfs has no libraries: busybox must be the static build.
if ldd "$busybox" >/dev/null 2>&1; then
	echo "make-bundle.sh: $busybox is dynamically linked (install busybox-static)" >&2
	exit 1
fi

rootfs=$dir/rootfs
mkdir -p "$rootfs"
for d in bin sbin usr/bin usr/sbin etc proc sys dev root var; do
	mkdir -p "$rootfs/$d"
done
install -d -m 1777 "$rootfs/tmp"
install -m 0755 "$busybox" "$rootfs/bin/busybox"
# `busybox --install -s` links every applet into /bin, /sbin, /usr/bin and /usr/sbin
# of the root it runs in, so run it chrooted into the new rootfs.
chroot "$rootfs" /bin/busybox --install -s

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
# A file only this bundle has: proof that a job really ran inside it.
echo "nook-slurm-bundle" >"$rootfs/etc/nook-slurm-bundle"

if [ -z "$userns_uid" ]; then
	devpts_gid=',
				"gid=5"'
	sys_mount='"type": "sysfs",
			"source": "sysfs",
			"options": ['
	resources='"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},'
	namespaces='{
				"type": "pid"
			},
			{
				"type": "network"
			},'
else
	devpts_gid=
	sys_mount='"type": "none",
			"source": "/sys",
			"options": [
				"rbind",'
	resources='"uidMappings": [
			{
				"containerID": 0,
				"hostID": '"$userns_uid"',
				"size": 1
			}
		],
		"gidMappings": [
			{
				"containerID": 0,
				"hostID": '"$userns_gid"',
				"size": 1
			}
		],'
	namespaces='{
				"type": "pid"
			},'
fi

cat >"$dir/config.json" <<EOF
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": false,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620"$devpts_gid
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			$sys_mount
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		$resources
		"namespaces": [
			$namespaces
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}$( [ -n "$userns_uid" ] && printf ',\n\t\t\t{\n\t\t\t\t"type": "user"\n\t\t\t}')
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}
EOF

chmod -R a+rX "$dir"
