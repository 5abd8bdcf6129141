#!/usr/bin/env bash
# A real MinIO server on loopback for the S3 artifact-store tests.
#
#   eval "$(.ci/minio.sh start)"   # build if needed, start, print the env vars
#   .ci/minio.sh stop              # stop it and remove its data
#
# start prints only `export ...` lines on stdout (progress goes to stderr):
# FLOWGATE_TEST_MINIO (URL), FLOWGATE_TEST_MINIO_ACCESS_KEY/_SECRET_KEY (fixed
# test credentials) and FLOWGATE_MINIO_PID. Calling start again while the
# server runs prints the same lines. The server stops by itself after
# FLOWGATE_MINIO_TTL seconds (default 7200) even if stop is never called.
#
# The binary is pinned and reused: ${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}/minio,
# built once from the Go module proxy (about 8 minutes cold on 2 cores).
set -euo pipefail

MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
TOOLS="${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}"
STATE="${FLOWGATE_MINIO_STATE:-${TMPDIR:-/tmp}/flowgate-minio-$(id -u)}"
ACCESS_KEY="flowgate-ci"
SECRET_KEY="flowgate-ci-secret-key"
TTL="${FLOWGATE_MINIO_TTL:-7200}"
WAIT="${FLOWGATE_MINIO_WAIT:-60}"

log() { echo "minio.sh: $*" >&2; }

running_pid() {
  local pid
  [[ -f "$STATE/pid" ]] || return 1
  pid="$(cat "$STATE/pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

print_env() {
  echo "export FLOWGATE_TEST_MINIO=http://127.0.0.1:$(cat "$STATE/port")"
  echo "export FLOWGATE_TEST_MINIO_ACCESS_KEY=$ACCESS_KEY"
  echo "export FLOWGATE_TEST_MINIO_SECRET_KEY=$SECRET_KEY"
  echo "export FLOWGATE_MINIO_PID=$1"
  echo "# stop with: $0 stop"
}

build() {
  local bin="$TOOLS/minio"
  mkdir -p "$TOOLS"
  # One build at a time: a second caller waits for the first one's binary.
  exec 9>"$TOOLS/.minio-build.lock"
  flock 9
  if [[ ! -x "$bin" ]]; then
    log "building $MINIO_MODULE into $TOOLS (about 8 minutes cold)"
    GOBIN="$TOOLS" go install "$MINIO_MODULE" >&2
  fi
  flock -u 9
  [[ -x "$bin" ]] || { log "build did not produce $bin"; exit 1; }
}

free_port() {
  local port="${FLOWGATE_MINIO_PORT:-19000}"
  for _ in $(seq 1 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
    port=$((port + 1))
  done
  log "no free port from ${FLOWGATE_MINIO_PORT:-19000}"
  exit 1
}

start() {
  local pid port
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    print_env "$pid"
    return
  fi
  build
  rm -rf "$STATE"
  mkdir -p "$STATE/data"
  port="$(free_port)"
  echo "$port" >"$STATE/port"
  # setsid: its own process group, so stop ends it and nothing else;
  # timeout: it ends by itself after TTL seconds.
  MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
    setsid timeout --signal=TERM --kill-after=10 "$TTL" \
    "$TOOLS/minio" server --quiet --address "127.0.0.1:$port" "$STATE/data" \
    >"$STATE/log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/pid"
  local deadline=$((SECONDS + WAIT))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "MinIO exited during startup; its log:"
      tail -n 30 "$STATE/log" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "MinIO not ready on 127.0.0.1:$port after ${WAIT}s; stopping it. Log:"
      tail -n 30 "$STATE/log" >&2
      stop
      exit 1
    fi
    sleep 0.2
  done
  log "MinIO ready on 127.0.0.1:$port (pid $pid, data $STATE/data, log $STATE/log)"
  print_env "$pid"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped MinIO (pid $pid)"
  fi
  rm -rf "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
