# shellcheck shell=bash
# Helpers shared by the CI stages. Source it; it defines functions only.
#
#   . .ci/lib.sh
#   ci_stage NAME CMD...      run CMD, print "NAME: PASS|FAIL (Ns)", keep its status
#   ci_pristine_root          set CI_PRISTINE_ROOT to (and print) the path of
#                             a cached pristine Debian bookworm root,
#                             building it first if needed
#   ci_debian_mirror          print the mirror apt uses for bookworm/main
#   ci_unmount_below DIR      unmount everything at or below DIR
#   ci_remove_tree DIR        unmount_below, then rm -rf on one file system
#
# The pristine root is what a person has after a minimal Debian 12
# install: `debootstrap --variant=minbase --include=sudo,git,ca-certificates`
# from the mirror this machine's apt uses, with no apt lists and no
# downloaded .debs. It is cached in $MOCKER_TEST_CACHE (default
# /var/cache/mocker-test) as pristine-bookworm-ARCH-KEY/rootfs, where KEY
# hashes the code that builds it and its inputs (suite, architecture,
# packages, mirror): change any of them and a new root is built, and the
# old ones are pruned. The cache is filled under a lock, in a temporary
# directory renamed into place, so a killed build leaves nothing that
# looks complete and concurrent builds debootstrap once. Callers must
# treat the root as read-only (copy it, or import it as an image). Called
# directly (not in $(...)), ci_pristine_root leaves the calling shell a
# shared lock on the entry, so no other run prunes it meanwhile.
#
# Environment: MOCKER_TEST_CACHE (cache root), DEBIAN_MIRROR (override
# the mirror read from apt's sources).

CI_SUITE=bookworm
CI_ROOT_PACKAGES=sudo,git,ca-certificates

ci_say() { printf '%s: %s\n' "${CI_NAME:-ci}" "$*" >&2; }
ci_die() {
  ci_say "$*"
  exit 1
}

# ci_stage NAME CMD...: runs CMD and prints its result and duration. The
# status is CMD's, so `ci_stage x cmd || failed=1` keeps going.
ci_stage() {
  local name=$1 start rc=0
  shift
  start=$SECONDS
  echo "==> $name"
  "$@" || rc=$?
  if [[ $rc -eq 0 ]]; then
    printf '==> %s: PASS (%ds)\n' "$name" $((SECONDS - start))
  else
    printf '==> %s: FAIL, status %d (%ds)\n' "$name" "$rc" $((SECONDS - start))
  fi
  return "$rc"
}

# Deepest first. A killed debootstrap or chroot session can leave proc,
# sys and devpts mounted in a root; rm -rf must never walk into them.
ci_unmount_below() {
  local dir mnt
  dir=$(readlink -f "$1") || return 0
  while read -r mnt; do
    ci_say "unmounting $mnt, left by an earlier run"
    umount "$mnt" 2>/dev/null || umount -l "$mnt" ||
      { ci_say "cannot unmount $mnt; remove $dir by hand" && return 1; }
  done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r)
}

ci_remove_tree() {
  [[ -e $1 ]] || return 0
  ci_unmount_below "$1" || return 1
  rm -rf --one-file-system "$1"
}

# The first `deb` source serving $CI_SUITE/main, from deb822 *.sources and
# one-line *.list files, in the order apt reads them.
ci_debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "$DEBIAN_MIRROR"
    return 0
  fi
  python3 - "$CI_SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/* <<'EOF'
import sys

suite, paths = sys.argv[1], sys.argv[2:]

def deb822(text):
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip() or line[0] in " \t":
                continue
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.split()
        if fields.get("enabled", ["yes"])[0].lower() == "no":
            continue
        if "deb" in fields.get("types", []) and suite in fields.get("suites", []) \
                and "main" in fields.get("components", []):
            yield from fields.get("uris", [])

def one_line(text):
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 4 or words[0] != "deb":
            continue
        words = words[1:]
        if words[0].startswith("["):
            while not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 3 and words[1] == suite and "main" in words[2:]:
            yield words[0]

for path in paths:
    try:
        text = open(path).read()
    except OSError:
        continue
    uris = deb822(text) if path.endswith(".sources") else \
        one_line(text) if path.endswith(".list") else []
    for uri in uris:
        print(uri.rstrip("/"))
        sys.exit(0)
sys.exit(1)
EOF
}

_ci_ensure_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  ci_say "debootstrap is missing; installing it with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2 ||
    { apt-get update -q >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2; }
}

