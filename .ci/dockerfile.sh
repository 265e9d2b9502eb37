#!/usr/bin/env bash
# CI stage: the project's Dockerfile, built and run for real with Debian's
# podman and runc (no Docker engine runs here), as README.md tells Docker
# users to.
#
#   usage: .ci/dockerfile.sh          (as root, from anywhere in the clone)
#
# 1. A debootstrap bookworm minbase root (tests/registry/debian-image.sh,
#    cached) is imported as docker.io/library/debian:bookworm.
# 2. `podman build --pull=never --network host` of the clone; apt in the
#    RUN steps reaches the archive through the host's network, and podman
#    makes no bridge.
# 3. In `podman run --privileged --network none` (mocker's bridges go into
#    that container's own network namespace): `run --rm busybox echo ok`
#    through the image's ENTRYPOINT, then `run -d`, `exec`, `logs`,
#    `stop`, `rm` and `ps -a`, and a pull that must reach libcurl.
#
# podman runs on a store of its own under $MOCKER_TEST_CACHE (default
# /var/cache/mocker-test), never the host's /var/lib/containers, and in
# private mount and pid namespaces: every mount it makes, and every
# process it leaves, dies with the stage. The store keeps the base image
# and the tagged apt layers (build-deps, runtime-base), so a warm run only
# recompiles; it is keyed by the base root's digest and the storage
# driver, so a new debootstrap root starts a new store and the old one is
# pruned. Everything else a run makes (containers, volumes, the final
# image, the layers of the sources) is removed on every exit path.
set -euo pipefail

readonly PACKAGES=(podman runc catatonit nftables iproute2)
readonly CGROUP_PARENT=mocker-ci-podman
readonly BASE_REF=docker.io/library/debian:bookworm
readonly CACHE_TAG=localhost/mocker-ci-cache

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/.." && pwd)
cache_root=${MOCKER_TEST_CACHE:-/var/cache/mocker-test}
readonly self repo cache_root

