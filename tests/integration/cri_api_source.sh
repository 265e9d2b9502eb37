#!/bin/sh
# The Kubernetes CRI api.proto for check_cri, from Debian's own package.
#
#   cri_api_source.sh fetch   download it once (network: `make deps` runs it)
#   cri_api_source.sh path    print the cached tarball's path (no network);
#                             exit 1, saying why, when it is not there
#
# No Debian 12 binary package ships k8s.io/cri-api's api.proto; the
# containerd source package does (its orig tarball vendors
# vendor/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto). So `fetch` runs
# `apt-get source --download-only` for the installed containerd's source
# version, verified by apt against the archive's signed Sources index, into
# $MOCKER_TEST_CACHE/containerd-src/VERSION (default cache
# /var/cache/mocker-test). The test extracts the .proto from it at run time;
# nothing of it enters the repository.
#
# The machine's apt configuration is not touched: deb-src twins of its own
# deb sources (same mirrors, same keys) live in a private apt state under a
# temporary directory, removed on every exit path.
set -eu

cache_root=${MOCKER_TEST_CACHE:-/var/cache/mocker-test}

say() { printf 'cri_api_source.sh: %s\n' "$*" >&2; }

[ $# -eq 1 ] && { [ "$1" = fetch ] || [ "$1" = path ]; } || {
  echo "usage: cri_api_source.sh fetch|path" >&2
  exit 2
}

if ! src=$(dpkg-query -W -f='${source:Package}' containerd 2>/dev/null) ||
  ! ver=$(dpkg-query -W -f='${source:Version}' containerd 2>/dev/null) ||
  [ -z "$ver" ]; then
  say "containerd is not installed (make deps)"
  exit 1
fi
entry=$cache_root/containerd-src/$ver
upstream=${ver#*:}
upstream=${upstream%-*}

cached() {
  for f in "$entry/${src}_${upstream}.orig.tar."*; do
    [ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
  done
  return 1
}

if [ "$1" = path ]; then
  cached && exit 0
  say "no $src $ver source in $entry: run \`make deps\` (it fetches it)"
  exit 1
fi
cached >/dev/null && exit 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" \
  "$tmp/get"

# deb-src twins of the machine's deb sources, in both apt formats.
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  sed 's/^Types:.*/Types: deb-src/' "$f" >"$tmp/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" \
    >"$tmp/parts/$(basename "$f" .list)-src.list"
done

apt_private() {
  apt-get -q -o Dir::Etc::SourceList=/dev/null \
    -o Dir::Etc::SourceParts="$tmp/parts" -o Dir::State::Lists="$tmp/lists" \
    -o Dir::Cache="$tmp/cache" -o APT::Sandbox::User=root "$@"
}

say "fetching the $src $ver source package (for the CRI api.proto)"
apt_private update >"$tmp/update.log" 2>&1 || {
  cat "$tmp/update.log" >&2
  say "apt-get update with deb-src sources failed"
  exit 1
}
(cd "$tmp/get" && apt_private source --download-only "$src=$ver") \
  >"$tmp/source.log" 2>&1 || {
  cat "$tmp/source.log" >&2
  say "apt-get source --download-only $src=$ver failed"
  exit 1
}
mkdir -p "$(dirname "$entry")"
rm -rf "$entry.tmp" "$entry" # a partial entry: cached() said no
mv "$tmp/get" "$entry.tmp"
mv "$entry.tmp" "$entry"
cached >/dev/null || { say "no orig tarball in $entry"; exit 1; }
say "cached in $entry"
