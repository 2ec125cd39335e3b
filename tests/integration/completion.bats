#!/usr/bin/env bats
# bash completion (issue 19, packaging/completion/nook.bash): the completion function driven
# the way bash drives it (COMP_WORDS, COMP_CWORD, then COMPREPLY), as the user the runtime runs
# as in this mode, against the runtime under test: verbs, flags, signal names, and the IDs of
# the containers in the --root given on the command line.

load ../lib/common

COMPLETION=$NOOK_REPO_DIR/packaging/completion/nook.bash

# complete WORDS...: the completions of the last word (may be ""), one per line, sorted.
complete_words() {
  as_user bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _nook
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMPLETION" "$@"
}

@test "completion: nook kill <TAB> lists the IDs of the containers in --root" {
  create_container c1
  create_container c2
  run complete_words "$NOOK_BIN" --root "$STATE_ROOT" kill ""
  assert_success
  assert_output "$(printf 'c1\nc2')"
  # a prefix narrows them; --root=VALUE works too; flags before the ID are skipped
  run complete_words "$NOOK_BIN" --root="$STATE_ROOT" kill c2
  assert_output c2
  run complete_words "$NOOK_BIN" --root "$STATE_ROOT" kill --all ""
  assert_output "$(printf 'c1\nc2')"
  # the second positional of kill is a signal
  run complete_words "$NOOK_BIN" --root "$STATE_ROOT" kill c1 KI
  assert_output KILL
  # every verb that takes an existing container does the same
  local verb
  for verb in delete events exec pause ps resume start state; do
    run complete_words "$NOOK_BIN" --root "$STATE_ROOT" "$verb" ""
    assert_output "$(printf 'c1\nc2')"
  done
  # run and create name a new container: nothing to offer
  run complete_words "$NOOK_BIN" --root "$STATE_ROOT" run ""
  assert_output ""
  # another --root, other containers: none there
  run complete_words "$NOOK_BIN" --root "$TEST_DIR/other-root" kill ""
  assert_output ""
}

@test "completion: verbs and flags come from the binary's --help" {
  run complete_words "$NOOK_BIN" ""
  assert_success
  local verbs
  verbs=$("$NOOK_BIN" --help | sed -n '/^Subcommands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}' | sort)
  [[ $(wc -l <<<"$verbs") -ge 13 ]]
  assert_output "$verbs"
  run complete_words "$NOOK_BIN" --root "$STATE_ROOT" ki
  assert_output kill
  run complete_words "$NOOK_BIN" kill --
  assert_output "$(printf -- '--all\n--help')"
  run complete_words "$NOOK_BIN" run --b
  assert_output --bundle
  run complete_words "$NOOK_BIN" --log-format ""
  assert_output "$(printf 'json\ntext')"
  # the values of global flags are not taken for the verb
  run complete_words "$NOOK_BIN" --log-format json --log "$TEST_DIR/log" -root "$STATE_ROOT" ki
  assert_output kill
  run complete_words "$NOOK_BIN" --ro
  assert_output "$(printf -- '--root\n--rootless')"
}
