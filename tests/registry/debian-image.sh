#!/usr/bin/env bash
# Build the ingredients of a real Debian bookworm image for push.sh, from
# `debootstrap --variant=minbase` with the mirror apt uses on this machine.
#
#   debian-image.sh OUTDIR
#
# OUTDIR receives layer.tar.gz (the whole rootfs, one gzip layer),
# config.json (a Docker image config: this machine's architecture, Cmd
# ["bash"], Env PATH, diff_ids) and `layers` (FILE DOCKER_MEDIATYPE
# OCI_MEDIATYPE, as make-images.sh writes it), plus `info` (mirror, sizes,
# entry count, digests).
#
# debootstrap takes a minute or more, so the result is cached in
# $MOCKER_TEST_CACHE (default /var/cache/mocker-test), in a directory named
# after this script's own hash: a change to the script makes a new entry and
# the old ones are pruned. A cached result is hard-linked (or copied) into
# OUTDIR and the network is not touched. The cache is filled atomically (a
# temporary directory renamed into place, under a lock), so a killed run
# leaves nothing that looks complete, and concurrent runs debootstrap once.
#
# Environment: MOCKER_TEST_CACHE (cache root), DEBIAN_MIRROR (override the
# mirror read from apt's sources), SOURCE_DATE_EPOCH (clamp for mtimes and
# the config's `created`; default: the Date of the suite's Release file).
set -euo pipefail

readonly SUITE=bookworm
readonly MT_GZIP_DOCKER=application/vnd.docker.image.rootfs.diff.tar.gzip
readonly MT_GZIP_OCI=application/vnd.oci.image.layer.v1.tar+gzip
readonly OUTPUTS=(layer.tar.gz config.json layers info)

self=$(readlink -f "${BASH_SOURCE[0]}")
readonly self

say() { printf 'debian-image.sh: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

[[ $# -eq 1 ]] || {
  echo "usage: debian-image.sh OUTDIR" >&2
  exit 2
}

cache_root=${MOCKER_TEST_CACHE:-/var/cache/mocker-test}
arch=$(dpkg --print-architecture) || die "dpkg --print-architecture failed"
key=debian-$SUITE-$arch-$(sha256sum "$self" | cut -c1-16)
entry=$cache_root/$key

# ---- cleanup: runs on every exit path --------------------------------------

tmp=
lock_fd=

# Unmount everything mounted at or below DIR, deepest first. A debootstrap
# that was killed in its second stage can leave proc, sys and devpts
# mounted in the target; rm -rf must never walk into them.
unmount_below() {
  local dir=$1 mnt
  dir=$(readlink -f "$dir") || return 0
  while read -r mnt; do
    say "unmounting $mnt, left by debootstrap"
    umount "$mnt" 2>/dev/null || umount -l "$mnt" ||
      die "cannot unmount $mnt; remove $dir by hand"
  done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r)
}

remove_tree() {
  local dir=$1
  [[ -e $dir ]] || return 0
  unmount_below "$dir"
  rm -rf --one-file-system "$dir"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $tmp ]]; then
    remove_tree "$tmp" || rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the mirror apt uses ---------------------------------------------------

# The first `deb` source that serves SUITE/main, from deb822 *.sources and
# one-line *.list files (the main sources.list first, as apt reads them).
find_mirror() {
  python3 - "$SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/* <<'EOF'
import sys

suite, paths = sys.argv[1], sys.argv[2:]

def deb822(text):
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t":  # continuation (e.g. an inline Signed-By key)
                continue
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.split()
        if fields.get("enabled", ["yes"])[0].lower() == "no":
            continue
        if "deb" in fields.get("types", []) and suite in fields.get("suites", []) \
                and "main" in fields.get("components", []):
            for uri in fields.get("uris", []):
                yield uri

def one_line(text):
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 4 and words[0] == "deb":
            words = words[1:]
            if words[0].startswith("["):  # options: [arch=amd64 signed-by=...]
                while not words[0].endswith("]"):
                    words = words[1:]
                words = words[1:]
            if len(words) >= 3 and words[1] == suite and "main" in words[2:]:
                yield words[0]

for path in paths:
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        continue
    if path.endswith(".sources"):
        uris = deb822(text)
    elif path.endswith(".list"):
        uris = one_line(text)
    else:
        continue  # apt ignores other names (e.g. *.disabled)
    for uri in uris:
        print(uri.rstrip("/"))
        sys.exit(0)
sys.exit(1)
EOF
}

