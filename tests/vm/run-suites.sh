#!/usr/bin/env bash
# Run integration suites inside a throwaway QEMU VM: Debian's cloud kernel,
# a pure cgroup v2 host (cgroup2 mounted with nsdelegate, no v1 at all),
# booted from an initramfs that holds busybox, mocker and the suites.
#
#   tests/vm/run-suites.sh [-q] [SUITE...]
#
# SUITE is a test binary (build/tests/integration/check_run) or a bare name
# (check_run, looked up in $BUILD/tests/integration then $BUILD/tests/security).
# Without one: check_run check_signals check_lifecycle check_exec check_ps
# check_volume, those that are built. -q prints only the VM's summary lines
# instead of streaming the whole serial console.
#
# Exit status: 0 when every suite ran and exited 0; 1 when a suite failed,
# a result line is missing (the VM crashed, hung or timed out) or /init
# reported an error; 2 on a usage or set-up error.
#
# Cache: $MOCKER_VM_CACHE (default $MOCKER_TEST_CACHE/vm, i.e.
# /var/cache/mocker-test/vm) holds one directory per kernel package version
# with vmlinuz and its module tree, filled once (apt-get download +
# dpkg-deb -x; never installed), atomically, under a lock. Outputs go to
# $BUILD/vm/ (initramfs, serial log). See tests/vm/README.md.
#
# Environment: BUILD (build dir, default build), MOCKER_VM_CACHE,
# MOCKER_VM_KERNEL_PKG (a linux-image-*-cloud-amd64 package to use instead
# of the one linux-image-cloud-amd64 depends on), MOCKER_VM_MEM (MiB, 1536),
# MOCKER_VM_SMP (2), MOCKER_VM_SUITE_TIMEOUT (seconds per suite inside the
# VM, 600), MOCKER_VM_TIMEOUT (hard limit on QEMU, default 90 + the sum of
# the suite timeouts), MOCKER_VM_STRIP (1: strip debug info from the copies
# of mocker and the suites; 0 keeps it), MOCKER_VM_CK_TIMEOUT_MULTIPLIER (libcheck's
# CK_TIMEOUT_MULTIPLIER in the guest, 4: TCG is several times slower than
# the host), MOCKER_VM_APPEND (extra kernel command line), MOCKER_VM_ENV
# (extra VAR=value words exported to the suites).
set -uo pipefail

