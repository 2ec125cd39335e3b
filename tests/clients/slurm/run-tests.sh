#!/bin/bash
# run-tests.sh - Slurm (srun/sbatch --container) against the runtime in $NOOK.
#
#   NOOK=/path/to/nook tests/clients/slurm/run-tests.sh [DEFAULT_RUNTIME]
#
# Sets up munge and a one-node Slurm cluster on loopback (cluster.sh) whose
# oci.conf is oci.conf.in - the configuration docs/slurm.md documents - pointing
# at a copy of the runtime, then runs every case as root and as an unprivileged
# user with no /etc/subuid entry, on a plain bundle (make-bundle.sh: busybox, the
# config.json of `runc spec`, no user namespace). Tears everything down on exit.
# Must run as root. Fails, not skips, when Slurm or munge is missing.
#
# Environment:
#   NOOK                 runtime under test (else the first argument)
#   SLURM_TEST_WHO       root, user or both: who submits the jobs [both]
#   SLURM_TEST_MODE      run (oci.conf.in, the documented configuration) or
#                        createstart (oci.conf.createstart.in, Slurm's other
#                        mode, with fewer cases: what it cannot do is not tested)
#   SLURM_TEST_USER      unprivileged job user, created if missing [nookslurm]
#   SLURM_TEST_ONLY      run only cases whose "who:case" name matches this regex
#   SLURM_TEST_ROOTLESS_BUNDLE=1
#                        give the unprivileged user a bundle with a user
#                        namespace mapping its uid to 0 (what runc needs); only
#                        for checking the tests themselves against runc
#   SLURM_TEST_TRACE=1   log every runtime invocation (uid, cwd, argv) to
#                        $dir/trace.log through a wrapper, printed on failure
#   SLURM_TEST_BUNDLE_JQ a jq filter applied to both bundles' config.json, for
#                        diagnosis only (the tests are meant for the plain bundle)
#   SLURM_TEST_KEEP=1    keep the temporary directory for inspection
#   SLURM_TEST_OCI_CONF  another oci.conf template (same @...@ placeholders), to
#                        compare modes, e.g. create/start
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cluster.sh
source "$here/cluster.sh"

runtime=${NOOK:-${1:-}}
job_user=${SLURM_TEST_USER:-nookslurm}
mode=${SLURM_TEST_MODE:-run}
case $mode in
run | createstart) ;;
*) echo "slurm tests: SLURM_TEST_MODE must be run or createstart" >&2; exit 1 ;;
esac
case ${SLURM_TEST_WHO:-both} in
root) submitters=(root) ;;
user) submitters=("$job_user") ;;
both) submitters=(root "$job_user") ;;
*) echo "slurm tests: SLURM_TEST_WHO must be root, user or both" >&2; exit 1 ;;
esac

