#!/usr/bin/env bash
# The fresh-machine stage: the README's two commands, verbatim, on a
# pristine Debian 12 root, as a new user would type them (issue 15).
#
#   usage: .ci/fresh-machine.sh        (as root, from any checkout)
#
# The two commands are the non-comment lines of the first ```sh block
# after README.md's "## Two commands" heading, so they cannot drift from
# what this stage proves. The root is debootstrap minbase plus sudo, git
# and ca-certificates (.ci/lib.sh, ci_pristine_root), built once and
# cached; each run works on a throwaway copy, into which this checkout's
# HEAD is cloned as /root/mocker. Both commands run there in turn, so the
# second sees what the first left, as on a person's machine.
#
# A second scenario ("alone") runs command 2 on another fresh root that
# has only make added: what CI's `make deps test` meets on a new machine.
# Only it catches a toolchain probe that one `make deps test` evaluates
# before `deps` installs the tool; after command 1 the tool is there.
#
# Isolation: each command runs with the root as its / (pivot_root), in
# its own mount, pid, UTS and network namespaces. The network namespace
# has only lo, so command 1's container bridge and NAT stay inside it,
# and nothing leaves the machine but apt: for each host apt uses (the
# mirrors in the host's sources, or its proxy), the host's own address
# for it is put on that lo and in /etc/hosts, and a forwarder relays
# those ports, and only those, to the same address from the host's
# namespace. apt inside thus reaches the archive as the host does.
#
# Command 1 ends in `mocker run -it ... /bin/sh`; it runs under a pty,
# and once the container's prompt shows, a line is typed into it whose
# output proves the shell ran it. Command 2 runs everything but the QEMU
# VM suite (make test-vm), which the normal stage runs: MOCKER_SKIP_VM
# says why, and sudo is told to keep it.
#
# Exit status: 0 when every command passed; 1 when one failed (the
# summary names it, with its log's tail); 2 on a usage error.
#
# Environment: FRESH_SCENARIOS (default "readme alone"), FRESH_WORK
# (where the throwaway roots go, default /var/tmp; not overlayfs, since
# mocker makes overlay upper dirs there), FRESH_CMD1_TIMEOUT and
# FRESH_CMD2_TIMEOUT (seconds, default 1200 and 2400), MOCKER_TEST_CACHE
# and DEBIAN_MIRROR (see .ci/lib.sh).
# shellcheck disable=SC2317 # "unreachable": shellcheck loses track after main; exit
set -euo pipefail

# shellcheck disable=SC2034 # read by lib.sh
CI_NAME=fresh-machine
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

readonly SKIP_VM_REASON="runs in the normal CI stage; QEMU under TCG inside the fresh root would add minutes"
readonly CMD1_TIMEOUT=${FRESH_CMD1_TIMEOUT:-1200}
readonly CMD2_TIMEOUT=${FRESH_CMD2_TIMEOUT:-2400}
readonly WORK_BASE=${FRESH_WORK:-/var/tmp}
readonly SCENARIOS=${FRESH_SCENARIOS:-readme alone}
# What "alone" runs before command 2: make, as command 1 installs it.
readonly MAKE_FIRST='sudo apt-get update && sudo apt-get install -y make'
readonly NETNS=mocker-fresh-$$
readonly ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

work=
root=
fwd_pid=
job_pid=
tail_pid=

usage() {
  echo "usage: [FRESH_SCENARIOS='readme alone'] .ci/fresh-machine.sh   (as root)" >&2
  exit 2
}

# ---- cleanup: every exit path ----------------------------------------------

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# The mounts live in the commands' own mount namespaces and die with
# them; what is left on the host is processes, the netns and the copy.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -z $job_pid ]] || stop_pid "$job_pid"
  [[ -z $tail_pid ]] || stop_pid "$tail_pid"
  [[ -z $fwd_pid ]] || stop_pid "$fwd_pid"
  [[ ! -e /run/netns/$NETNS ]] || ip netns delete "$NETNS" || rc=1
  if [[ -n $work ]]; then
    ci_remove_tree "$work" || rc=1
    if grep -qF " $work" /proc/self/mountinfo; then
      ci_say "mounts left under $work:"
      grep -F " $work" /proc/self/mountinfo >&2
      rc=1
    fi
  fi
  exit "$rc"
}

