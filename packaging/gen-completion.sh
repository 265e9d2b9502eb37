#!/bin/sh
# Writes mocker's bash or zsh completion to stdout, from the dump that
# cli-dump.sh made of the built binary: the verbs, subcommands, aliases
# and flags are the parser's own tables (`mocker __flags`), the zsh
# descriptions the help texts. Nothing here names a verb or a flag.
# Usage: gen-completion.sh DUMP bash|zsh
set -eu

dump=$1
shell=$2
case $shell in bash | zsh) ;; *)
  echo "gen-completion.sh: bash or zsh, not \`$shell\`" >&2
  exit 2
  ;;
esac

# "PATH<TAB>--long<TAB>description" for each option line of each help
# text: "  -d, --detach    Run ..." or "      --name string   Assign ...".
descriptions() {
  for f in "$dump"/help/mocker*.txt; do
    path=$(basename "$f" .txt | sed 's/^mocker-\{0,1\}//; s/-/ /g')
    awk -v path="$path" '
      /^ +-/ {
        line = $0
        sub(/^ +/, "", line)
        if (line ~ /^-[^-], /) line = substr(line, 5)
        if (line !~ /^--/) next
        name = line; sub(/ .*/, "", name)
        rest = substr(line, length(name) + 1); sub(/^ +/, "", rest)
        i = index(rest, "  ")
        if (i) { rest = substr(rest, i); sub(/^ +/, "", rest) }
        printf "%s\t%s\t%s\n", path, name, rest
      }' "$f"
  done
}

descriptions >"${TMPDIR:-/tmp}/mocker-desc.$$"
trap 'rm -f "${TMPDIR:-/tmp}/mocker-desc.$$"' EXIT

awk -F '\t' -v shell="$shell" '
function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
function parent(p) { return p ~ / / ? substr(p, 1, index(p, " ") - 1) : "" }
function last(p) { sub(/.* /, "", p); return p }
FNR == NR { desc[$1 SUBSEP $2] = $3; next }
$1 == "command" {
  paths[++np] = $2; summary[$2] = $3
  par = parent($2)
  subs[par] = subs[par] " " last($2)
  zsubs[par] = zsubs[par] " " q(last($2) ":" $3)
}
$1 == "alias" {
  par = parent($2)
  full = (par == "" ? "" : par " ") $3
  canon[full] = $2
  subs[par] = subs[par] " " $3
  zsubs[par] = zsubs[par] " " q($3 ":" summary[$2])
}
$1 == "flag" {
  long = "--" $4
  d = desc[$2 SUBSEP long]
  flags[$2] = flags[$2] " " long
  zflags[$2] = zflags[$2] " " q(long ":" d)
  if ($3 != "-") {
    flags[$2] = flags[$2] " -" $3
    zflags[$2] = zflags[$2] " " q("-" $3 ":" d)
  }
  if ($5 == 1) {
    valued[$2] = valued[$2] " " long
    if ($3 != "-") valued[$2] = valued[$2] " -" $3
  }
}
function table(name, arr, zsh,    p, n) {
  printf "_mocker_%s() {\n  case $1 in\n", name
  printf "  %s) %s ;;\n", q(""), zsh ? "reply=(" arr[""] " )" \
    : "REPLY=" q(substr(arr[""], 2))
  for (n = 1; n <= np; n++) {
    p = paths[n]
    if (!(p in arr)) continue
    printf "  %s) %s ;;\n", q(p), zsh ? "reply=(" arr[p] " )" \
      : "REPLY=" q(substr(arr[p], 2))
  }
  printf "  *) %s ;;\n  esac\n}\n\n", zsh ? "reply=()" : "REPLY="
}
function canonical(    c) {
  print "_mocker_canon() {\n  case $1 in"
  for (c in canon) printf "  %s) REPLY=%s ;;\n", q(c), q(canon[c])
  print "  *) REPLY=$1 ;;\n  esac\n}\n"
}
END {
  if (shell == "zsh") print "#compdef mocker\n"
  print "# mocker " shell " completion. Generated at build time from the"
  print "# binary (`mocker __flags`, the tables its parser uses, and its"
  print "# help texts) by packaging/gen-completion.sh: do not edit.\n"
  if (shell == "bash") {
    table("subcommands", subs, 0)
    table("flags", flags, 0)
  } else {
    table("subcommands", zsubs, 1)
    table("flags", zflags, 1)
  }
  table("valued", valued, 0)
  canonical()
}' "${TMPDIR:-/tmp}/mocker-desc.$$" "$dump/flags.tsv"

if [ "$shell" = bash ]; then
  cat <<'BASH'
# Walks the words before the cursor: global flags, then the verb and
# (for container, image, network, volume) its subcommand, skipping each
# flag's value; flags end at the first argument, as in mocker's parser.
_mocker() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local path= w i=1 args=0
  COMPREPLY=()
  while ((i < COMP_CWORD)); do
    w=${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      _mocker_valued "$path"
      [[ $w != *=* && " $REPLY " == *" $w "* ]] && ((i++))
    else
      _mocker_subcommands "$path"
      if [[ -z $REPLY ]]; then
        args=1
        break
      fi
      _mocker_canon "${path:+$path }$w"
      path=$REPLY
    fi
    ((i++))
  done
  _mocker_valued "$path"
  if ((args)) || [[ $cur != -* && " $REPLY " == *" $prev "* && $prev == -* ]]; then
    compopt -o default 2>/dev/null
    return 0
  fi
  if [[ $cur == -* ]]; then
    _mocker_flags "$path"
    COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
    return 0
  fi
  _mocker_subcommands "$path"
  if [[ -n $REPLY ]]; then
    COMPREPLY=($(compgen -W "$REPLY" -- "$cur"))
  else
    compopt -o default 2>/dev/null
  fi
  return 0
}
complete -F _mocker mocker
BASH
else
  cat <<'ZSH'
# Walks the words before the cursor as the bash completion does.
_mocker() {
  local path= w prev=${words[CURRENT-1]} i=2 args=0
  local -a reply
  local REPLY
  while (( i < CURRENT )); do
    w=${words[i]}
    if [[ $w == -* ]]; then
      _mocker_valued "$path"
      [[ $w != *=* && " $REPLY " == *" $w "* ]] && (( i++ ))
    else
      _mocker_subcommands "$path"
      if (( ${#reply} == 0 )); then
        args=1
        break
      fi
      _mocker_canon "${path:+$path }$w"
      path=$REPLY
    fi
    (( i++ ))
  done
  _mocker_valued "$path"
  if (( args )) || [[ $PREFIX != -* && $prev == -* && " $REPLY " == *" $prev "* ]]; then
    _files
    return
  fi
  if [[ $PREFIX == -* ]]; then
    _mocker_flags "$path"
    _describe -t options option reply
    return
  fi
  _mocker_subcommands "$path"
  if (( ${#reply} )); then
    _describe -t commands command reply
  else
    _files
  fi
}

_mocker "$@"
ZSH
fi