# The whole script is one compound command, read before it runs, so editing
# this file during a (long) run cannot derail the run.
{

# ---- what goes into the VM: extend here ------------------------------------

# Kernel modules to load, by name, in this order; each one's dependencies
# (read from its .modinfo: Debian's package has no modules.dep) are added
# and loaded first, and built-in ones are skipped. The resolved order is
# printed with the initramfs line and kept in /lib/modules/mocker/load-order.
#  - overlay: the containers' root file systems;
#  - veth, bridge (+ llc, stp): bridge networking, mocker0 and its veths;
#  - nf_tables (+ nfnetlink, libcrc32c) and the expressions of mocker's
#    `table ip mocker`: nft_chain_nat (nat chains; + nf_nat, nf_conntrack,
#    nf_defrag_ipv4/ipv6), nft_nat (dnat), nft_masq (masquerade), nft_ct
#    (ct state), nft_fib_ipv4 (fib daddr type local; + nft_fib).
# Sets, maps, counters, meta, payload and lookups are built into nf_tables.
# The guest has no modprobe tree, so an expression whose module is not
# loaded here fails in `nft -f` with "No such file or directory"; add it.
MODULES=(overlay veth bridge nf_tables nft_chain_nat nft_nat nft_masq nft_ct
  nft_fib_ipv4)

# Suites run when none is named.
DEFAULT_SUITES=(check_run check_signals check_lifecycle check_exec check_ps
  check_volume)

# Host programs copied into the guest with their shared libraries, for what
# busybox's applets cannot do. Each entry is a host path; it lands at the
# same path in the guest (/usr/sbin is /usr/bin there), replacing the
# busybox applet of that name. A missing one is installed from the package
# named in HOST_PROGRAM_PKGS.
#  - /usr/sbin/nft: mocker loads its ruleset with `nft -f -`;
#  - /usr/sbin/ip: iproute2's, for suites that make bridges and veth pairs
#    (busybox's `ip link add A type veth peer name B` ignores the peer name).
HOST_PROGRAMS=(/usr/sbin/nft /usr/sbin/ip)
declare -A HOST_PROGRAM_PKGS=([/usr/sbin/nft]=nftables [/usr/sbin/ip]=iproute2)

# Shared libraries that mocker dlopens, so ldd cannot name them, by soname;
# each is copied to its host path with the libraries it needs. mocker loads
# libnftables only when it changes its nftables rules (bridge networking).
HOST_LIBS=(libnftables.so.1)
declare -A HOST_LIB_PKGS=([libnftables.so.1]=libnftables1)

# ---- settings ----------------------------------------------------------------

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$self")/../.." && pwd)
build=${BUILD:-build}
[[ $build = /* ]] || build=$repo/$build
cache=${MOCKER_VM_CACHE:-${MOCKER_TEST_CACHE:-/var/cache/mocker-test}/vm}
out=$build/vm
mem=${MOCKER_VM_MEM:-1536}
smp=${MOCKER_VM_SMP:-2}
suite_timeout=${MOCKER_VM_SUITE_TIMEOUT:-600}
ck_mult=${MOCKER_VM_CK_TIMEOUT_MULTIPLIER:-4}
strip=${MOCKER_VM_STRIP:-1}
command -v strip >/dev/null || strip=0
quiet=0

say() { printf 'run-suites.sh: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 2
}
now() { printf '%s' "$EPOCHREALTIME"; }
# elapsed START [END]: seconds with one decimal
elapsed() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$self" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case $1 in
  -q) quiet=1 ;;
  -h | --help) usage ;;
  --) shift; break ;;
  -*) die "unknown option $1 (see --help)" ;;
  *) break ;;
  esac
  shift
done

[[ $(id -u) = 0 ]] || die "must run as root (apt-get, and the suites need root)"
[[ $(dpkg --print-architecture) = amd64 ]] || die "amd64 hosts only"

t_total=$(now)

# ---- suites ------------------------------------------------------------------

suite_paths=()
suite_names=()
add_suite() {
  local arg=$1 path name
  if [[ $arg = */* ]]; then
    path=$arg
  elif [[ -e $build/tests/integration/$arg ]]; then
    path=$build/tests/integration/$arg
  else
    path=$build/tests/security/$arg
  fi
  [[ -f $path && -x $path ]] || {
    say "$arg: no such test binary (build it: make ${path#"$repo"/})"
    return 1
  }
  name=$(basename "$path")
  for n in "${suite_names[@]}"; do
    [[ $n != "$name" ]] || die "$name named twice"
  done
  suite_paths+=("$(readlink -f "$path")")
  suite_names+=("$name")
}
if [[ $# -gt 0 ]]; then
  for a in "$@"; do add_suite "$a" || exit 2; done
else
  for s in "${DEFAULT_SUITES[@]}"; do
    [[ -x $build/tests/integration/$s ]] && add_suite "$s"
  done
  [[ ${#suite_names[@]} -gt 0 ]] || die "no suite built; make the integration tests first"
fi
for f in mocker mocker-init mocker-monitor; do
  [[ -x $build/$f ]] || die "$build/$f missing; run make first"
done

# ---- host tools --------------------------------------------------------------

need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v cpio >/dev/null || need_pkgs+=(cpio)
[[ -x /bin/busybox ]] && /bin/busybox --list-full >/dev/null 2>&1 ||
  need_pkgs+=(busybox-static)
for p in "${HOST_PROGRAMS[@]}"; do
  [[ -x $p ]] && continue
  [[ -n ${HOST_PROGRAM_PKGS[$p]:-} ]] || die "$p is missing and no package is known for it"
  need_pkgs+=("${HOST_PROGRAM_PKGS[$p]}")
done
# host_lib SONAME: its path, from the loader's cache (empty if unknown)
host_lib() {
  ldconfig -p 2>/dev/null | awk -v l="$1" '$1 == l && /x86-64/ { print $NF; exit }'
}
for l in "${HOST_LIBS[@]}"; do
  [[ -n $(host_lib "$l") ]] && continue
  [[ -n ${HOST_LIB_PKGS[$l]:-} ]] || die "$l is missing and no package is known for it"
  need_pkgs+=("${HOST_LIB_PKGS[$l]}")
done
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
  say "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${need_pkgs[@]}" >/dev/null || die "apt-get install ${need_pkgs[*]} failed"
fi
# busybox-static must be static: the guest has no loader for it otherwise
ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is dynamic; install busybox-static"

# ---- kernel: fetched once per package version --------------------------------

mkdir -p "$cache" "$out" || die "cannot create $cache or $out"
# One run per build dir at a time: the initramfs and log are shared, and
# two emulated VMs at once would starve each other.
exec 8>"$out/.lock"
flock -n 8 || {
  say "another run-suites.sh is using ${out#"$repo"/}; waiting"
  flock 8 || die "cannot lock $out/.lock"
}

current_kernel_pkg() {
  local pkg
  if [[ -n ${MOCKER_VM_KERNEL_PKG:-} ]]; then
    echo "$MOCKER_VM_KERNEL_PKG"
    return
  fi
  # The metapackage names the current ABI of the stable series.
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1)
  [[ -n $pkg ]] || pkg=$(apt-cache search --names-only \
    '^linux-image-[0-9.]+-[0-9]+-cloud-amd64$' 2>/dev/null |
    awk '{print $1}' | sort -V | tail -n1)
  echo "$pkg"
}

tmp_entry=
cleanup() {
  [[ -z $tmp_entry ]] || rm -rf "$tmp_entry"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fetch_kernel() { # PKG VERSION ENTRY
  local pkg=$1 ver=$2 entry=$3 t0 deb kdir
  t0=$(now)
  tmp_entry=$(mktemp -d "$cache/.tmp.XXXXXX") || die "mktemp in $cache"
  say "downloading $pkg $ver (once; cached in $entry)"
  (cd "$tmp_entry" && apt-get download -q -o APT::Sandbox::User=root \
    "$pkg=$ver" >download.log 2>&1) || {
    cat "$tmp_entry/download.log" >&2
    die "apt-get download $pkg=$ver failed"
  }
  deb=$(ls "$tmp_entry"/*.deb) && [[ $(wc -l <<<"$deb") = 1 ]] || die "no .deb downloaded"
  dpkg-deb -x "$deb" "$tmp_entry/root" || die "dpkg-deb -x $deb failed"
  mv "$tmp_entry"/root/boot/vmlinuz-* "$tmp_entry/vmlinuz" || die "no vmlinuz in $deb"
  kdir=$(ls -d "$tmp_entry"/root/lib/modules/*/ 2>/dev/null | head -n1)
  [[ -n $kdir && -d $kdir/kernel ]] || die "no module tree in $deb"
  mv "$kdir" "$tmp_entry/modules"
  printf 'package %s\nversion %s\nrelease %s\ndeb_size %s\ndownload_and_extract_s %s\n' \
    "$pkg" "$ver" "$(basename "$kdir")" "$(stat -c %s "$deb")" "$(elapsed "$t0")" \
    >"$tmp_entry/info"
  rm -rf "$tmp_entry/root" "$deb" "$tmp_entry/download.log"
  mv -T "$tmp_entry" "$entry" || die "cannot move the kernel into $entry"
  tmp_entry=
  say "kernel fetched and extracted in $(elapsed "$t0") s"
}

exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"
kpkg=$(current_kernel_pkg)
kver=
[[ -z $kpkg ]] || kver=$(apt-cache policy "$kpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
if [[ -n $kpkg && -n $kver && $kver != "(none)" ]]; then
  kentry=$cache/${kpkg}_${kver}
  if [[ ! -f $kentry/info ]]; then
    fetch_kernel "$kpkg" "$kver" "$kentry"
    # keep only the newest entry; the package lists moved on
    for old in "$cache"/linux-image-*; do
      [[ $old = "$kentry" ]] || rm -rf "$old"
    done
  fi
else
  # no package lists (offline, fresh container): use what is cached
  kentry=$(ls -d "$cache"/linux-image-*/ 2>/dev/null | sort -V | tail -n1)
  kentry=${kentry%/}
  [[ -n $kentry && -f $kentry/info ]] ||
    die "no cloud kernel known to apt (run apt-get update) and none cached in $cache"
  say "apt knows no cloud kernel; using the cached $(basename "$kentry")"
fi
flock -u 9
exec 9>&-
krelease=$(sed -n 's/^release //p' "$kentry/info")
kdl=$(sed -n 's/^download_and_extract_s //p' "$kentry/info")

# ---- initramfs ----------------------------------------------------------------

t_initrd=$(now)
root=$out/initramfs
initrd=$out/initramfs.cpio.gz
rm -rf "$root"
mkdir -p "$root"/usr/{bin,lib,lib64} "$root"/{dev,proc,sys,tmp,run,root,etc,mnt} \
  "$root"/var/lib/mocker "$root"/opt/mocker/tests || die "cannot create $root"
# Debian 12's merged /usr, as on the host, so ldd's paths land in place;
# sbin is bin, so /sbin/insmod and /usr/sbin/ip both resolve.
ln -s bin "$root/usr/sbin"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
mkdir -p "$root/lib/modules/mocker" "$root/etc/mocker-vm"

# Copies the shared libraries and loader HOST_BINARY needs (per ldd).
copy_libs() {
  local bin=$1 lib
  ldd "$bin" >/dev/null 2>&1 || return 0 # static
  while read -r lib; do
    [[ -e $root$lib ]] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib" || die "cannot copy $lib (for $bin)"
  done < <(ldd "$bin" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')
}
install_bin() { # HOST_PATH GUEST_PATH [strip]
  mkdir -p "$root$(dirname "$2")"
  { cp -L "$1" "$root$2" && chmod 0755 "$root$2"; } || die "cannot copy $1"
  # Debug info only bloats the initramfs (mocker: 4 MB -> 1.5 MB), and
  # every byte is unpacked under emulation at each boot.
  # Only ELF files: a suite may also be a shell script.
  if [[ ${3:-} = strip && $strip = 1 ]] &&
    [[ $(head -c 4 "$1" | od -An -c | tr -d ' ') = 177ELF ]]; then
    strip --strip-debug "$root$2" || die "strip $2 failed"
  fi
  copy_libs "$1"
}

# busybox and its applets, all in /usr/bin (symlinks to /usr/bin/busybox)
install_bin /bin/busybox /usr/bin/busybox
/bin/busybox --install -s "$root/usr/bin" || die "busybox --install failed"
for p in "${HOST_PROGRAMS[@]}"; do
  rm -f "$root$p"
  install_bin "$p" "$p"
done
for l in "${HOST_LIBS[@]}"; do
  p=$(host_lib "$l")
  [[ -n $p ]] || die "$l: not in the loader's cache (ldconfig -p)"
  [[ -e $root$p ]] || install_bin "$p" "$p"
done

for f in mocker mocker-init mocker-monitor; do
  install_bin "$build/$f" "/opt/mocker/$f" strip
done
for i in "${!suite_names[@]}"; do
  install_bin "${suite_paths[$i]}" "/opt/mocker/tests/${suite_names[$i]}" strip
done
# The security suites mount this static probe into containers.
if [[ -x $build/tests/security/probe ]]; then
  install_bin "$build/tests/security/probe" /opt/mocker/tests/probe strip
fi

# Kernel modules: resolve dependencies from each .ko's .modinfo.
kmods=$kentry/modules
declare -A mod_file=() mod_done=()
while read -r f; do
  n=$(basename "$f")
  n=${n%%.ko*}
  mod_file[${n//-/_}]=$f
done < <(find "$kmods/kernel" -name '*.ko*')
builtin=$(sed 's#.*/##; s/\.ko$//; s/-/_/g' "$kmods/modules.builtin" 2>/dev/null)
mod_order=()
ko_text() { # FILE: the module's bytes, decompressed
  case $1 in
  *.ko.xz) xz -dc "$1" ;;
  *.ko.zst) zstd -qdc "$1" ;;
  *.ko.gz) gzip -dc "$1" ;;
  *) cat "$1" ;;
  esac
}
add_module() {
  local n=${1//-/_} dep deps
  [[ -z ${mod_done[$n]:-} ]] || return 0
  mod_done[$n]=1
  if [[ -z ${mod_file[$n]:-} ]]; then
    grep -qx "$n" <<<"$builtin" && return 0
    die "kernel module $n: not in $krelease, neither as a module nor built in"
  fi
  deps=$(ko_text "${mod_file[$n]}" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1)
  for dep in ${deps//,/ }; do add_module "$dep"; done
  ko_text "${mod_file[$n]}" >"$root/lib/modules/mocker/$n.ko" ||
    die "cannot unpack module $n"
  mod_order+=("$n")
}
for m in "${MODULES[@]}"; do add_module "$m"; done
printf '%s\n' "${mod_order[@]}" >"$root/lib/modules/mocker/load-order"

printf '%s\n' "${suite_names[@]}" >"$root/etc/mocker-vm/suites"
{
  printf 'export CK_TIMEOUT_MULTIPLIER=%q\n' "$ck_mult"
  printf 'SUITE_TIMEOUT=%q\n' "$suite_timeout"
  [[ -x $build/tests/security/probe ]] &&
    printf 'export MOCKER_PROBE=/opt/mocker/tests/probe\n'
  for kv in ${MOCKER_VM_ENV:-}; do printf 'export %q\n' "$kv"; done
} >"$root/etc/mocker-vm/env"

# A minimal host /etc: mocker copies resolv.conf and hosts into containers.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf 'nameserver 127.0.0.53\n' >"$root/etc/resolv.conf"
echo mocker-vm >"$root/etc/hostname"

cat >"$root/init" <<'EOF'
#!/bin/sh
# /init of the mocker test VM, written by tests/vm/run-suites.sh.
# Prints, on the serial console:
#   MOCKER-VM-INIT uptime=S kernel=R cgroup=v2 controllers=a,b,...
#   MOCKER-VM-BEGIN SUITE
#   ... the suite's output ...
#   MOCKER-VM-RESULT SUITE EXIT_STATUS SECONDS
#   MOCKER-VM-ERROR message            (set-up failures)
#   MOCKER-VM-DONE uptime=S
# then powers off. Suites: mocker.suites=a,b on the kernel command line,
# else /etc/mocker-vm/suites.
export PATH=/opt/mocker:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C
err() { echo "MOCKER-VM-ERROR $*"; }
must() { "$@" || err "failed: $*"; }
uptime_cs() {
  read -r up _ </proc/uptime
  echo $((${up%.*} * 100 + 1${up#*.} - 100))
}

must mount -t proc -o nosuid,nodev,noexec proc /proc
must mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
must mount -t devtmpfs -o nosuid,mode=755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
must mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
must mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
must mount -t mqueue mqueue /dev/mqueue
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
must mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
must mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run
must mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
echo "MOCKER-VM-INIT uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)" \
  "cgroup=$(if [ -f /sys/fs/cgroup/cgroup.controllers ] &&
    ! grep -q ' cgroup ' /proc/mounts; then echo v2; else echo NOT-v2; fi)" \
  "controllers=$(tr ' ' , </sys/fs/cgroup/cgroup.controllers)"

while read -r m; do
  insmod "/lib/modules/mocker/$m.ko" || err "insmod $m failed"
done </lib/modules/mocker/load-order
must ip link set lo up
hostname mocker-vm
. /etc/mocker-vm/env

suites=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^mocker\.suites=//p' | tr , ' ')
[ -n "$suites" ] || suites=$(cat /etc/mocker-vm/suites)
cd /tmp
for s in $suites; do
  echo "MOCKER-VM-BEGIN $s"
  t0=$(uptime_cs)
  if [ -x "/opt/mocker/tests/$s" ]; then
    MOCKER=/opt/mocker/mocker timeout -s KILL "$SUITE_TIMEOUT" \
      "/opt/mocker/tests/$s" </dev/null 2>&1
    rc=$?
  else
    echo "no such suite in the initramfs: $s"
    rc=127
  fi
  t1=$(uptime_cs)
  echo "MOCKER-VM-RESULT $s $rc $(((t1 - t0) / 100)).$(((t1 - t0) % 100 / 10))"
done
echo "MOCKER-VM-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
sleep 5
echo "MOCKER-VM-ERROR poweroff -f returned"
EOF
chmod 0755 "$root/init"

(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
  cpio --null --create --format=newc --owner=0:0 --quiet) | gzip -1 >"$initrd" ||
  die "cannot build $initrd"
t_initrd_s=$(elapsed "$t_initrd")
say "initramfs $(du -h "$initrd" | cut -f1) with ${suite_names[*]} (modules: ${mod_order[*]:-none}) in ${t_initrd_s} s"

# ---- boot ----------------------------------------------------------------------

log=$out/serial.log
marks=$out/marks
hard_timeout=${MOCKER_VM_TIMEOUT:-$((90 + suite_timeout * ${#suite_names[@]}))}
append="console=ttyS0 quiet panic=-1 ${MOCKER_VM_APPEND:-}"
say "booting $krelease (TCG, -m $mem -smp $smp, hard timeout ${hard_timeout}s); serial log: ${log#"$repo"/}"
: >"$log"
: >"$marks"
t_boot=$(now)
timeout -k 10 "$hard_timeout" qemu-system-x86_64 -m "$mem" -smp "$smp" \
  -nographic -nodefaults -no-user-config -no-reboot -nic none -serial stdio \
  -kernel "$kentry/vmlinuz" -initrd "$initrd" -append "$append" </dev/null 2>&1 |
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    printf '%s\n' "$line" >&3
    case $line in
    *MOCKER-VM-*)
      printf '%s %s\n' "$EPOCHREALTIME" "${line#*MOCKER-VM-}" >&4
      [[ $quiet = 0 ]] || printf 'MOCKER-VM-%s\n' "${line#*MOCKER-VM-}"
      ;;
    esac
    [[ $quiet = 1 ]] || printf '%s\n' "$line"
  done 3>>"$log" 4>>"$marks"
qemu_rc=${PIPESTATUS[0]}
t_end=$(now)

# ---- report ------------------------------------------------------------------

init_at=$(awk '$2 == "INIT" { print $1; exit }' "$marks")
guest_up=$(sed -n 's/.*MOCKER-VM-INIT uptime=\([0-9.]*\).*/\1/p' "$log" | head -n1)
fail=0
echo
echo "== mocker VM: $krelease, $(sed -n 's/.*MOCKER-VM-INIT .*\(cgroup=[^ ]*\) \(controllers=[^ ]*\).*/\1 \2/p' "$log" | head -n1)"
for s in "${suite_names[@]}"; do
  res=$(grep -a -o "MOCKER-VM-RESULT $s -\{0,1\}[0-9]* [0-9.]*" "$log" | tail -n1)
  if [[ -z $res ]]; then
    printf '  %-20s MISSING  (no result: the VM crashed, hung or timed out)\n' "$s"
    fail=1
    continue
  fi
  read -r _ _ rc secs <<<"$res"
  if [[ $rc = 0 ]]; then
    printf '  %-20s PASS     %6ss\n' "$s" "$secs"
  else
    printf '  %-20s FAIL     %6ss  exit %s\n' "$s" "$secs" "$rc"
    fail=1
    # the suite's failing checks (libcheck's file:line:F|E: lines)
    awk -v s="$s" 'index($0, "MOCKER-VM-BEGIN " s) { on = 1; next }
      on && index($0, "MOCKER-VM-RESULT " s " ") { exit }
      on && /:[FE]:/ && ++n <= 12 { print "      " substr($0, 1, 300) }
      END { if (n > 12) print "      ... and " n - 12 " more failing checks (see the log)" }' "$log"
  fi
done
if grep -a -q 'MOCKER-VM-ERROR' "$log"; then
  echo "  /init reported errors:"
  grep -a -o 'MOCKER-VM-ERROR.*' "$log" | sed 's/^/      /'
  fail=1
fi
if ! grep -a -q 'MOCKER-VM-DONE' "$log"; then
  echo "  /init did not finish (qemu exit $qemu_rc$([[ $qemu_rc = 124 ]] && echo ": hard timeout ${hard_timeout}s"))"
  grep -a -q 'Kernel panic' "$log" && grep -a -m3 'Kernel panic' "$log" | sed 's/^/      /'
  fail=1
elif [[ $qemu_rc != 0 ]]; then
  echo "  qemu exited $qemu_rc after the suites finished (poweroff failed?)"
  fail=1
fi
echo "  timings: kernel download+extract ${kdl}s (once, cached), initramfs ${t_initrd_s}s," \
  "boot to /init $([[ -n $init_at ]] && elapsed "$t_boot" "$init_at" || echo '?')s" \
  "(guest uptime ${guest_up:-?}s), VM $(elapsed "$t_boot" "$t_end")s," \
  "total $(elapsed "$t_total" "$t_end")s"
echo "  serial log: ${log#"$repo"/}"
if [[ $fail = 0 ]]; then
  echo "== PASS"
else
  echo "== FAIL"
fi
exit "$fail"
}
