#!/usr/bin/env bats
# Concurrency (issue 3): parallel lifecycles with distinct IDs, parallel operations on one
# ID (the per-container lock), and state polled as Buildah does while the program runs.

load ../lib/common

# cycle ID: create, start, wait for stopped, delete; the failing step's code (0 if none)
# goes to $TEST_DIR/rc.ID
cycle_steps() {
  local id=$1 i st out
  nook create --bundle "$BUNDLE" "$id" </dev/null >"$TEST_DIR/$id.out" 2>"$TEST_DIR/$id.err" || return 11
  nook start "$id" >>"$TEST_DIR/$id.out" 2>>"$TEST_DIR/$id.err" || return 12
  for ((i = 0; i < 300; i++)); do
    out=$(nook state "$id" 2>>"$TEST_DIR/$id.err") || return 13
    st=$(jq -r .status <<<"$out")
    [[ $st == stopped ]] && break
    sleep 0.1
  done
  [[ $st == stopped ]] || return 14
  nook delete "$id" >>"$TEST_DIR/$id.out" 2>>"$TEST_DIR/$id.err" || return 15
}
cycle() {
  local rc=0
  cycle_steps "$1" || rc=$?
  echo "$rc" >"$TEST_DIR/rc.$1"
}

# lister: `list --format json` in a loop until $TEST_DIR/stop-list exists; every failure
# or invalid JSON is recorded in $TEST_DIR/list-errors.
lister() {
  local out
  while [[ ! -e $TEST_DIR/stop-list ]]; do
    if ! out=$(nook list --format json 2>&1); then
      echo "list failed: $out" >>"$TEST_DIR/list-errors"
    elif ! jq -e 'type == "array" or . == null' <<<"$out" >/dev/null 2>&1; then
      echo "list printed invalid JSON: $out" >>"$TEST_DIR/list-errors"
    fi
    sleep 0.05
  done
}

@test "concurrency: parallel create/start/delete cycles with distinct IDs leave nothing behind" {
  local n=8 i pids=()
  set_args /probe sleep 0.3
  lister &
  local lister_pid=$!
  for ((i = 0; i < n; i++)); do
    cycle "par$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  touch "$TEST_DIR/stop-list"
  wait "$lister_pid" || true
  local bad=
  for ((i = 0; i < n; i++)); do
    local rc
    rc=$(cat "$TEST_DIR/rc.par$i" 2>/dev/null || echo missing)
    if [[ $rc != 0 ]]; then
      bad+="par$i: step code $rc: $(cat "$TEST_DIR/par$i.err")"$'\n'
    fi
  done
  [[ -z $bad ]] || { printf 'failed cycles:\n%s' "$bad" >&2; return 1; }
  [[ ! -s $TEST_DIR/list-errors ]] || { cat "$TEST_DIR/list-errors" >&2; return 1; }
  run nook list -q
  assert_success
  assert_output ""
  assert_state_root_empty
  assert_equal "$(pids_rooted_under "$ROOTFS")" "" "processes left"
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts left"
}

@test "concurrency: parallel creates of one ID leave exactly one container" {
  local n=8 i pids=()
  set_args /probe sleep 60
  for ((i = 0; i < n; i++)); do
    (
      rc=0
      nook create --bundle "$BUNDLE" same </dev/null >"$TEST_DIR/same$i.out" 2>"$TEST_DIR/same$i.err" || rc=$?
      echo "$rc" >"$TEST_DIR/rc.same$i"
    ) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  local ok=0
  for ((i = 0; i < n; i++)); do
    [[ $(cat "$TEST_DIR/rc.same$i") == 0 ]] && ok=$((ok + 1))
  done
  assert_equal "$ok" 1 "number of successful creates"
  run nook list -q
  assert_success
  assert_output "same"
  assert_equal "$(container_status same)" created "status"
  local pid
  pid=$(container_pid same)
  pid_alive "$pid"
  # the losers left no process behind: only the winner's waits in the rootfs
  assert_equal "$(pids_rooted_under "$ROOTFS" | xargs)" "$pid" "processes in the rootfs"
  run nook delete --force same
  assert_success
  wait_pid_gone "$pid" 5
  assert_state_root_empty
  assert_equal "$(pids_rooted_under "$ROOTFS")" "" "processes left"
  assert_equal "$(host_mounts_under "$TEST_DIR")" "" "host mounts left"
}

@test "concurrency: parallel starts of one container start it exactly once" {
  local n=5 i pids=()
  set_args sh -c 'echo started >>/tmp/starts; exec /probe sleep 60'
  create_container once
  for ((i = 0; i < n; i++)); do
    (
      rc=0
      nook start once >"$TEST_DIR/start$i.out" 2>&1 || rc=$?
      echo "$rc" >"$TEST_DIR/rc.start$i"
    ) &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  local ok=0
  for ((i = 0; i < n; i++)); do
    [[ $(cat "$TEST_DIR/rc.start$i") == 0 ]] && ok=$((ok + 1))
  done
  assert_equal "$ok" 1 "number of successful starts"
  wait_for_file "$ROOTFS/tmp/starts"
  sleep 0.3
  assert_equal "$(wc -l <"$ROOTFS/tmp/starts")" 1 "times the program ran"
  assert_equal "$(container_status once)" running "status"
}

@test "concurrency: parallel delete --force of one running container" {
  local n=5 i pids=()
  set_args /probe sleep 60
  create_container victim
  run nook start victim
  assert_success
  local pid
  pid=$(container_pid victim)
  for ((i = 0; i < n; i++)); do
    nook delete --force victim >"$TEST_DIR/del$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  assert_no_container victim
  wait_pid_gone "$pid" 5
  assert_state_root_empty
}

@test "concurrency: state polled every 100 ms reports created, running, stopped only" {
  # The program runs until told to stop, once the poller has seen it running a few times,
  # so a slow machine cannot make the running phase fall between two polls.
  set_args sh -c 'while [ ! -e /tmp/go ]; do /probe sleep 0.05; done; exit 0'
  create_container poll
  local log=$TEST_DIR/poll.log
  (
    stopped=0
    for ((i = 0; i < 400 && stopped < 5; i++)); do
      if out=$(nook state poll 2>&1); then
        st=$(jq -r .status <<<"$out" 2>/dev/null) || st="invalid-json:$out"
      else
        st="error:$out"
      fi
      echo "$st" >>"$log"
      [[ $st == stopped ]] && stopped=$((stopped + 1))
      sleep 0.1
    done
  ) &
  local poller=$!
  sleep 0.5
  run nook start poll
  assert_success
  local i
  for ((i = 0; i < 300; i++)); do
    [[ $(grep -c '^running$' "$log") -ge 3 ]] && break
    grep -q '^stopped$' "$log" && break
    sleep 0.1
  done
  touch "$ROOTFS/tmp/go"
  wait "$poller"
  local seq
  seq=$(uniq <"$log" | xargs)
  if [[ $seq != "created running stopped" ]]; then
    echo "status sequence: $seq" >&2
    echo "full log:" >&2
    cat "$log" >&2
    return 1
  fi
}