# _ci_build_root DIR MIRROR ARCH: the root in DIR/rootfs. What a fresh
# install has no use for is dropped: the .debs debootstrap fetched, apt's
# lists (a person runs `apt-get update` first), logs, the build host's
# resolv.conf, hostname and machine id.
_ci_build_root() {
  local dir=$1 mirror=$2 arch=$3 r=$1/rootfs
  if ! debootstrap --variant=minbase --arch="$arch" \
    --include="$CI_ROOT_PACKAGES" "$CI_SUITE" "$r" "$mirror" \
    >"$dir/debootstrap.log" 2>&1; then
    tail -n 20 "$dir/debootstrap.log" >&2
    [[ -f $r/debootstrap/debootstrap.log ]] &&
      tail -n 20 "$r/debootstrap/debootstrap.log" >&2
    ci_say "debootstrap failed (see above)"
    return 1
  fi
  ci_unmount_below "$r" || return 1
  find "$r/proc" "$r/sys" "$r/tmp" "$r/run" -mindepth 1 -delete 2>/dev/null || true
  rm -rf "$r/var/lib/apt/lists"/* "$r/var/cache/apt"/*.bin \
    "$r/var/cache/apt/archives"/*.deb "$r/var/log"/*.log "$r/var/log/apt"/* \
    "$r/debootstrap"
  mkdir -p "$r/var/lib/apt/lists/partial" "$r/run/lock"
  chmod 1777 "$r/run/lock"
  : >"$r/etc/resolv.conf"
  echo localhost >"$r/etc/hostname"
  rm -f "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
  rm -f "$dir/debootstrap.log"
}

# The key: everything the root depends on. `declare -f` prints the
# builder as bash parsed it, so a change to comments elsewhere in this
# file does not cost a rebuild, and a change to the builder does.
_ci_root_key() {
  local mirror=$1 arch=$2
  printf '%s\n' "$CI_SUITE" "$arch" "$CI_ROOT_PACKAGES" "$mirror" \
    "$(declare -f _ci_build_root)" | sha256sum | cut -c1-16
}

# Entries of other keys, and temporary directories of killed builds. One
# whose lock another run holds (building it, or using it) is left alone.
_ci_prune_roots() {
  local cache=$1 keep=$2 d name k
  for d in "$cache"/pristine-"$CI_SUITE"-* "$cache"/.tmp.pristine-"$CI_SUITE"-*; do
    [[ -d $d && $d != "$cache/$keep" ]] || continue
    name=${d##*/}
    k=${name#.tmp.}
    k=${k%.tmp*}
    (
      exec {fd}>>"$cache/.lock.$k"
      if [[ $k == "$keep" ]]; then
        : # our own key: we hold its lock already, so this is a leftover
      else
        flock -n "$fd" || exit 0
      fi
      ci_say "pruning $d"
      ci_remove_tree "$d"
      [[ $name == .tmp.* || $k == "$keep" ]] || rm -f "$cache/.lock.$k"
    ) || true
  done
}

ci_pristine_root() {
  local cache=${MOCKER_TEST_CACHE:-/var/cache/mocker-test} arch mirror key \
    entry tmp lock_fd start
  arch=$(dpkg --print-architecture) || ci_die "dpkg --print-architecture failed"
  mirror=$(ci_debian_mirror) ||
    ci_die "no 'deb' source for $CI_SUITE/main in /etc/apt/sources.list{,.d/*}; set DEBIAN_MIRROR"
  key=pristine-$CI_SUITE-$arch-$(_ci_root_key "$mirror" "$arch")
  entry=$cache/$key
  mkdir -p "$cache"
  exec {lock_fd}>>"$cache/.lock.$key"
  if [[ ! -d $entry/rootfs ]]; then
    flock "$lock_fd"
    if [[ ! -d $entry/rootfs ]]; then
      _ci_ensure_debootstrap || ci_die "cannot install debootstrap"
      tmp=$(mktemp -d "$cache/.tmp.$key.tmpXXXXXX")
      start=$SECONDS
      ci_say "debootstrap --variant=minbase --include=$CI_ROOT_PACKAGES $CI_SUITE from $mirror"
      if ! _ci_build_root "$tmp" "$mirror" "$arch"; then
        ci_remove_tree "$tmp"
        ci_die "building the pristine root failed"
      fi
      echo "$CI_SUITE $arch $CI_ROOT_PACKAGES $mirror $(date -u +%FT%TZ)" >"$tmp/info"
      chmod 0755 "$tmp"
      mv -T "$tmp" "$entry"
      # Only now: a failed build must not cost the entry that worked.
      _ci_prune_roots "$cache" "$key"
      ci_say "pristine root built in $((SECONDS - start))s, cached in $entry ($(du -sh "$entry" | cut -f1))"
    fi
  fi
  # Shared from here to the caller's exit: a prune by another key's build
  # skips an entry in use.
  flock -s "$lock_fd"
  CI_PRISTINE_ROOT=$entry/rootfs
  echo "$CI_PRISTINE_ROOT"
}
