#!/usr/bin/env bash
# Throwaway docker-registry (Debian's distribution 2.8) for the pull tests.
#
#   registry.sh start DIR [plain|basic|tls|token]   prints 127.0.0.1:PORT
#   registry.sh stop DIR
#
# Everything lives in DIR: config.yml, storage/, log, pid, addr, and per mode
# htpasswd (basic), ca.crt/ca.key/server.crt/server.key (tls),
# token.crt/token.key/token.pid/token.port/token.log (token).
# Every process started here listens on 127.0.0.1 only, and `stop` ends it
# by the pid recorded in DIR, never by name.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly TEST_USER=tester TEST_PASSWORD=secret
readonly TOKEN_SERVICE=mocker-test-registry TOKEN_ISSUER=mocker-test-token-server
readonly START_TIMEOUT=${REGISTRY_START_TIMEOUT:-30}

die() {
  echo "registry.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: registry.sh start DIR [plain|basic|tls|token]" >&2
  echo "       registry.sh stop DIR" >&2
  exit 2
}

# A port nobody listens on right now. Another process may take it before
# the registry binds it; start() notices and retries with a new one.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# True while PID runs and is still the process we started (its command
# line mentions MARK), so a recycled pid is never signalled. A zombie
# counts as gone: nothing may reap it if its parent already exited.
is_ours() {
  local pid=$1 mark=$2 state
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ $state != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark"
}

# Whether pid exists and is not a zombie (whatever it runs).
is_alive() {
  local state
  [[ -r /proc/$1/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z ]]
}

# Stop the process whose pid is in PIDFILE: TERM, then KILL after 10 s.
stop_pidfile() {
  local pidfile=$1 mark=$2 pid deadline
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || die "$pidfile: not a pid: $pid"
  if is_ours "$pid" "$mark"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while is_ours "$pid" "$mark" && ((SECONDS < deadline)); do
      sleep 0.05
    done
    if is_ours "$pid" "$mark"; then
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while is_ours "$pid" "$mark" && ((SECONDS < deadline)); do
        sleep 0.05
      done
      ! is_ours "$pid" "$mark" || die "pid $pid ($pidfile) survived SIGKILL"
    fi
  fi
  rm -f "$pidfile"
}

make_htpasswd() {
  local dir=$1
  [[ -s $dir/htpasswd ]] && return 0
  command -v htpasswd >/dev/null ||
    die "htpasswd not found: apt-get install apache2-utils (bcrypt is required by the registry)"
  htpasswd -Bbc "$dir/htpasswd" "$TEST_USER" "$TEST_PASSWORD" 2>/dev/null
}

# A CA and a server certificate for 127.0.0.1 and localhost, kept across
# restarts of the same DIR so clients keep trusting DIR/ca.crt.
make_tls_certs() {
  local dir=$1
  [[ -s $dir/server.crt && -s $dir/ca.crt ]] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 -subj "/CN=mocker test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 825 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
}

# The token signing key and its self-signed certificate, which is also the
# registry's rootcertbundle (see token_server.py for why that suffices).
make_token_key() {
  local dir=$1
  [[ -s $dir/token.crt && -s $dir/token.key ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/token.key" \
    -out "$dir/token.crt" -days 3650 -subj "/CN=mocker test token signer" 2>/dev/null
}

start_token_server() {
  local dir=$1 deadline pid
  rm -f "$dir/token.port"
  python3 "$here/token_server.py" --key "$dir/token.key" --cert "$dir/token.crt" \
    --port 0 --port-file "$dir/token.port" --issuer "$TOKEN_ISSUER" \
    --service "$TOKEN_SERVICE" --user "$TEST_USER:$TEST_PASSWORD" \
    </dev/null >>"$dir/token.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/token.pid"
  deadline=$((SECONDS + START_TIMEOUT))
  until [[ -s $dir/token.port ]]; do
    is_alive "$pid" || die "token server exited; see $dir/token.log: $(tail -n 5 "$dir/token.log")"
    ((SECONDS < deadline)) || die "token server did not start within ${START_TIMEOUT}s"
    sleep 0.05
  done
}

write_config() {
  local dir=$1 mode=$2 port=$3 secret
  secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  {
    cat <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: $secret
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    case $mode in
    tls)
      cat <<EOF
  tls:
    certificate: $dir/server.crt
    key: $dir/server.key
EOF
      ;;
    basic)
      cat <<EOF
auth:
  htpasswd:
    realm: mocker-test-registry
    path: $dir/htpasswd
EOF
      ;;
    token)
      cat <<EOF
auth:
  token:
    realm: http://127.0.0.1:$(<"$dir/token.port")/token
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $dir/token.crt
EOF
      ;;
    esac
  } >"$dir/config.yml"
}

