#!/bin/bash
# Run the opencontainers runtime-tools validation suite (commit 260e151,
# built in /work/conf/runtime-tools) against one OCI runtime.
#
#   run-suite.sh RUNTIME_PATH [LABEL] [TEST...]
#
#   RUNTIME_PATH  e.g. /work/conf/src/build/mocker-runtime, /usr/sbin/runc,
#                 /usr/bin/crun
#   LABEL         output subdirectory name (default: basename of RUNTIME_PATH)
#   TEST...       test names (default: every validation/*/*.t)
#
# Isolation, so nothing is shared with other users of the machine:
#  - the runtime is called through a wrapper that adds `--root
#    /run/conf-suite/LABEL` (a private state root) and logs every call
#    (out/LABEL/calls.log), so every container id the suite used is known;
#  - TMPDIR=/work/conf/tmp/LABEL: the suite's bundles (os.MkdirTemp) go
#    there, not in /tmp;
#  - each binary runs in `unshare --mount --ipc --uts --propagation private`
#    (linux_ns_itype drops every namespace from config.json);
#  - each binary under `timeout 120`.
# After each binary: containers left in the private root are force-deleted,
# and cgroups attributable to the suite (named after a logged container id,
# or the suite's fixed /cgrouptest and /testdir/cgrouptest, also under
# mocker/ where mocker-runtime puts relative paths) are rmdir'ed
# (rmdir only removes empty ones). Output: out/LABEL/NAME.tap (stdout, the
# TAP stream), NAME.err (stderr), summary.txt.
set -u

RT=${1:?usage: run-suite.sh RUNTIME_PATH [LABEL] [TEST...]}
shift
LABEL=${1:-$(basename "$RT")}
[ $# -gt 0 ] && shift
CONF=${CONF:-$PWD/build/conformance}
SUITE=${SUITE:?set SUITE to a built runtime-tools checkout (commit 260e151)}
OUT=$CONF/out/$LABEL
ROOT=/run/conf-suite/$LABEL
WRAPDIR=$CONF/wrap/$LABEL
TMP=$CONF/tmp/$LABEL
TIMEOUT=${TIMEOUT:-120}

mkdir -p "$OUT" "$WRAPDIR" "$TMP" "$ROOT"
chmod 700 /run/conf-suite "$ROOT"

# The wrapper keeps the runtime's own name (mocker dispatches on argv[0]
# being mocker-runtime: exec the symlink itself).
WRAP=$WRAPDIR/$(basename "$RT")
cat > "$WRAP" <<EOF
#!/bin/bash
echo "\$(date +%T.%N) \${SUITE_TEST:-?} \$*" >> "$OUT/calls.log"
exec "$RT" --root "$ROOT" "\$@"
EOF
chmod 755 "$WRAP"

if [ $# -gt 0 ]; then
  TESTS=("$@")
else
  TESTS=()
  for t in "$SUITE"/validation/*/*.t; do TESTS+=("$(basename "$t" .t)"); done
fi

cleanup() { # $1: test name
  local ids id d n=0
  # containers left in our private root
  ids=$("$RT" --root "$ROOT" list -q 2>/dev/null)
  for id in $ids; do
    echo "cleanup: $1: container $id left in $ROOT" >> "$OUT/cleanup.log"
    "$RT" --root "$ROOT" kill "$id" KILL >/dev/null 2>&1
    "$RT" --root "$ROOT" delete --force "$id" >> "$OUT/cleanup.log" 2>&1
  done
  # cgroups: the ids this test passed to the runtime, and the suite's own
  ids=$(awk -v t="$1" '$2 == t { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/) print $i }' "$OUT/calls.log" 2>/dev/null | sort -u)
  for c in /sys/fs/cgroup/*/; do
    for id in $ids; do
      for d in "$c$id" "${c}mocker/$id"; do
        [ -d "$d" ] && rmdir "$d" 2>/dev/null && n=$((n + 1)) &&
          echo "cleanup: $1: rmdir $d" >> "$OUT/cleanup.log"
      done
    done
    # (a relative cgroupsPath is under mocker/ for mocker-runtime)
    for d in "${c}testdir/cgrouptest/container" "${c}testdir/cgrouptest" \
             "${c}testdir" "${c}cgrouptest" \
             "${c}mocker/testdir/cgrouptest/container" \
             "${c}mocker/testdir/cgrouptest" "${c}mocker/testdir" \
             "${c}mocker/cgrouptest"; do
      [ -d "$d" ] && rmdir "$d" 2>/dev/null &&
        echo "cleanup: $1: rmdir $d" >> "$OUT/cleanup.log"
    done
  done
  # bundles left behind (only in our private TMPDIR)
  for d in "$TMP"/*; do
    [ -e "$d" ] || continue
    findmnt -rn -o TARGET | grep -q "^$d" && {
      echo "cleanup: $1: mounts left under $d" >> "$OUT/cleanup.log"
      continue
    }
    rm -rf "$d"
  done
}

cd "$SUITE" || exit 1
for name in "${TESTS[@]}"; do
  bin=validation/$name/$name.t
  start=$(date +%s.%N)
  SUITE_TEST=$name RUNTIME=$WRAP TMPDIR=$TMP \
    timeout --kill-after=10 "$TIMEOUT" \
    unshare --mount --ipc --uts --propagation private \
    "$bin" > "$OUT/$name.tap" 2> "$OUT/$name.err" < /dev/null
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  notok=$(grep -c '^not ok' "$OUT/$name.tap")
  ok=$(grep -c '^ok' "$OUT/$name.tap")
  if [ "$rc" -eq 0 ] && [ "$notok" -eq 0 ]; then res=PASS; else res=FAIL; fi
  printf '%-40s %s rc=%d ok=%d not_ok=%d %.1fs\n' "$name" "$res" "$rc" \
    "$ok" "$notok" "$secs" | tee "$OUT/$name.result"
  cleanup "$name"
done
# summary.txt: the latest result of every binary run so far with this label
cat "$OUT"/*.result > "$OUT/summary.txt"
echo "TOTAL $LABEL: pass=$(grep -c ' PASS ' "$OUT/summary.txt")" \
  "fail=$(grep -c ' FAIL ' "$OUT/summary.txt")" | tee -a "$OUT/summary.txt"