die() {
	echo "slurm tests: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (slurmd starts steps as the job user)"
[ -n "$runtime" ] || die "set NOOK to the runtime under test"
[ -x "$runtime" ] || die "runtime $runtime is not executable"
runtime=$(readlink -f "$runtime")
for cmd in munged slurmctld slurmd srun sbatch scancel squeue scontrol sinfo; do
	command -v "$cmd" >/dev/null ||
		die "$cmd not found: install the packages in scripts/test-packages.txt (munge slurmctld slurmd slurm-client busybox-static)"
done
[ -x /bin/busybox ] || die "/bin/busybox not found: install busybox-static"

tmp=$(mktemp -d /tmp/nook-slurm.XXXXXX) || die "mktemp failed"
chmod 755 "$tmp"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	cluster_down
	delete_leftovers
	kill_leftovers
	if [ "${SLURM_TEST_KEEP:-}" = 1 ]; then
		echo "slurm tests: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Containers a failed case left in the runtime's state: delete them with the
# runtime itself (as root, as Slurm would).
runtime_copy=
delete_leftovers() {
	local d
	[ -n "$runtime_copy" ] && [ -d "${CLUSTER_STATE_ROOT:-}" ] || return 0
	for d in "$CLUSTER_STATE_ROOT"/*/*; do
		[ -d "$d" ] || continue
		echo "slurm tests: deleting leftover container $d" >&2
		timeout 20 "$runtime_copy" --root="$(dirname "$d")" delete --force "$(basename "$d")" >&2
	done
}

# Processes a failed scancel case may leave behind are marked by a unique sleep
# argument; end those (by pid) so a failure does not leak them.
marks=()
kill_leftovers() {
	local m pid
	for m in "${marks[@]}"; do
		for pid in $(pgrep -f "^sleep $m\$"); do kill -KILL "$pid" 2>/dev/null; done
	done
}

# --- the job user: unprivileged, no subordinate IDs --------------------------
if ! id "$job_user" >/dev/null 2>&1; then
	useradd -m -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$job_user" ||
		die "useradd $job_user failed"
fi
if grep -qs "^$job_user:" /etc/subuid /etc/subgid; then
	die "$job_user has an /etc/subuid or /etc/subgid entry; these tests need a user without one"
fi

# --- bundles: one per job user (runtimes create mount points such as /tmp/slurm
# in the rootfs, owned by whoever ran the container first) ---------------------
"$here/make-bundle.sh" "$tmp/bundles/root" || die "make-bundle.sh failed"
if [ "${SLURM_TEST_ROOTLESS_BUNDLE:-}" = 1 ]; then
	"$here/make-bundle.sh" "$tmp/bundles/$job_user" --userns "$(id -u "$job_user")" "$(id -g "$job_user")" ||
		die "make-bundle.sh failed"
else
	"$here/make-bundle.sh" "$tmp/bundles/$job_user" || die "make-bundle.sh failed"
fi
if [ -n "${SLURM_TEST_BUNDLE_JQ:-}" ]; then
	# Diagnosis: rewrite both bundles' config.json, e.g. to drop a mount that
	# fails and see what fails behind it.
	for b in "$tmp/bundles/root" "$tmp/bundles/$job_user"; do
		jq "$SLURM_TEST_BUNDLE_JQ" "$b/config.json" >"$b/config.json.new" &&
			mv "$b/config.json.new" "$b/config.json" || die "jq $SLURM_TEST_BUNDLE_JQ failed"
		chmod 644 "$b/config.json"
	done
fi
chmod 755 "$tmp/bundles"
# Jobs start in the submit directory: one every job user may enter and write.
install -d -m 1777 "$tmp/work"

# --- the cluster --------------------------------------------------------------
case $mode in
run) oci_template=${SLURM_TEST_OCI_CONF:-$here/oci.conf.in} ;;
createstart) oci_template=${SLURM_TEST_OCI_CONF:-$here/oci.conf.createstart.in} ;;
esac
if [ "${SLURM_TEST_TRACE:-}" = 1 ]; then
	# Same oci.conf, but the runtime path is a wrapper that logs and execs.
	wrapper=$tmp/trace-runtime
	cat >"$wrapper" <<EOF
#!/bin/sh
echo "\$(date +%T.%N) uid=\$(id -u) cwd=\$(pwd) argv: $runtime \$*" >>$tmp/trace.log
exec $runtime "\$@"
EOF
	chmod 755 "$wrapper"
	: >"$tmp/trace.log"
	chmod 666 "$tmp/trace.log"
	cluster_runtime=$wrapper
else
	cluster_runtime=$runtime
fi
cluster_up "$tmp/cluster" "$cluster_runtime" "$oci_template" || die "cluster set-up failed"
runtime_copy=$CLUSTER_RUNTIME
if [ "${SLURM_TEST_TRACE:-}" = 1 ]; then
	# The wrapper was copied; make it exec the real runtime (its own copy).
	install -m 0755 "$runtime" "$CLUSTER_DIR/bin/runtime-under-test"
	sed -i "s|exec $runtime|exec $CLUSTER_DIR/bin/runtime-under-test|" "$runtime_copy"
	runtime_copy=$CLUSTER_DIR/bin/runtime-under-test
fi
echo "slurm tests: mode $mode, runtime $runtime ($("$runtime" --version 2>&1 | head -n 1))"
echo "slurm tests: oci.conf:"
grep -v '^#' "$CLUSTER_DIR/etc/oci.conf" | sed 's/^/    /'

# --- helpers ------------------------------------------------------------------
passed=0 failed=0 failures=()
who= bundle= case_name= case_ok=

# as_job CMD...: run CMD as the current job user, in the shared work directory.
as_job() {
	if [ "$who" = root ]; then
		(cd "$tmp/work" && "$@")
	else
		(cd "$tmp/work" && runuser -u "$who" -- env SLURM_CONF="$SLURM_CONF" "$@")
	fi
}

fail() {
	echo "    FAIL: $*"
	case_ok=0
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
}

# expect_grep WHAT REGEX FILE
expect_grep() {
	grep -qE -- "$2" "$3" || fail "$1: no line matching [$2] in $(basename "$3"): [$(head -c 400 "$3" | tr '\n' '|')]"
}

expect_no_grep() {
	! grep -qE -- "$2" "$3" || fail "$1: unexpected line matching [$2] in $(basename "$3")"
}

state_dir() { echo "$CLUSTER_STATE_ROOT/$who"; }
container_id() {
	local step=$2
	# Slurm prints the batch step's ID (SLURM_BATCH_SCRIPT) as an unsigned number.
	[ "$step" = batch ] && step=4294967291
	echo "$CLUSTER_NODE.$who.$1.$step.0"
}

# expect_container_gone JOB STEP: the runtime no longer knows the container and
# its state directory is gone (Slurm's clean-up runs after srun returns; allow a
# few seconds).
expect_container_gone() {
	local id dir deadline
	id=$(container_id "$1" "$2")
	dir=$(state_dir)/$id
	deadline=$((SECONDS + 15))
	while [ -e "$dir" ] && ((SECONDS < deadline)); do sleep 0.2; done
	[ ! -e "$dir" ] || fail "state directory $dir still exists"
	if "$runtime_copy" --root="$(state_dir)" state "$id" >"$tmp/state.out" 2>&1; then
		fail "'runtime state $id' still succeeds: $(tr '\n' ' ' <"$tmp/state.out")"
	fi
}

# last_job_id FILE: the job ID from srun -v's "jobid N:" line.
job_id_from() { sed -n 's/^srun: jobid \([0-9]*\):.*/\1/p' "$1" | head -n 1; }

run_case() {
	case_name=$1
	local full="$who:$case_name" t0=$SECONDS
	if [ -n "${SLURM_TEST_ONLY:-}" ] && ! [[ $full =~ ${SLURM_TEST_ONLY} ]]; then
		return
	fi
	echo "--- $full"
	case_ok=1
	touch "$tmp/case-start"
	out=$tmp/out.$who.$case_name err=$tmp/err.$who.$case_name
	"case_$case_name"
	if [ "$case_ok" = 1 ]; then
		echo "    ok ($((SECONDS - t0))s)"
		passed=$((passed + 1))
	else
		failures+=("$full")
		failed=$((failed + 1))
		for f in "$out" "$err"; do
			[ -s "$f" ] && { echo "    ----- $(basename "$f")"; head -n 20 "$f" | sed 's/^/    | /'; }
		done
		# The runtime's --log files of this case's containers.
		find "$CLUSTER_RUNTIME_LOGS" -type f -size +0 -newer "$tmp/case-start" | sort |
			while read -r f; do
				echo "    ----- runtime --log $(basename "$f")"
				tail -n 10 "$f" | sed 's/^/    | /'
			done
	fi
}

# --- cases --------------------------------------------------------------------

# The command runs in the bundle's rootfs; its exit code reaches srun.
case_exit_code() {
	as_job timeout 60 srun -v --container="$bundle" \
		sh -c 'cat /etc/nook-slurm-bundle; exit 42' >"$out" 2>"$err"
	expect_eq "srun exit code" 42 "$?"
	expect_grep "ran in the bundle" '^nook-slurm-bundle$' "$out"
	local job
	job=$(job_id_from "$err")
	[ -n "$job" ] && expect_container_gone "$job" 0
}

# stdout and stderr arrive on srun's stdout and stderr, not mixed.
case_stdout_stderr() {
	as_job timeout 60 srun --container="$bundle" \
		sh -c 'echo to-stdout; echo to-stderr >&2; echo to-stdout-2' >"$out" 2>"$err"
	expect_eq "srun exit code" 0 "$?"
	expect_eq "stdout" "$(printf 'to-stdout\nto-stdout-2')" "$(cat "$out")"
	# Exactly: neither srun (the step succeeded) nor the runtime (its messages go
	# to --log) may add anything to the job's stderr.
	expect_eq "stderr" "to-stderr" "$(cat "$err")"
}

# srun's stdin reaches the container's stdin, and its end (EOF) too.
case_stdin() {
	printf 'line one\nline two\n' |
		as_job timeout 60 srun --container="$bundle" sh -c 'sed "s/^/got: /"; echo eof' >"$out" 2>"$err"
	expect_eq "srun exit code" 0 "$?"
	expect_eq "stdout" "$(printf 'got: line one\ngot: line two\neof')" "$(cat "$out")"
}

# The job's environment (SLURM_JOB_ID and friends, and the submitter's own
# variables, whatever their characters) is visible inside.
case_environment() {
	local odd='two  spaces "quoted" $dollar \back'"'"'slash'"'"' tab	é'
	as_job env NOOK_SLURM_ODD="$odd" timeout 60 srun -v --container="$bundle" \
		sh -c 'echo "job=$SLURM_JOB_ID step=$SLURM_STEP_ID user=$SLURM_JOB_USER"; printf "%s\n" "$NOOK_SLURM_ODD"' \
		>"$out" 2>"$err"
	expect_eq "srun exit code" 0 "$?"
	local job
	job=$(job_id_from "$err")
	[ -n "$job" ] || fail "no job ID in srun -v output"
	expect_eq "environment" "job=$job step=0 user=$who" "$(head -n 1 "$out")"
	expect_eq "submitter's variable" "$odd" "$(sed -n 2p "$out")"
}

# A megabyte of output arrives whole, also when the container exits right after
# writing it.
case_big_output() {
	as_job timeout 60 srun --container="$bundle" \
		sh -c 'head -c 1000000 /dev/zero | tr "\0" x; echo; echo end' >"$out" 2>"$err"
	expect_eq "srun exit code" 0 "$?"
	expect_eq "bytes" 1000005 "$(wc -c <"$out")"
	expect_eq "last line" end "$(tail -n 1 "$out")"
}

# A signal sent to the step (scancel -s USR1) reaches the container's process 1.
case_signal() {
	local mark=$((100000 + RANDOM)) job pid deadline
	marks+=("$mark")
	as_job srun -v --container="$bundle" \
		sh -c "trap 'echo got-USR1; kill \$!; exit 0' USR1; sleep $mark & wait" >"$out" 2>"$err" &
	pid=$!
	deadline=$((SECONDS + 60))
	until (($(pgrep -c -f "^sleep $mark\$") >= 1)) || ! kill -0 "$pid" 2>/dev/null ||
		((SECONDS >= deadline)); do
		sleep 0.2
	done
	job=$(job_id_from "$err")
	[ -n "$job" ] || { fail "container never started"; kill "$pid" 2>/dev/null; wait "$pid"; return; }
	sleep 0.5
	scancel -s USR1 "$job"
	deadline=$((SECONDS + 20))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		fail "step still running 20s after scancel -s USR1"
		scancel "$job"
	fi
	wait "$pid"
	expect_eq "srun exit code" 0 "$?"
	expect_eq "stdout" got-USR1 "$(cat "$out")"
}

# Inside, the job runs as root of the container; outside, as the job user. For
# an unprivileged user with a plain bundle the runtime had to make the user
# namespace itself, mapping just the user's own uid.
case_identity() {
	as_job timeout 60 srun --container="$bundle" \
		sh -c 'echo "uid=$(id -u)"; cat /proc/self/uid_map' >"$out" 2>"$err"
	expect_eq "srun exit code" 0 "$?"
	expect_eq "uid inside" "uid=0" "$(head -n 1 "$out")"
	if [ "$who" != root ]; then
		expect_eq "uid_map inside" "0 $(id -u "$who") 1" "$(sed -n 2p "$out" | tr -s ' ' | sed 's/^ //')"
	fi
}

# sbatch_wait SBATCH_ARGS...: submit a batch job as the job user and wait for it
# to end; sets job and job_rc (the batch script's exit code). Polls the job's
# state instead of `sbatch --wait`, whose back-off adds up to 10 s per job.
sbatch_wait() {
	local info state deadline
	job= job_rc=
	job=$(as_job sbatch --parsable "$@" 2>"$err") || {
		fail "sbatch failed: $(tr '\n' ' ' <"$err")"
		return 1
	}
	job=${job%%;*}
	deadline=$((SECONDS + 90))
	while :; do
		info=$(scontrol -o show job "$job" 2>/dev/null)
		state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$info")
		case $state in
		COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED) break ;;
		esac
		if ((SECONDS >= deadline)); then
			fail "job $job not finished after 90s (state $state)"
			return 1
		fi
		sleep 0.3
	done
	job_rc=$(sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p' <<<"$info")
}

# A batch job whose step runs in a container; the step's exit code reaches the
# batch script.
case_sbatch_step() {
	cat >"$tmp/work/step.$who.sh" <<EOF
#!/bin/sh
srun --container='$bundle' sh -c 'cat /etc/nook-slurm-bundle; echo "job=\$SLURM_JOB_ID"; exit 42'
echo "step-rc=\$?"
EOF
	chmod 755 "$tmp/work/step.$who.sh"
	local job job_rc
	sbatch_wait -o "$tmp/work/step.$who.%j.out" "$tmp/work/step.$who.sh" || return
	expect_eq "batch job exit code" 0 "$job_rc"
	cp "$tmp/work/step.$who.$job.out" "$out" 2>/dev/null
	expect_grep "ran in the bundle" '^nook-slurm-bundle$' "$out"
	expect_grep "SLURM_JOB_ID inside" "^job=$job\$" "$out"
	expect_grep "step exit code" '^step-rc=42$' "$out"
	expect_container_gone "$job" 0
}

# Two container steps of one job at the same time (same user, same state
# directory), each with its own exit code.
case_parallel_steps() {
	cat >"$tmp/work/par.$who.sh" <<EOF
#!/bin/sh
srun -n1 --exact --container='$bundle' sh -c 'sleep 2; echo step-a; exit 3' &
a=\$!
srun -n1 --exact --container='$bundle' sh -c 'sleep 2; echo step-b; exit 4' &
b=\$!
wait \$a; echo "rc-a=\$?"
wait \$b; echo "rc-b=\$?"
EOF
	chmod 755 "$tmp/work/par.$who.sh"
	local job job_rc l
	sbatch_wait -n2 -o "$tmp/work/par.$who.%j.out" "$tmp/work/par.$who.sh" || return
	expect_eq "batch job exit code" 0 "$job_rc"
	cp "$tmp/work/par.$who.$job.out" "$out" 2>/dev/null
	for l in step-a step-b rc-a=3 rc-b=4; do expect_grep "output" "^$l\$" "$out"; done
	expect_container_gone "$job" 0
	expect_container_gone "$job" 1
}

# The batch script itself runs in the container (sbatch --container); its exit
# code is the job's and its stdout and stderr go to -o and -e.
case_sbatch_container() {
	cat >"$tmp/work/batch.$who.sh" <<'EOF'
#!/bin/sh
cat /etc/nook-slurm-bundle
echo "job=$SLURM_JOB_ID"
echo to-stderr >&2
exit 42
EOF
	chmod 755 "$tmp/work/batch.$who.sh"
	local job job_rc
	sbatch_wait --container="$bundle" -o "$tmp/work/batch.$who.%j.out" \
		-e "$tmp/work/batch.$who.%j.err" "$tmp/work/batch.$who.sh" || return
	expect_eq "batch job exit code" 42 "$job_rc"
	cp "$tmp/work/batch.$who.$job.out" "$out" 2>/dev/null
	cat "$tmp/work/batch.$who.$job.err" >>"$err" 2>/dev/null
	expect_grep "ran in the bundle" '^nook-slurm-bundle$' "$out"
	expect_grep "SLURM_JOB_ID inside" "^job=$job\$" "$out"
	expect_no_grep "stdout" 'to-stderr' "$out"
	expect_grep "stderr" '^to-stderr$' "$err"
	expect_container_gone "$job" batch
}

# scancel of a step whose processes all ignore SIGTERM: srun returns promptly
# (Slurm's KillWait is 5 s here), every process of the container is gone and the
# runtime's state is removed.
case_scancel() {
	local mark=$((100000 + RANDOM)) name="scancel-$who-$RANDOM" job pid t0 deadline
	marks+=("$mark")
	as_job srun -v --job-name="$name" --container="$bundle" \
		sh -c "trap '' TERM; sleep $mark & echo ready; sleep $mark; wait" >"$out" 2>"$err" &
	pid=$!
	# Started when both sleeps run (their output may not reach srun: createstart).
	deadline=$((SECONDS + 60))
	until (($(pgrep -c -f "^sleep $mark\$") >= 2)) || ! kill -0 "$pid" 2>/dev/null ||
		((SECONDS >= deadline)); do
		sleep 0.2
	done
	if (($(pgrep -c -f "^sleep $mark\$") < 2)); then
		fail "container never started"
		kill "$pid" 2>/dev/null
		wait "$pid"
		return
	fi
	job=$(job_id_from "$err")
	[ -n "$job" ] || job=$(squeue -h -n "$name" -o %i | head -n 1)
	local p owner
	for p in $(pgrep -f "^sleep $mark\$"); do
		owner=$(ps -o user= -p "$p")
		[ "$owner" = "$who" ] || fail "container process $p runs as host user $owner, not $who"
	done
	[ -n "$(pgrep -f "^sleep $mark\$")" ] || fail "marker processes not found before scancel"
	t0=$SECONDS
	scancel "$job"
	# KillWait (5 s) plus Slurm's own polling: 30 s is generous, not a hang.
	deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		fail "srun still running $((SECONDS - t0))s after scancel ($(squeue -h -j "$job" -o '%T %r' 2>/dev/null))"
		kill -KILL "$pid" 2>/dev/null
	else
		echo "    srun returned $((SECONDS - t0))s after scancel"
	fi
	wait "$pid" 2>/dev/null
	# Slurm's clean-up (state, kill -a, delete --force) runs as the step ends.
	deadline=$((SECONDS + 15))
	while [ -n "$(pgrep -f "^sleep $mark\$")" ] && ((SECONDS < deadline)); do sleep 0.2; done
	local left
	left=$(pgrep -f "^sleep $mark\$" | tr '\n' ' ')
	[ -z "$left" ] || fail "container processes still running after scancel: pids $left"
	expect_container_gone "$job" 0
	deadline=$((SECONDS + 20))
	while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ] && ((SECONDS < deadline)); do sleep 0.5; done
	[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || fail "job $job still in squeue: $(squeue -h -j "$job" -o '%T %r')"
}

# scancel of a step that handles SIGTERM: the runtime forwards Slurm's SIGTERM
# to the container, whose handler's output still reaches srun.
case_scancel_graceful() {
	local mark=$((100000 + RANDOM)) job pid deadline
	marks+=("$mark")
	as_job srun -v --container="$bundle" \
		sh -c "trap 'echo got-TERM; kill \$!; exit 7' TERM; echo ready; sleep $mark & wait" >"$out" 2>"$err" &
	pid=$!
	deadline=$((SECONDS + 60))
	until grep -q '^ready$' "$out" || ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); do
		sleep 0.2
	done
	grep -q '^ready$' "$out" || { fail "container never started"; kill "$pid" 2>/dev/null; wait "$pid"; return; }
	sleep 0.5
	job=$(job_id_from "$err")
	scancel "$job"
	deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	kill -0 "$pid" 2>/dev/null && { fail "srun still running 30s after scancel"; kill -KILL "$pid"; }
	wait "$pid" 2>/dev/null
	expect_grep "SIGTERM handler ran" '^got-TERM$' "$out"
	[ -z "$(pgrep -f "^sleep $mark\$")" ] || fail "container processes still running after scancel"
	expect_container_gone "$job" 0
}

# Last: nothing of this user's is left in the runtime's state directory.
case_no_leftovers() {
	local left
	left=$(ls -A "$(state_dir)" 2>/dev/null | tr '\n' ' ')
	[ -z "$left" ] || fail "containers left in $(state_dir): $left"
}

# createstart mode: the step runs, to the end, without deadlock; its output is
# in the file RunTimeCreate redirects to. (Slurm 22.05 loses the exit status in
# this mode, so it is not checked.)
case_createstart_runs() {
	as_job timeout 40 srun -v --container="$bundle" \
		sh -c 'cat /etc/nook-slurm-bundle; echo "job=$SLURM_JOB_ID"; exit 42' >"$out" 2>"$err"
	local rc=$? job
	[ "$rc" != 124 ] || fail "srun still running after 40s (deadlock on create's output pipe?)"
	echo "    srun exit code $rc (Slurm 22.05 reports start's status in this mode)"
	job=$(job_id_from "$err")
	[ -n "$job" ] || { fail "no job ID in srun -v output"; return; }
	local cout=$CLUSTER_RUNTIME_LOGS/$(container_id "$job" 0).out
	if [ -f "$cout" ]; then
		expect_grep "ran in the bundle" '^nook-slurm-bundle$' "$cout"
		expect_grep "SLURM_JOB_ID inside" "^job=$job\$" "$cout"
	else
		fail "no container output file $cout"
	fi
	expect_container_gone "$job" 0
}

case $mode in
run) cases=(exit_code stdout_stderr stdin environment big_output signal identity sbatch_step parallel_steps sbatch_container scancel scancel_graceful no_leftovers) ;;
createstart) cases=(createstart_runs scancel no_leftovers) ;;
esac

for who in "${submitters[@]}"; do
	bundle=$tmp/bundles/$who
	for c in "${cases[@]}"; do run_case "$c"; done
done

echo
echo "slurm tests: $passed passed, $failed failed"
if ((failed > 0)); then
	printf '    failed: %s\n' "${failures[@]}"
	if [ "${SLURM_TEST_TRACE:-}" = 1 ] && [ -s "$tmp/trace.log" ]; then
		echo "----- runtime invocations (trace.log, last 60)"
		tail -n 60 "$tmp/trace.log"
	fi
	echo "----- slurmd.log (errors)"
	grep -E 'error|fatal' "$CLUSTER_DIR/log/slurmd.log" | grep -v -E 'pmix|PMIx' | tail -n 30
	exit 1
fi
exit 0