say() { printf 'dockerfile: %s\n' "$*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}

# ---- inside the private namespaces ----------------------------------------

# Every podman call names the stage's own store; the runroot and libpod's
# tmpdir sit on a tmpfs of this mount namespace, so a killed run leaves no
# stale mount counts or locks behind for the next one. (podman wants the
# runroot short, 50 characters at most, and the same on every run.) runc
# keeps its state there too, not in the host's /run/runc.
pm() {
  podman --root "$STORE/storage" --runroot "$RUNROOT/storage" \
    --tmpdir "$RUNROOT/libpod" --storage-driver "$DRIVER" \
    --runtime runc --runtime-flag "root=$RUNROOT/runc" \
    --cgroup-manager cgroupfs --events-backend file "$@"
}

# The store keeps images only. podman's database (containers, volumes)
# starts afresh on every run: a killed run's entries go, and so does the
# database's record of the runroot and paths, which would otherwise refuse
# a store whose paths changed. What a killed run left in storage shows
# up as external containers, removed next.
reset_state() {
  rm -f "$STORE/storage/libpod/bolt_state.db"
  find "$STORE/storage/volumes" -mindepth 1 -maxdepth 1 -type d \
    -exec rm -rf --one-file-system {} + 2>/dev/null || true
}

# Containers of this store left by a killed run, podman's and buildah's.
remove_containers() {
  local ids=()
  mapfile -t ids < <(pm ps -a --external -q 2>/dev/null) || true
  [[ ${#ids[@]} -eq 0 ]] || pm rm -f -v "${ids[@]}" >/dev/null 2>&1 || true
}

inner_cleanup() {
  local rc=$?
  trap - EXIT
  remove_containers
  pm volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  pm rmi -f "$IMAGE" >/dev/null 2>&1 || true
  # Untagged layers: those of this run's sources, and apt layers whose
  # cache tag moved on. The tagged ones and their parents stay.
  pm image prune -f >/dev/null 2>&1 || rc=1
  rm -rf "$STORE/tmp"
  exit "$rc"
}

# The base image is imported once per store. Importing again would give it
# a new id (the config records the time of import) and so miss the cache
# of every layer above it.
import_base() {
  if pm image exists "$BASE_REF"; then
    say "base image $BASE_REF: cached"
    return 0
  fi
  say "importing $BASE_LAYER as $BASE_REF"
  pm import -q --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$BASE_LAYER" "$BASE_REF" >/dev/null || die "podman import of $BASE_LAYER"
}

# build [ARGS...]: podman build of the clone, its log kept and shown on
# failure.
build() {
  local log=$STORE/tmp/build.log t0=$SECONDS
  if ! pm build --pull=never --network host --cgroup-parent "/$CGROUP_PARENT" \
    --runtime-flag "root=$RUNROOT/runc" --layers --force-rm "$@" "$repo" \
    >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    die "podman build $* (log above)"
  fi
  say "podman build $*: ok in $((SECONDS - t0)) s ($(grep -c 'Using cache' "$log") steps cached)"
}

build_all() {
  # The apt layers first, each under a tag, so that no prune takes them.
  build --target build-deps -t "$CACHE_TAG:build-deps"
  build --target runtime-base -t "$CACHE_TAG:runtime-base"
  build -t "$IMAGE"
}

# check NAME WANT_RC WANT_REGEX CMD...: runs CMD, asserts its exit code and
# that its output (stdout and stderr) matches WANT_REGEX.
check() {
  local name=$1 want_rc=$2 want=$3 out rc=0
  shift 3
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -ne $want_rc ]]; then
    printf '%s\n' "$out" >&2
    die "$name: exit code $rc, want $want_rc (output above)"
  fi
  if ! grep -Eq -- "$want" <<<"$out"; then
    printf '%s\n' "$out" >&2
    die "$name: output does not match /$want/ (output above)"
  fi
  say "ok: $name"
}

# mocker inside the long-running podman container.
mk() { pm exec "$KEEPER" mocker "$@"; }

# A foreground container through the image's own ENTRYPOINT, as README.md
# runs it with Docker; its stdout must be the workload's alone.
test_entrypoint() {
  local out err=$STORE/tmp/run.err rc=0
  out=$(pm run --rm --privileged --network none \
    --cgroup-parent "/$CGROUP_PARENT" -v "$VOLUME:/var/lib/mocker" \
    "$IMAGE" run --rm busybox echo ok 2>"$err") || rc=$?
  if [[ $rc -ne 0 || $out != ok ]]; then
    cat "$err" >&2
    die "podman run IMAGE run --rm busybox echo ok: exit code $rc, stdout '$out'; want 0 and 'ok'"
  fi
  say "ok: podman run IMAGE run --rm busybox echo ok"
}

# A detached container's life, in a podman container kept alive by
# catatonit (--init), which also reaps the monitors mocker leaves to it.
test_detached() {
  pm run -d --name "$KEEPER" --init --privileged --network none \
    --cgroup-parent "/$CGROUP_PARENT" \
    -v "$VOLUME:/var/lib/mocker" --entrypoint sleep "$IMAGE" infinity \
    >/dev/null || die "podman run -d of the keeper container"
  check "run -d --name web" 0 '^[0-9a-f]{64}$' \
    mk run -d --name web busybox sh -c 'echo hello from web; exec sleep 300'
  check "ps shows web running" 0 ' Up .* web$' mk ps
  check "exec web echo hi" 0 '^hi$' mk exec web echo hi
  wait_for_log web 'hello from web'
  check "stop web" 0 '' mk stop web
  check "ps -a: web exited" 0 ' Exited \([0-9]+\) .* web$' mk ps -a
  check "rm web" 0 '' mk rm web
  check_empty "ps -a -q" mk ps -a -q
}

# check_empty NAME CMD...: CMD succeeds and prints nothing.
check_empty() {
  local name=$1 out rc=0
  shift
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -eq 0 && -z $out ]] || die "$name: exit code $rc, output '$out'; want 0 and nothing"
  say "ok: $name prints nothing"
}