# Leftovers of runs that were killed before their cleanup: their work
# directories and network namespaces, named after their (now dead) pid.
remove_stale() {
  local d pid
  for d in "$WORK_BASE"/mocker-fresh.* /run/netns/mocker-fresh-*; do
    [[ -e $d ]] || continue
    pid=${d##*[.-]}
    [[ $pid =~ ^[0-9]+$ && $pid != "$$" ]] || continue
    if [[ -r /proc/$pid/cmdline ]] && grep -qa fresh-machine "/proc/$pid/cmdline"; then
      continue # a run in progress
    fi
    ci_say "removing $d, left by a killed run"
    if [[ $d == /run/netns/* ]]; then
      ip netns delete "${d##*/}" || true
    else
      ci_remove_tree "$d"
    fi
  done
}

# ---- what the README says ----------------------------------------------------

read_commands() {
  mapfile -t commands < <(awk '
    /^## Two commands/ { sect = 1; next }
    sect && /^## / { exit }
    sect && !block && /^```sh/ { block = 1; next }
    block && /^```/ { exit }
    block && NF && $1 !~ /^#/ { print }' "$repo/README.md")
  [[ ${#commands[@]} -eq 2 ]] ||
    ci_die "README.md: expected 2 commands in the first \`\`\`sh block after '## Two commands', found ${#commands[@]}"
}

# ---- the root ----------------------------------------------------------------

# apt inside reads the host's sources and the host's settings for how to
# reach them (a proxy, a mirror whose Release files are not fresh).
configure_apt() {
  local f
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
  else
    cp /etc/apt/sources.list "$root/etc/apt/sources.list"
  fi
  for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
    [[ -f $f ]] || continue
    if grep -qE '^[[:space:]]*Acquire::([A-Za-z]+::)?(Proxy|Check-Valid-Until|Check-Date)' "$f"; then
      cp "$f" "$root/etc/apt/${f#/etc/apt/}"
    fi
  done
}

clone_repo() {
  local head
  head=$(git -C "$repo" rev-parse HEAD)
  if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no) ]]; then
    ci_say "note: $repo has uncommitted changes; the stage tests HEAD ($head), as a clone would"
  fi
  git clone -q --no-hardlinks "$repo" "$root/root/mocker"
  git -C "$root/root/mocker" checkout -q --detach "$head"
}

# prepare_root DIR: a fresh copy of the pristine root in DIR, with this
# checkout cloned into it; it becomes $root, where commands run.
prepare_root() {
  ci_pristine_root >/dev/null
  root=$1
  cp -a --reflink=auto "$CI_PRISTINE_ROOT" "$root"
  configure_apt
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  [[ ! -f $work/hosts ]] || cat "$work/hosts" >>"$root/etc/hosts"
  # sudo resets the environment; the VM suite's skip must get through.
  echo 'Defaults env_keep += "MOCKER_SKIP_VM"' >"$root/etc/sudoers.d/fresh-machine"
  chmod 0440 "$root/etc/sudoers.d/fresh-machine"
  clone_repo
}

# ---- the network: lo, plus apt's hosts relayed from the host ---------------

# "HOST PORT" for every host apt would connect to: the mirrors in the
# root's sources and the host's http(s) proxies.
apt_endpoints() {
  local proxies
  proxies=$(apt-config dump | sed -n 's/^Acquire::https\{0,1\}::Proxy "\(.*\)";$/\1/p')
  python3 - "$root/etc/apt" "$proxies" <<'EOF'
import glob, os, sys
from urllib.parse import urlsplit

apt, proxies = sys.argv[1], sys.argv[2].split()
uris = list(proxies)
for path in glob.glob(os.path.join(apt, "sources.list.d", "*.sources")):
    for line in open(path):
        if line.lower().startswith("uris:"):
            uris += line.split()[1:]
for path in [os.path.join(apt, "sources.list")] + glob.glob(os.path.join(apt, "sources.list.d", "*.list")):
    if os.path.exists(path):
        for line in open(path):
            words = [w for w in line.split("#", 1)[0].split() if not w.startswith("[") and not w.endswith("]")]
            if len(words) >= 2 and words[0] == "deb":
                uris.append(words[1])
seen = set()
for uri in uris:
    u = urlsplit(uri)
    if u.scheme not in ("http", "https") or not u.hostname:
        continue
    port = u.port or (443 if u.scheme == "https" else 80)
    if (u.hostname, port) not in seen:
        seen.add((u.hostname, port))
        print(u.hostname, port)
EOF
}

# The host's own answer for HOST, IPv4 first.
host_address() {
  local addr
  addr=$(getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }')
  [[ -n $addr ]] || addr=$(getent ahosts "$1" | awk 'NR == 1 { print $1 }')
  [[ -n $addr ]] || return 1
  echo "$addr"
}

write_forwarder() {
  cat >"$work/forward.py" <<'EOF'
# forward.py NETNS READY LOG ADDR PORT [ADDR PORT...]: listen on each
# ADDR:PORT inside the network namespace NETNS and relay every connection
# to the same ADDR:PORT from the namespace this process started in.
import ctypes, os, signal, socket, sys, threading

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)

def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))

netns, ready, log = sys.argv[1:4]
targets = list(zip(sys.argv[4::2], map(int, sys.argv[5::2])))
counts = {t: 0 for t in targets}

# Sockets keep the namespace they were made in: the listeners are made
# inside, then this thread returns, so every later socket is the host's.
home = os.open("/proc/self/ns/net", os.O_RDONLY)
setns(os.open(netns, os.O_RDONLY))
listeners = []
try:
    for addr, port in targets:
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(128)
        listeners.append((s, (addr, port)))
finally:
    setns(home)

def pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

def relay(conn, target):
    try:
        up = socket.create_connection(target, timeout=30)
        up.settimeout(None)
    except OSError as e:
        print(f"forward: {target[0]}:{target[1]}: {e}", file=sys.stderr)
        conn.close()
        return
    back = threading.Thread(target=pump, args=(up, conn), daemon=True)
    back.start()
    pump(conn, up)
    back.join()
    conn.close()
    up.close()

def accept(s, target):
    while True:
        conn, _ = s.accept()
        counts[target] += 1
        threading.Thread(target=relay, args=(conn, target), daemon=True).start()

def stop(*_):
    with open(log, "w") as f:
        for (addr, port), n in counts.items():
            f.write(f"{addr}:{port} {n}\n")
    os._exit(0)

signal.signal(signal.SIGTERM, stop)
for s, target in listeners:
    threading.Thread(target=accept, args=(s, target), daemon=True).start()
open(ready, "w").close()
while True:
    signal.pause()
EOF
}

