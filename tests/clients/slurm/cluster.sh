# cluster.sh - a throw-away one-node Slurm cluster on loopback, for tests.
#
# Sourced by run-tests.sh. Everything lives under $CLUSTER_DIR (its own munge key
# and socket, slurm.conf, oci.conf, spool, state, logs and ports), so it neither
# needs nor touches /etc/slurm, /etc/munge or a system slurmd. Must run as root:
# slurmd starts job steps as the job's user.
#
#   cluster_up DIR RUNTIME [OCI_CONF_TEMPLATE]   start munged, slurmctld, slurmd
#   cluster_down                                 stop them (safe to call twice)
#   cluster_dump_logs                            print the daemon logs to stderr
#
# After cluster_up: SLURM_CONF is exported, and CLUSTER_NODE, CLUSTER_RUNTIME,
# CLUSTER_STATE_ROOT (the runtime's --root parent; one directory per uid under it)
# and CLUSTER_RUNTIME_LOGS are set.
#
# Settings worth knowing:
# - ProctrackType=proctrack/pgid and TaskPlugin=task/none: no cgroup plugin, so
#   the cluster works in a container or on a host without delegated cgroups.
# - KillWait=5: the grace between SIGTERM and SIGKILL on scancel (default 30 s)
#   kept short so the scancel test is quick.

CLUSTER_PIDS=()

_cluster_log() { printf 'cluster: %s\n' "$*" >&2; }

# A TCP port nobody listens on, from the ephemeral-free range 20000-32000.
_cluster_free_port() {
	local port used
	used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 12000))
		if ! grep -qx "$port" <<<"$used"; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# _cluster_wait SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds.
_cluster_wait() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			_cluster_log "timed out after ${secs}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# _cluster_render TEMPLATE: oci.conf with the @...@ placeholders filled in.
_cluster_render() {
	sed -e "s|@RUNTIME@|$CLUSTER_RUNTIME|g" \
		-e "s|@STATE_ROOT@|$CLUSTER_STATE_ROOT|g" \
		-e "s|@LOG_DIR@|$CLUSTER_RUNTIME_LOGS|g" "$1"
}

cluster_up() {
	local dir=$1 runtime=$2 template=${3:-$(dirname "${BASH_SOURCE[0]}")/oci.conf.in}
	local d

	for d in munged slurmctld slurmd srun sbatch scancel squeue; do
		if ! command -v "$d" >/dev/null && [ ! -x "/usr/sbin/$d" ]; then
			_cluster_log "$d not found: install munge, slurmctld, slurmd and slurm-client"
			return 1
		fi
	done

	CLUSTER_DIR=$dir
	# Job users must reach the runtime copy, the spool (slurmstepd creates
	# per-step directories there owned by the user) and the state root.
	mkdir -p "$dir"/{etc,munge,state,spool,log,run,bin}
	chmod 755 "$dir"
	chmod 700 "$dir/munge"
	chmod 755 "$dir/spool" "$dir/bin"

	# The runtime under test, copied where every job user may execute it.
	CLUSTER_RUNTIME=$dir/bin/$(basename "$runtime")
	install -m 0755 "$runtime" "$CLUSTER_RUNTIME"
	CLUSTER_STATE_ROOT=$dir/runtime-state
	CLUSTER_RUNTIME_LOGS=$dir/runtime-log
	# Sticky and world-writable like /tmp: each job user's runtime creates its
	# own uid-named directory in it. In production this is e.g. /run/nook-slurm.
	install -d -m 1777 "$CLUSTER_STATE_ROOT" "$CLUSTER_RUNTIME_LOGS"

	CLUSTER_NODE=$(hostname -s)
	local ctld_port slurmd_port
	ctld_port=$(_cluster_free_port) || return 1
	slurmd_port=$(_cluster_free_port) || return 1
	while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(_cluster_free_port); done

	# munge: own key, socket, pid, log and seed files.
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
	chmod 400 "$dir/munge/munge.key"
	local sock=$dir/munge/munge.socket
	munged --force --key-file="$dir/munge/munge.key" --socket="$sock" \
		--pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
		--seed-file="$dir/munge/munged.seed" || {
		_cluster_log "munged failed to start"
		return 1
	}
	_cluster_wait 10 "munged pid file" test -s "$dir/munge/munged.pid" || return 1
	CLUSTER_PIDS+=("$(cat "$dir/munge/munged.pid")")
	# The socket directory is 0700 (munged insists it not be writable by
	# others); job users' clients and slurmstepd need to reach the socket.
	chmod 711 "$dir/munge"

	cat >"$dir/etc/slurm.conf" <<EOF
# one-node test cluster made by tests/clients/slurm/cluster.sh
ClusterName=nooktest
SlurmctldHost=$CLUSTER_NODE(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=debug
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
InactiveLimit=0
MinJobAge=300
NodeName=$CLUSTER_NODE NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
	# slurmstepd reads oci.conf from the directory of slurm.conf.
	_cluster_render "$template" >"$dir/etc/oci.conf"
	chmod -R a+rX "$dir/etc"
	export SLURM_CONF=$dir/etc/slurm.conf

	# Started from $dir: Slurm runs RunTimeQuery/Kill/Delete in slurmd's cwd.
	(cd "$dir" && exec slurmctld -D -i -f "$SLURM_CONF") >"$dir/log/slurmctld.out" 2>&1 </dev/null &
	CLUSTER_PIDS+=("$!")
	(cd "$dir" && exec slurmd -D -f "$SLURM_CONF" -N "$CLUSTER_NODE") >"$dir/log/slurmd.out" 2>&1 </dev/null &
	CLUSTER_PIDS+=("$!")

	_cluster_wait 30 "slurmctld to answer" scontrol ping || {
		cluster_dump_logs
		return 1
	}
	_cluster_wait 30 "node $CLUSTER_NODE to be idle" \
		sh -c "sinfo -h -n '$CLUSTER_NODE' -o %t | grep -qx idle" || {
		sinfo -N -l >&2
		cluster_dump_logs
		return 1
	}
	_cluster_log "up: $CLUSTER_NODE ctld:$ctld_port slurmd:$slurmd_port in $dir"
}

cluster_down() {
	local pid i
	# Reverse start order: slurmd, slurmctld, munged.
	for ((i = ${#CLUSTER_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${CLUSTER_PIDS[i]}
		kill -TERM "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	CLUSTER_PIDS=()
	# slurmstepd processes outlive slurmd; end those of this cluster only (their
	# environment names our slurm.conf).
	if [ -n "${CLUSTER_DIR:-}" ]; then
		for pid in $(pgrep -x slurmstepd 2>/dev/null); do
			if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
				grep -qx "SLURM_CONF=$CLUSTER_DIR/etc/slurm.conf"; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done
	fi
}

cluster_dump_logs() {
	local f
	for f in "$CLUSTER_DIR"/log/*; do
		[ -s "$f" ] || continue
		echo "----- $f (last 60 lines)" >&2
		tail -n 60 "$f" >&2
	done
}
