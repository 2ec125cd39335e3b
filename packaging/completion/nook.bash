# bash completion for nook: verbs, flags and container IDs, all read from the binary being
# completed (`nook --help`, `nook VERB --help`, `nook --root R list -q`), so they cannot drift
# from it. Self-contained (compgen only): works with or without the bash-completion package.
# Installed as share/bash-completion/completions/nook; tests/integration/completion.bats
# drives it.

# _nook_help NOOK [VERB]: the --help text, cached per binary and verb for the shell's life.
_nook_help() {
  local key="$1 ${2:-}"
  key=${key//[^A-Za-z0-9]/_}
  local var="_nook_help_cache_$key"
  if [[ -z ${!var+set} ]]; then
    local text
    # shellcheck disable=SC2086
    text=$("$1" ${2:+"$2"} --help 2>/dev/null)
    printf -v "$var" '%s' "$text"
  fi
  printf '%s\n' "${!var}"
}

# _nook_flags HELP_TEXT: every -x and --long flag of an "Options:" block.
_nook_flags() {
  sed -n '/^Options:/,/^$/p' <<<"$1" | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,'
}

_nook() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  local nook=${COMP_WORDS[0]}
  # A relative path stays relative to the shell's directory; a bare name is looked up in PATH.
  [[ $nook == */* ]] || nook=$(type -P "$nook" 2>/dev/null) || nook=nook
  COMPREPLY=()

  # The global flags before the verb (with their values), and --root's value.
  local top verb="" verb_at=0 root=() i w
  top=$(_nook_help "$nook")
  local verbs
  verbs=$(sed -n '/^Subcommands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}' <<<"$top")
  # Global flags that take a value: "TEXT" after the flag in `nook --help`.
  local valued
  valued=$(sed -n '/^Options:/,/^$/p' <<<"$top" | grep -oE -- '--[a-z-]+ TEXT' | cut -d' ' -f1)
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --root=* | -root=*) root=(--root "${w#*=}") ;;
      --root | -root) root=(--root "${COMP_WORDS[i + 1]:-}") ;;
    esac
    if [[ $w == -* ]]; then
      # runc's parser also takes long flags with one dash (-root)
      local long=$w
      [[ $long == --* ]] || long=-$long
      [[ $w != *=* ]] && grep -qxF -- "$long" <<<"$valued" && ((i++))
      continue
    fi
    verb=$w
    verb_at=$i
    break
  done

  if [[ -z $verb ]]; then
    case $prev in
      --root | -root) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
      --log | -log) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
      --log-format | -log-format) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return ;;
      --rootless | -rootless) mapfile -t COMPREPLY < <(compgen -W "true false auto" -- "$cur"); return ;;
      --cgroup-manager) mapfile -t COMPREPLY < <(compgen -W "cgroupfs systemd disabled" -- "$cur"); return ;;
    esac
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$(_nook_flags "$top")" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
    fi
    return
  fi

  local help
  help=$(_nook_help "$nook" "$verb")
  case $prev in
    -b | --bundle | --cwd) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --pid-file | --console-socket | -p | --process) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    -f | --format) mapfile -t COMPREPLY < <(compgen -W "table json" -- "$cur"); return ;;
  esac
  # Flags of this verb that take a value: skip the value when counting positionals.
  local vvalued
  vvalued=$(sed -n '/^Options:/,/^$/p' <<<"$help" | grep -oE -- '(-[a-z],)?--[a-z-]+ (TEXT|INT)' |
    sed 's/ .*//' | tr ',' '\n')
  local npos=0
  for ((i = verb_at + 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      [[ $w != *=* ]] && grep -qxF -- "$w" <<<"$vvalued" && ((i++))
      continue
    fi
    ((npos++))
  done
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_nook_flags "$help")" -- "$cur")
    return
  fi
  # Positionals, from the verb's usage line ("Usage: nook kill [OPTIONS] id [signal]").
  if ((npos == 0)) && grep -q '^Usage: .* id' <<<"$help"; then
    case $verb in
      create | run) return ;; # a new ID: nothing to offer
    esac
    local ids
    ids=$("$nook" "${root[@]}" list -q 2>/dev/null)
    mapfile -t COMPREPLY < <(compgen -W "$ids" -- "$cur")
  elif ((npos == 1)) && [[ $verb == kill ]]; then
    mapfile -t COMPREPLY < <(compgen -W "TERM KILL INT HUP QUIT USR1 USR2 STOP CONT WINCH" -- "$cur")
  fi
}
complete -F _nook nook