# The workload's first line reaches the log asynchronously; poll for it.
wait_for_log() {
  local name=$1 want=$2 i out=
  for ((i = 0; i < 50; i++)); do
    out=$(mk logs "$name" 2>&1) || die "logs $name: exit code $? ($out)"
    if grep -qx -- "$want" <<<"$out"; then
      say "ok: logs $name shows '$want'"
      return 0
    fi
    sleep 0.2
  done
  printf '%s\n' "$out" >&2
  die "logs $name: no line '$want' after 10 s (output above)"
}

# libcurl and libnftables are loaded with dlopen, so a missing runtime
# package shows only when they are used: a pull must fail on the network
# (nothing listens on port 1), not on loading libcurl; the bridge of the
# runs above already needed libnftables, and this one shows the bridge.
test_runtime_libs() {
  local out rc=0
  check "run on the default bridge: eth0 has an address" 0 'inet [0-9.]+/' \
    mk run --rm busybox ip -4 addr show eth0
  out=$(mk pull localhost:1/nothing:latest 2>&1) || rc=$?
  if [[ $rc -eq 0 ]] || grep -qi 'cannot load' <<<"$out"; then
    printf '%s\n' "$out" >&2
    die "pull from a closed port: exit code $rc, want a network error (output above)"
  fi
  say "ok: pull reaches libcurl ($(tail -n1 <<<"$out"))"
  check "system CA bundle present" 0 '' \
    pm exec "$KEEPER" test -s /etc/ssl/certs/ca-certificates.crt
}

inner_main() {
  STORE=$1 RUNROOT=$2 DRIVER=$3 BASE_LAYER=$4
  local run_id
  run_id=$(date +%s)-$$-$RANDOM
  IMAGE=localhost/mocker-ci:$run_id
  VOLUME=mocker-ci-state-$run_id
  KEEPER=mocker-ci-$run_id
  export TMPDIR=$STORE/tmp # buildah's scratch space, on disk
  mkdir -p "$TMPDIR"
  mount -t tmpfs -o mode=0700 mocker-ci-podman "$RUNROOT"
  trap inner_cleanup EXIT
  # As the pid namespace's init, bash gets only the signals it handles.
  trap 'exit 143' TERM
  trap 'exit 130' INT
  reset_state
  remove_containers
  import_base
  build_all
  test_entrypoint
  test_detached
  test_runtime_libs
}

# ---- on the host ------------------------------------------------------------

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
      missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install \
      -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "apt-get install ${missing[*]}"
}

# overlay where the cache's filesystem takes it (ext4, xfs: podman as root
# needs no fuse-overlayfs), vfs otherwise (slow, but it works on anything).
# The probe's graph root is on that filesystem; its runroot is short, as
# podman wants.
pick_driver() {
  local probe run err
  mkdir -p "$cache_root"
  probe=$(mktemp -d "$cache_root/.tmp.podman-probe.XXXXXX")
  run=$(mktemp -d /run/mocker-ci-probe.XXXXXX)
  if err=$(unshare --mount --propagation private -- podman --root "$probe" \
    --runroot "$run/storage" --tmpdir "$run/libpod" --storage-driver overlay \
    info 2>&1 >/dev/null); then
    echo overlay
  else
    say "overlay storage does not work under $cache_root, using vfs: $(tail -n1 <<<"$err")"
    echo vfs
  fi
  rm -rf --one-file-system "$probe" "$run"
}

# Stores of another base root or driver, left alone while a run holds them.
prune_stores() {
  local keep=$1 d
  for d in "$cache_root"/podman-*; do
    [[ -d $d && $d != "$keep" ]] || continue
    (
      exec {fd}<"$d"
      flock -n "$fd" || exit 0
      say "pruning stale store $d"
      rm -rf --one-file-system "$d"
    ) || true
  done
}

# The podman part, in its own mount and pid namespaces. On INT or TERM
# the inner script (unshare's child: unshare itself ignores both while it
# waits) gets TERM, cleans up after its current step and exits; only then
# do we go on to check the host. Should this script be killed outright,
# --kill-child still ends the inner one.
run_inner() {
  local pid rc=0
  unshare --mount --propagation private --pid --mount-proc \
    --kill-child=TERM -- bash "$self" --inner "$@" &
  pid=$!
  trap 'stop_inner "$pid"' INT TERM
  wait "$pid" || rc=$?
  # A trapped signal interrupts wait; the namespace is still cleaning up.
  while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" || rc=$?
  done
  trap - INT TERM
  return "$rc"
}