setup_network() {
  local host port addr args=()
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  while read -r host port; do
    addr=$(host_address "$host") || ci_die "cannot resolve $host, which apt uses"
    [[ $addr == 127.* || $addr == ::1 ]] || ip -n "$NETNS" addr add "$addr" dev lo 2>/dev/null || true
    printf '%s\t%s\n' "$addr" "$host" | tee -a "$work/hosts" >>"$root/etc/hosts"
    args+=("$addr" "$port")
    ci_say "apt's $host:$port is relayed to $addr:$port; nothing else leaves"
  done < <(apt_endpoints)
  [[ ${#args[@]} -gt 0 ]] || ci_die "apt uses no http(s) host; nothing to relay"
  write_forwarder
  python3 "$work/forward.py" "/run/netns/$NETNS" "$work/forward.ready" \
    "$work/forward.counts" "${args[@]}" &
  fwd_pid=$!
  for _ in $(seq 100); do
    [[ -e $work/forward.ready ]] && return 0
    kill -0 "$fwd_pid" 2>/dev/null || break
    sleep 0.1
  done
  ci_die "the apt forwarder did not start"
}

# ---- running a command in the root ------------------------------------------

# Runs as pid 1 of the new namespaces: ROOT COMMAND. The root becomes
# the namespace's real root by pivot_root, as in a container, not by
# chroot: the kernel refuses user namespaces to a chrooted process
# (the seccomp suites' `unshare -U`), and a chroot broke `mocker exec`'s
# check of /proc/1/root. It is bind mounted on itself first, since
# pivot_root needs a mount point. /sys is bound recursively, so the
# cgroup v1 hierarchies under /sys/fs/cgroup are there as on the host.
# shellcheck disable=SC2016
readonly ROOT_SETUP='
set -euo pipefail
root=$1 cmd=$2
mount --bind "$root" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$root/run"
mkdir -m 1777 "$root/run/lock"
echo localhost >/proc/sys/kernel/hostname
cd "$root"
pivot_root . .
umount -l .
cd /
/usr/bin/env -i -C /root/mocker HOME=/root USER=root LOGNAME=root \
  SHELL=/bin/bash TERM="$TERM" LANG=C.UTF-8 PATH="$PATH_IN" \
  MOCKER_SKIP_VM="$MOCKER_SKIP_VM" /bin/bash -c "$cmd"
'

# in_root COMMAND: the argv that runs COMMAND in the root.
in_root_argv() {
  in_root=(env TERM="${TERM_IN:-dumb}" PATH_IN="$ROOT_PATH"
    MOCKER_SKIP_VM="$SKIP_VM_REASON"
    nsenter --net="/run/netns/$NETNS" --
    unshare --mount --pid --uts --fork --kill-child --propagation private --
    bash -c "$ROOT_SETUP" fresh-root "$root" "$1")
}

# Command 1 under a pty, typed at as a person would: wait for the
# container's prompt, type a line, check the shell's answer and the exit
# status. The answer holds $((6*7)) worked out, so the echo of what was
# typed cannot pass for it.
write_pty_driver() {
  cat >"$work/pty-driver.py" <<'EOF'
# pty-driver.py DEADLINE_SECONDS TOKEN ARGV...
import os, pty, re, select, signal, struct, sys, termios, fcntl, time

deadline = time.monotonic() + float(sys.argv[1])
token, argv = sys.argv[2], sys.argv[3:]
line = f"echo fresh-{token}-$((6*7))-ok; exit\r".encode()
answer = f"fresh-{token}-42-ok"
ansi = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>78])")
prompt = re.compile(r"(^|\n)[^\n]{0,60}[#$] $")

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.execvp(argv[0], argv)

def kill_child(*_):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass

signal.signal(signal.SIGTERM, lambda *a: (kill_child(), sys.exit(143)))
text, typed, typed_at, why = "", False, 0.0, None
while True:
    now = time.monotonic()
    if now > deadline or (typed and now - typed_at > 120):
        why = "timed out " + ("after typing into the shell" if typed else "before the container's prompt")
        kill_child()
        break
    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        # Quiet, and the last line is a prompt: the shell waits for us.
        if not typed and prompt.search(text[-200:]):
            os.write(fd, line)
            typed, typed_at = True, now
        continue
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break  # EIO: every writer of the pty is gone
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
    text = (text + ansi.sub(b"", chunk).replace(b"\r", b"").decode(errors="replace"))[-65536:]
_, status = os.waitpid(pid, 0)
rc = os.waitstatus_to_exitcode(status)
seen = answer in text
print(f"\npty-driver: prompt {'seen' if typed else 'never seen'}, "
      f"answer {answer!r} {'seen' if seen else 'missing'}, exit status {rc}"
      + (f", {why}" if why else ""))
sys.exit(0 if typed and seen and rc == 0 and not why else (rc or 1))
EOF
}

# run_logged LOG ARGV...: ARGV with its output in LOG and on stdout; the
# stage's trap can stop it.
run_logged() {
  local log=$1 rc=0
  shift
  : >"$log"
  "$@" >"$log" 2>&1 </dev/null &
  job_pid=$!
  tail -n +1 -f --pid="$job_pid" "$log" &
  tail_pid=$!
  wait "$job_pid" || rc=$?
  job_pid=
  wait "$tail_pid" || true
  tail_pid=
  return "$rc"
}

run_command1() {
  write_pty_driver
  TERM_IN=xterm in_root_argv "${commands[0]}"
  run_logged "$work/command1.log" python3 "$work/pty-driver.py" \
    "$CMD1_TIMEOUT" "$$" "${in_root[@]}"
}

# run_command2 LOG [PREFIX]: command 2, after PREFIX if given.
run_command2() {
  in_root_argv "${2:+$2 && }${commands[1]}"
  run_logged "$1" timeout --kill-after=30 "$CMD2_TIMEOUT" "${in_root[@]}"
}

# Command 2 on its own fresh root that has only make added: a CI machine
# running .ci/run, or a person who goes straight to the tests. Only this
# catches a probe that `make deps test`, in one make, evaluates before
# `deps` installs its tool (pkg-config for CHECK_LIBS): after command 1
# the tool is there already. The first root goes first, so that the disk
# holds one root at a time.
run_command2_alone() {
  [[ -z $root ]] || ci_remove_tree "$root"
  prepare_root "$work/alone" || return 1
  [[ -n $fwd_pid ]] || setup_network
  run_command2 "$work/alone.log" "$MAKE_FIRST"
}

# ---- main ----------------------------------------------------------------------

report_skips() {
  if grep -q '^test-vm: skipped:' "$work"/command2.log "$work"/alone.log 2>/dev/null; then
    echo "skipped suite: make test-vm (the integration suites in the QEMU VM): $SKIP_VM_REASON"
  elif ((rc2 == 0 && rc3 == 0)); then
    echo "note: command 2 printed no 'test-vm: skipped:' line; this tree's Makefile ignores MOCKER_SKIP_VM"
  else
    echo "skipped suite: none; command 2 failed before make test-vm"
  fi
}

report_forwarder() {
  stop_pid "$fwd_pid"
  fwd_pid=
  [[ -s $work/forward.counts ]] || return 0
  while read -r target n; do
    echo "network: $n connection(s) relayed to $target (apt); no other route out"
  done <"$work/forward.counts"
}

result() { (($1)) && echo FAIL || echo PASS; }
has() { [[ " $SCENARIOS " == *" $1 "* ]]; }

main() {
  [[ $# -eq 0 ]] || usage
  [[ $(id -u) -eq 0 ]] || ci_die "must run as root (namespaces, mounts, pivot_root)"
  local t0=$SECONDS t d0=0 d1=0 d2=0 d3=0 rc1=0 rc2=0 rc3=0 log s
  for s in $SCENARIOS; do
    [[ $s == readme || $s == alone ]] || usage
  done
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  read_commands
  remove_stale
  # Named after our pid, so a later run can tell a killed run's leftovers.
  work=$WORK_BASE/mocker-fresh.$$
  ci_remove_tree "$work"
  mkdir -m 0700 "$work"

  if has readme; then
    t=$SECONDS
    ci_stage "fresh root: pristine bookworm copy, clone of $(git -C "$repo" rev-parse --short HEAD)" \
      prepare_root "$work/readme"
    setup_network
    d0=$((SECONDS - t))
    t=$SECONDS
    ci_stage "command 1: ${commands[0]}" run_command1 || rc1=$?
    d1=$((SECONDS - t))
    # The second runs on what the first left, as a person would try it.
    t=$SECONDS
    ci_stage "command 2: ${commands[1]}" run_command2 "$work/command2.log" || rc2=$?
    d2=$((SECONDS - t))
  fi
  if has alone; then
    t=$SECONDS
    ci_stage "command 2 alone, on another fresh root: $MAKE_FIRST && ${commands[1]}" \
      run_command2_alone || rc3=$?
    d3=$((SECONDS - t))
  fi

  echo
  echo "==== fresh-machine summary"
  if has readme; then
    printf '  %-4s %5ds  %s\n' prep "$d0" "pristine root copy, clone, network"
    printf '  %-4s %5ds  %s\n' "$(result $rc1)" "$d1" "1: ${commands[0]}"
    printf '  %-4s %5ds  %s\n' "$(result $rc2)" "$d2" "2: ${commands[1]}"
  fi
  if has alone; then
    printf '  %-4s %5ds  %s\n' "$(result $rc3)" "$d3" "2 alone, on another fresh root with make: ${commands[1]}"
  fi
  report_skips
  report_forwarder
  for log in command1 command2 alone; do
    [[ -s $work/$log.log ]] || continue
    case $log in
    command1) ((rc1)) || continue ;;
    command2) ((rc2)) || continue ;;
    alone) ((rc3)) || continue ;;
    esac
    echo "---- $log failed; its last lines:"
    tail -n 30 "$work/$log.log"
  done
  printf 'fresh-machine: %s in %ds\n' "$(result $((rc1 || rc2 || rc3)))" $((SECONDS - t0))
  ((rc1 == 0 && rc2 == 0 && rc3 == 0))
}

# One line: bash reads a script as it runs, and an edit made meanwhile
# must not be read after main returns.
main "$@"; exit
