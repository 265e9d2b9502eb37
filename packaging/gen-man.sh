#!/bin/sh
# Writes the man pages mocker(1) and mocker-VERB(1), one per verb, into
# OUT/man1 from the dump that cli-dump.sh made of the built binary: each
# page is its verb's `--help` text set in roff, the management verbs'
# pages (container, image, network, volume) with a section for each
# subcommand. mocker(1) also gets packaging/mocker.1.extra (environment,
# files, exit status). Nothing here names a verb or a flag.
# Usage: gen-man.sh DUMP OUT VERSION
set -eu

dump=$1
out=$2
version=$3
here=$(dirname "$0")
# Reproducible: the date of the source (dpkg-buildpackage sets
# SOURCE_DATE_EPOCH from debian/changelog), else of the last commit.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null ||
  date +%s)}
date=$(date -u -d "@$epoch" +%Y-%m-%d)

mkdir -p "$out/man1"

# Sets one help text in roff. sub=1: as a subsection of a verb's page.
render() {
  awk -v sub_="$2" -v top="$3" '
    function esc(s) {
      gsub(/\\/, "\\e", s)
      if (s ~ /^[.\047]/) s = "\\&" s
      return s
    }
    function opt(s) { gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s); return s }
    function heading(name) {
      if (sub_) printf ".PP\n%s:\n.RS\n", name
      else printf ".SH %s\n", toupper(name)
      indented = sub_
    }
    function close_section() { if (indented) print ".RE"; indented = 0 }
    BEGIN { section = "" }
    /^Usage:/ {
      line = $0; sub(/^Usage: +/, "", line)
      n = split(line, w, " "); cmd = ""; args = ""
      for (i = 1; i <= n; i++) {
        if (args == "" && w[i] ~ /^[a-z][a-z0-9-]*$/) cmd = cmd (cmd ? " " : "") w[i]
        else args = args (args ? " " : "") w[i]
      }
      if (sub_) printf ".SS \"%s\"\n", cmd
      else print ".SH SYNOPSIS"
      printf ".B %s\n", opt(cmd)
      if (args != "") print opt(args)
      if (!sub_) print ".SH DESCRIPTION"
      else print ".PP"
      section = "desc"; para = 0; started = 0; next
    }
    /^Run \047mocker/ { next }
    /^[A-Z][A-Za-z ]*:$/ {
      close_section(); sub(/:$/, ""); heading($0); section = $0
      para = 0; started = 0; next
    }
    /^$/ { para = 1; next }
    section == "Options" && /^ +-/ {
      line = $0; sub(/^ +/, "", line)
      tag = ""
      if (line ~ /^-[^-], /) { tag = "\\fB" opt(substr(line, 1, 2)) "\\fR, "; line = substr(line, 5) }
      name = line; sub(/ .*/, "", name)
      rest = substr(line, length(name) + 1); sub(/^ +/, "", rest)
      type = ""
      i = index(rest, "  ")
      if (i) { type = substr(rest, 1, i - 1); rest = substr(rest, i); sub(/^ +/, "", rest) }
      tag = tag "\\fB" opt(name) "\\fR"
      if (type != "") tag = tag " \\fI" type "\\fR"
      print ".TP"; print tag; if (rest != "") print esc(rest); next
    }
    section == "Commands" && /^  [a-z]/ {
      line = $0; sub(/^ +/, "", line)
      name = line; sub(/ .*/, "", name)
      rest = substr(line, length(name) + 1); sub(/^ +/, "", rest)
      print ".TP"
      if (top) printf ".BR mocker\\-%s (1)\n", opt(name)
      else printf ".B %s\n", opt(name)
      print esc(rest); next
    }
    {
      line = $0; sub(/^ +/, "", line)
      if (para && started) print ".PP"
      para = 0; started = 1
      print esc(line)
    }
    END { close_section() }' "$1"
}

page() { # page NAME SUMMARY HELPFILE TOP
  name=$1
  upper=$(printf '%s' "$name" | tr a-z A-Z)
  {
    printf '.\\" Generated from `%s --help` by packaging/gen-man.sh: do not edit.\n' \
      "$(printf '%s' "$name" | sed 's/-/ /g')"
    printf '.TH %s 1 "%s" "mocker %s" "mocker manual"\n' "$upper" "$date" "$version"
    printf '.SH NAME\n%s \\- %s\n' "$(printf '%s' "$name" | sed 's/-/\\-/g')" "$2"
    render "$3" 0 "$4"
  }
}

tsv=$dump/flags.tsv
# mocker(1)
{
  page mocker "a daemonless container engine" "$dump/help/mocker.txt" 1
  cat "$here/mocker.1.extra"
  printf '.SH SEE ALSO\n'
  awk -F '\t' '$1 == "command" && $2 !~ / / {
      printf ".BR mocker\\-%s (1),\n", $2 }' "$tsv"
  printf '.BR mocker\\-config.json (5)\n'
} >"$out/man1/mocker.1"

# mocker-VERB(1)
awk -F '\t' '$1 == "command" && $2 !~ / / { print $2 "\t" $3 }' "$tsv" |
  while IFS="$(printf '\t')" read -r verb summary; do
    {
      page "mocker-$verb" "$summary" "$dump/help/mocker-$verb.txt" 0
      subs=$(awk -F '\t' -v v="$verb" '$1 == "command" && index($2, v " ") == 1 {
          sub(/^[^ ]* /, "", $2); print $2 }' "$tsv")
      if [ -n "$subs" ]; then
        printf '.SH SUBCOMMANDS\n'
        for s in $subs; do
          render "$dump/help/mocker-$verb-$s.txt" 1 0
        done
      fi
      printf '.SH SEE ALSO\n.BR mocker (1)\n'
    } >"$out/man1/mocker-$verb.1"
  done