# Poll GET /v2/ until the registry answers (200, or 401 when auth is on).
# Returns 1 if the registry died, 2 on timeout.
wait_ready() {
  local dir=$1 mode=$2 port=$3 pid=$4 url code deadline
  local -a tls=()
  url=http://127.0.0.1:$port/v2/
  if [[ $mode == tls ]]; then
    url=https://127.0.0.1:$port/v2/
    tls=(--cacert "$dir/ca.crt")
  fi
  deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    # Until the forked shell has exec'd, the pid's cmdline is still bash's
    # (seen on a loaded machine): only a pid that is gone, or a zombie,
    # means the registry died.
    is_alive "$pid" || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${tls[@]}" "$url" || true)
    [[ $code == 200 || $code == 401 ]] && return 0
    sleep 0.05
  done
  return 2
}

start() {
  local dir=$1 mode=${2:-plain} port pid attempt rc
  case $mode in plain | basic | tls | token) ;; *) usage ;; esac
  command -v docker-registry >/dev/null ||
    die "docker-registry not found: apt-get install docker-registry"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]] && is_ours "$(<"$dir/pid")" "$dir/config.yml"; then
    die "a registry already runs from $dir (pid $(<"$dir/pid"))"
  fi
  # Whatever way start fails, nothing it started may outlive it.
  started_dir=$dir
  trap 'if [[ -n ${started_dir:-} ]]; then stop "$started_dir"; fi' EXIT
  mkdir -p "$dir/storage"
  case $mode in
  basic) make_htpasswd "$dir" ;;
  tls) make_tls_certs "$dir" ;;
  token)
    make_token_key "$dir"
    start_token_server "$dir"
    ;;
  esac
  echo "$mode" >"$dir/mode"

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    write_config "$dir" "$mode" "$port"
    : >"$dir/log"
    # env -i: distribution reads REGISTRY_* variables as config overrides;
    # none from the caller's environment may leak in.
    env -i PATH="$PATH" HOME="$dir" docker-registry serve "$dir/config.yml" \
      </dev/null >>"$dir/log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    rc=0
    wait_ready "$dir" "$mode" "$port" "$pid" || rc=$?
    if ((rc == 0)); then
      echo "127.0.0.1:$port" >"$dir/addr"
      echo "127.0.0.1:$port"
      started_dir=
      return 0
    fi
    stop_pidfile "$dir/pid" "$dir/config.yml"
    if ((rc == 1)) && grep -q 'address already in use' "$dir/log"; then
      echo "registry.sh: port $port taken (attempt $attempt), retrying" >&2
      continue
    fi
    break
  done
  echo "registry.sh: registry failed to start; last lines of $dir/log:" >&2
  tail -n 20 "$dir/log" >&2
  exit 1
}

stop() {
  local dir=$1
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  stop_pidfile "$dir/pid" "$dir/config.yml"
  stop_pidfile "$dir/token.pid" "$dir/token.key"
  rm -f "$dir/addr" "$dir/token.port"
}

[[ $# -ge 2 ]] || usage
case $1 in
start)
  [[ $# -le 3 ]] || usage
  start "$2" "${3:-plain}"
  ;;
stop)
  [[ $# -eq 2 ]] || usage
  stop "$2"
  ;;
*) usage ;;
esac