stop_inner() {
  local kids=()
  say "interrupted: cleaning up"
  read -ra kids <"/proc/$1/task/$1/children" 2>/dev/null || true
  [[ ${#kids[@]} -eq 0 ]] || kill -TERM "${kids[@]}" 2>/dev/null || true
}

# Links, nft tables and mount points, one a line. A tool that cannot run
# fails the stage rather than make the comparison vacuous.
snapshot_host() {
  local links tables
  links=$(ip -o link show) || die "ip -o link show"
  tables=$(nft list tables) || die "nft list tables"
  awk -F': ' '{print $2}' <<<"$links" | sed 's/@.*//' | sort
  echo '--- nft'
  sort <<<"$tables"
  echo '--- mounts'
  awk '{print $5}' /proc/self/mountinfo | sort
}

# Mounts, links and nft tables this stage could have made on the host
# (others' test suites run concurrently, so only names podman uses count),
# and cgroups podman left under our parent (removed when empty).
check_host() {
  local before=$1 store=$2 after new bad=
  after=$(snapshot_host)
  new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
  bad=$(grep -E "^(veth|cni|podman)|^table |^($store|/run/mocker-ci-|/var/lib/containers|/run/containers|/run/libpod)" \
    <<<"$new" || true)
  [[ -z $bad ]] || die "appeared on the host during the stage: $(tr '\n' ' ' <<<"$bad")"
  find /sys/fs/cgroup/*/"$CGROUP_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null || true
  if compgen -G "/sys/fs/cgroup/*/$CGROUP_PARENT" >/dev/null; then
    die "cgroups left: $(echo /sys/fs/cgroup/*/"$CGROUP_PARENT")"
  fi
  say "host unchanged: no new mounts, links, nft tables or cgroups from podman"
}

main() {
  local t0=$SECONDS digest driver store runroot before rc=0 runc_made=0
  [[ $# -eq 0 ]] || {
    echo "usage: .ci/dockerfile.sh" >&2
    exit 2
  }
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  ensure_packages
  base=$(mktemp -d)
  trap 'rm -rf "$base"' EXIT # base is global: the trap runs after main
  bash "$repo/tests/registry/debian-image.sh" "$base" || die "debian-image.sh"
  digest=$(sed -n 's/^digest: sha256://p' "$base/info" | cut -c1-16)
  [[ -n $digest ]] || die "no digest in $base/info"
  driver=$(pick_driver)
  store=$cache_root/podman-$driver-$digest
  # Per store (the cache root may be moved), and short (podman wants 50
  # characters at most).
  runroot=/run/mocker-ci-$(sha256sum <<<"$store" | cut -c1-12)
  mkdir -p "$store" "$runroot"
  # One run per store at a time: two podmans on one graph root need one
  # runroot, and each run's is private.
  exec {lock}<"$store"
  flock "$lock"
  prune_stores "$store"
  say "store $store (driver $driver)"
  before=$(snapshot_host)
  [[ -e /run/runc ]] || runc_made=1
  run_inner "$store" "$runroot" "$driver" "$base/layer.tar.gz" || rc=$?
  # Its tmpfs lived in the namespace only: what remains is the mount point.
  rm -rf --one-file-system "$runroot" || rc=1
  # conmon's exit command calls runc without our --root, and runc then
  # makes its default state directory (empty: the state was in ours).
  [[ $runc_made -eq 0 ]] || rmdir /run/runc 2>/dev/null || true
  check_host "$before" "$store"
  [[ $rc -eq 0 ]] || die "stage failed after $((SECONDS - t0)) s"
  say "passed in $((SECONDS - t0)) s"
}

if [[ ${1:-} == --inner ]]; then
  shift
  inner_main "$@"
else
  main "$@"
fi
