#!/usr/bin/env bash
# CI stage: the Debian package, installed as a user would.
#
#   1. `make deb` builds build/deb/mocker_*.deb (lintian-clean, or it fails);
#   2. on a pristine Debian 12 root (the cached one of .ci/lib.sh, seen
#      through an overlay so that it stays pristine), `apt install
#      ./mocker_*.deb` pulls in the package's runtime dependencies from
#      the archive, as the host's apt reaches it;
#   3. `mocker run --rm busybox echo ok` must print ok there, in network
#      namespace of its own (the default bridge, its veth and nftables
#      table never touch the host's network).
#
# Each step runs chrooted, in mount and pid namespaces of its own: every
# mount dies with them. The state root is a directory of the host's, not
# the overlay: a container's overlay cannot have its upper layer on
# overlayfs.
set -euo pipefail
cd "$(dirname "$0")/.."
readonly CI_NAME=deb
# shellcheck source=.ci/lib.sh
. .ci/lib.sh

[[ $(id -u) -eq 0 ]] || ci_die "must run as root (namespaces, mounts, chroot)"
BUILD=${BUILD:-build}
work=
cleanup() {
  [[ -n $work ]] || return 0
  umount "$work/root" 2>/dev/null || true
  ci_remove_tree "$work"
}
trap cleanup EXIT

# Runs as pid 1 of new mount and pid namespaces: ROOT STATE COMMAND.
# shellcheck disable=SC2016
readonly IN_ROOT='
set -euo pipefail
root=$1 state=$2 cmd=$3
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$root/run"
mkdir -m 1777 "$root/run/lock"
mkdir -p "$root/var/lib/mocker"
mount --bind "$state" "$root/var/lib/mocker"
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive /bin/bash -c "cd /root && $cmd"
'

# in_root [--net] COMMAND
in_root() {
  local net=()
  if [[ $1 == --net ]]; then
    net=(--net)
    shift
  fi
  unshare --mount --pid "${net[@]}" --fork --kill-child --propagation private \
    -- bash -c "$IN_ROOT" deb-root "$work/root" "$work/state" "$1"
}

# apt inside reads the host's sources and how the host reaches them.
configure_apt() {
  local r=$work/upper f
  mkdir -p "$r/etc/apt/sources.list.d" "$r/etc/apt/apt.conf.d"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$r/etc/apt/sources.list.d/"
    : >"$r/etc/apt/sources.list"
  else
    cp /etc/apt/sources.list "$r/etc/apt/sources.list"
  fi
  for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
    [[ -f $f ]] || continue
    if grep -qE '^[[:space:]]*Acquire::([A-Za-z]+::)?(Proxy|Check-Valid-Until|Check-Date)' "$f"; then
      cp "$f" "$r/etc/apt/${f#/etc/apt/}"
    fi
  done
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
}

# The pristine root under an overlay, mounted in this shell's own mount
# namespace would vanish with it; so the overlay is mounted here, in the
# host's namespace, and unmounted by cleanup.
prepare_root() {
  local deb=$1
  ci_pristine_root >/dev/null
  work=$(mktemp -d /var/tmp/mocker-deb.XXXXXX)
  mkdir -p "$work/upper/root" "$work/work" "$work/root" "$work/state"
  chmod 0700 "$work/state"
  configure_apt
  cp "$deb" "$work/upper/root/"
  mount -t overlay overlay \
    -o "lowerdir=$CI_PRISTINE_ROOT,upperdir=$work/upper,workdir=$work/work" \
    "$work/root"
}

main() {
  local deb out rc=0
  ci_stage "make deps-deb" make deps-deb
  ci_stage "make deb" make BUILD="$BUILD" deb
  deb=$(ls "$BUILD"/deb/mocker_*.deb | head -n 1)
  [[ -f $deb ]] || ci_die "make deb left no $BUILD/deb/mocker_*.deb"
  prepare_root "$deb"
  ci_stage "apt install ./${deb##*/} on a pristine Debian 12" \
    in_root "apt-get update -q && apt install -y ./${deb##*/} </dev/null"
  in_root "mocker --version && test -x /usr/libexec/mocker/mocker-init &&
    test -f /usr/share/man/man1/mocker-run.1.gz &&
    test -f /usr/share/bash-completion/completions/mocker &&
    test -f /usr/share/zsh/vendor-completions/_mocker &&
    test ! -e /etc/mocker/config.json"
  # the postinst made --userns=remap's user and its subordinate ranges
  in_root "getent passwd mocker >/dev/null &&
    grep -q '^mocker:[0-9]*:65536\$' /etc/subuid &&
    grep -q '^mocker:[0-9]*:65536\$' /etc/subgid" ||
    ci_die "the package's postinst made no mocker user with subordinate ids"
  # (a remapped container cannot run here: the kernel refuses a user
  # namespace to a chrooted caller; check_userns runs them)
  out=$(ci_stage "mocker run --rm busybox echo ok" \
    in_root --net "mocker run --rm busybox echo ok" 2>&1) || rc=$?
  printf '%s\n' "$out"
  [[ ${rc:-0} -eq 0 ]] && grep -qx ok <<<"$out" ||
    ci_die "mocker run --rm busybox echo ok did not print ok"
  in_root "test -z \"\$(ls /var/lib/mocker/containers)\"" ||
    ci_die "--rm left a container behind"
  echo "deb: the package installs with its dependencies and runs a container"
}

main "$@"
