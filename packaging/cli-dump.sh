#!/bin/sh
# Dumps what the completion and man page generators read, from the built
# binary itself, so that neither can drift from the parser:
#   OUT/flags.tsv          `mocker __flags`: commands, aliases, flags
#   OUT/help/mocker.txt    `mocker --help`
#   OUT/help/mocker-run.txt, OUT/help/mocker-volume-create.txt, ...
#                          `mocker PATH --help` for every command path
# Usage: cli-dump.sh MOCKER OUT
set -eu

mocker=$1
out=$2
# A state root of our own: some verbs prepare it before they look at
# --help, and the machine's may belong to another user.
root=$(mktemp -d "${TMPDIR:-/tmp}/mocker-dump.XXXXXX")
trap 'rm -rf "$root"' EXIT

rm -rf "$out"
mkdir -p "$out/help"
MOCKER_ROOT=$root/state "$mocker" __flags >"$out/flags.tsv.tmp"
MOCKER_ROOT=$root/state "$mocker" --help >"$out/help/mocker.txt"
awk -F '\t' '$1 == "command" { print $2 }' "$out/flags.tsv.tmp" |
  while read -r path; do
    file=$out/help/mocker-$(printf '%s' "$path" | tr ' ' '-').txt
    # shellcheck disable=SC2086 # the path is words: "volume create"
    if ! MOCKER_ROOT=$root/state "$mocker" $path --help >"$file" 2>&1 ||
      ! grep -q '^Usage:' "$file"; then
      echo "cli-dump.sh: \`mocker $path --help\` did not print its usage:" >&2
      cat "$file" >&2
      exit 1
    fi
  done
mv "$out/flags.tsv.tmp" "$out/flags.tsv"