# ---- build ---------------------------------------------------------------------

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return 0
  say "debootstrap is missing; installing it with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2; } ||
    die "apt-get install debootstrap failed"
}

# Drop what depends on the build host or the build time rather than on the
# packages, as Debian's official images do: apt lists and caches, logs,
# the host's resolv.conf and hostname, and device nodes (a runtime mounts
# its own /dev).
trim_rootfs() {
  local r=$1
  find "$r/dev" "$r/proc" "$r/sys" "$r/tmp" "$r/run" -mindepth 1 -delete 2>/dev/null || true
  rm -rf "$r/var/lib/apt/lists"/* "$r/var/cache/apt"/*.bin \
    "$r/var/cache/apt/archives"/*.deb "$r/var/log"/*.log "$r/var/log/apt"/* \
    "$r/var/cache/ldconfig/aux-cache" "$r/debootstrap"
  mkdir -p "$r/var/lib/apt/lists/partial"
  mkdir -m 1777 "$r/run/lock" # /var/lock points here
  : >"$r/etc/resolv.conf"
  echo localhost >"$r/etc/hostname"
  rm -f "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
}

# The suite's Release date, the natural SOURCE_DATE_EPOCH of a bootstrap.
release_epoch() {
  local mirror=$1 date
  date=$(curl -fsS --max-time 30 "$mirror/dists/$SUITE/Release" | sed -n 's/^Date: //p' | head -n1) || true
  if [[ -z $date ]] || ! date -d "$date" +%s 2>/dev/null; then
    date +%s
  fi
}

# A reproducible tar of ROOTFS: entries sorted by name, numeric owners
# only, mtimes clamped to SOURCE_DATE_EPOCH, no atime/ctime and no
# pid-dependent PAX header names. Top-level entries carry no "./" prefix,
# like the layers docker builds.
pack_rootfs() {
  local rootfs=$1 out=$2 epoch=$3 top=()
  mapfile -t top < <(find "$rootfs" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
  tar -C "$rootfs" --format=posix --sort=name --numeric-owner \
    --mtime="@$epoch" --clamp-mtime \
    --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
    --xattrs --xattrs-include='security.capability' \
    -cf "$out" -- "${top[@]}"
}

# write_config FILE ARCH VARIANT EPOCH DIFF_ID
write_config() {
  python3 - "$@" <<'EOF'
import json, sys, time
path, arch, variant, epoch, diff_id = sys.argv[1:]
created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
config = {"architecture": arch, "os": "linux"}
if variant:
    config["variant"] = variant
config.update({
    "created": created,
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["bash"],
    },
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created": created,
                 "created_by": "debootstrap --variant=minbase bookworm (tests/registry/debian-image.sh)"}],
})
with open(path, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
EOF
}

# dpkg's architecture names in GOARCH terms, as image configs spell them.
oci_platform() {
  case $1 in
  amd64) echo "amd64 " ;;
  arm64) echo "arm64 v8" ;;
  armhf) echo "arm v7" ;;
  armel) echo "arm v5" ;;
  i386) echo "386 " ;;
  ppc64el) echo "ppc64le " ;;
  mips64el) echo "mips64le " ;;
  *) echo "$1 " ;;
  esac
}

build_into() {
  local dir=$1 mirror epoch diff_id oci_arch variant entries
  mirror=${DEBIAN_MIRROR:-$(find_mirror)} ||
    die "no 'deb' source for $SUITE/main in /etc/apt/sources.list{,.d/*}; set DEBIAN_MIRROR"
  ensure_debootstrap
  say "debootstrap --variant=minbase $SUITE from $mirror (cached afterwards in $entry)"
  if ! debootstrap --variant=minbase --arch="$arch" "$SUITE" "$dir/rootfs" "$mirror" \
    >"$dir/debootstrap.log" 2>&1; then
    tail -n 20 "$dir/debootstrap.log" >&2
    [[ -f $dir/rootfs/debootstrap/debootstrap.log ]] &&
      tail -n 20 "$dir/rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (see above)"
  fi
  # debootstrap unmounts what it mounted when it succeeds; be sure anyway.
  unmount_below "$dir/rootfs"
  epoch=${SOURCE_DATE_EPOCH:-$(release_epoch "$mirror")}
  trim_rootfs "$dir/rootfs"
  pack_rootfs "$dir/rootfs" "$dir/layer.tar" "$epoch"
  remove_tree "$dir/rootfs"
  diff_id=sha256:$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  entries=$(tar -tf "$dir/layer.tar" | wc -l)
  gzip -n -c "$dir/layer.tar" >"$dir/layer.tar.gz"
  read -r oci_arch variant <<<"$(oci_platform "$arch")"
  write_config "$dir/config.json" "$oci_arch" "${variant:-}" "$epoch" "$diff_id"
  echo "layer.tar.gz $MT_GZIP_DOCKER $MT_GZIP_OCI" >"$dir/layers"
  {
    echo "suite: $SUITE (debootstrap --variant=minbase)"
    echo "mirror: $mirror"
    echo "architecture: $arch"
    echo "source_date_epoch: $epoch"
    echo "entries: $entries"
    echo "tar_bytes: $(stat -c %s "$dir/layer.tar")"
    echo "gzip_bytes: $(stat -c %s "$dir/layer.tar.gz")"
    echo "diff_id: $diff_id"
    echo "digest: sha256:$(sha256sum "$dir/layer.tar.gz" | cut -d' ' -f1)"
  } >"$dir/info"
  rm -f "$dir/layer.tar" "$dir/debootstrap.log"
  chmod 0444 "$dir"/{layer.tar.gz,config.json,layers,info}
}

# Entries made by other versions of this script, and temporary directories
# left by killed runs. Each is removed under its key's lock; one whose lock
# another run holds is in use and left alone. Our own key's lock is held
# already (a second flock on it would conflict with ourselves).
prune_cache() {
  local d name k
  for d in "$cache_root"/debian-"$SUITE"-* "$cache_root"/.tmp.debian-"$SUITE"-*; do
    [[ -d $d && $d != "$entry" ]] || continue
    name=$(basename "$d")
    k=$name
    [[ $name != .tmp.* ]] || { k=${name#.tmp.} && k=${k%.*}; }
    if [[ $k == "$key" ]]; then
      say "removing $d, left by a killed run"
      remove_tree "$d"
      continue
    fi
    (
      exec {fd}>>"$cache_root/.lock.$k"
      flock -n "$fd" || exit 0
      say "pruning $d"
      remove_tree "$d"
      [[ $name == .tmp.* ]] || rm -f "$cache_root/.lock.$k"
    ) || true
  done
  # Locks of builds that never completed.
  for d in "$cache_root"/.lock.debian-"$SUITE"-*; do
    k=${d##*/.lock.}
    [[ -f $d && $k != "$key" && ! -e $cache_root/$k ]] || continue
    (
      exec {fd}>>"$d"
      flock -n "$fd" && rm -f "$d"
    ) || true
  done
}

fill_cache() {
  mkdir -p "$cache_root"
  exec {lock_fd}>>"$cache_root/.lock.$key"
  if ! flock -n "$lock_fd"; then
    say "another run is building $entry; waiting for it"
    flock "$lock_fd"
  fi
  [[ -d $entry ]] && return 0
  tmp=$(mktemp -d "$cache_root/.tmp.$key.XXXXXX")
  build_into "$tmp"
  chmod 0755 "$tmp"
  mv -T "$tmp" "$entry"
  tmp=
  # Only now: a failed build must not cost the entry that worked.
  prune_cache
  say "cached in $entry ($(du -sh "$entry" | cut -f1))"
}

complete() {
  local f
  for f in "${OUTPUTS[@]}"; do
    [[ -s $entry/$f ]] || return 1
  done
}

publish() {
  local out=$1 f
  mkdir -p "$out"
  for f in "${OUTPUTS[@]}"; do
    rm -f "$out/$f"
    ln "$entry/$f" "$out/$f" 2>/dev/null || cp "$entry/$f" "$out/$f"
  done
}

complete || fill_cache
complete || die "$entry is incomplete; remove it and run again"
publish "$1"
