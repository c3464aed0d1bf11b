#!/usr/bin/env bash
# dev.sh — the dev mode: real Consul, Redis, PostgreSQL, Jaeger and Prometheus, and every
# recmesh service and the gateway as its own background process.
#
#   scripts/dev.sh up      start everything; returns once the gateway is ready
#   scripts/dev.sh down    stop every process it started (by PID), then the dependencies
#   scripts/dev.sh status  say what is running
#
# Settings (environment), besides those of scripts/deps.sh (ports of Redis,
# PostgreSQL, Consul, Jaeger):
#   RECMESH_DEV_DIR      pids and logs                   default var/dev
#   GATEWAY_PORT         gateway REST port               default 8080
#   RECMESH_ADMIN_TOKEN  experiment admin API token      default dev-token
#   RECMESH_BIN          the recmesh binary              default bin/recmesh (built)
#   DEV_TRACING          off: export no spans to Jaeger  default on
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=${RECMESH_DEV_DIR:-var/dev}
GATEWAY_PORT=${GATEWAY_PORT:-8080}
TOKEN=${RECMESH_ADMIN_TOKEN:-dev-token}
BIN=${RECMESH_BIN:-bin/recmesh}
export RECMESH_DEPS_DIR=${RECMESH_DEPS_DIR:-/tmp/recmesh-deps}

say() { printf 'dev: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
running() { [ -f "$DEV/$1.pid" ] && kill -0 "$(cat "$DEV/$1.pid")" 2>/dev/null; }

# services: the list `recmesh services` prints (one process each), read
# from the pid files when the binary is not needed.
services() { if [ -x "$BIN" ]; then "$BIN" services; else ls "$DEV" 2>/dev/null | sed -n 's/\.pid$//p' | grep -vx gateway; fi; }

stop_procs() {
  for s in gateway $(services); do
    if running "$s"; then
      kill -TERM "$(cat "$DEV/$s.pid")" 2>/dev/null || true
      for _ in $(seq 1 100); do running "$s" || break; sleep 0.1; done
      running "$s" && kill -9 "$(cat "$DEV/$s.pid")" 2>/dev/null || true
      say "stopped $s"
    fi
    rm -f "$DEV/$s.pid"
  done
}

start() { # start <name> <args...>
  local name=$1; shift
  running "$name" && { say "$name already running"; return; }
  "$BIN" "$name" "$@" >"$DEV/logs/$name.log" 2>&1 &
  echo $! >"$DEV/$name.pid"
}

# port_busy <port>: something listens on 127.0.0.1:<port>.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

up() {
  mkdir -p "$DEV/logs"
  if ! running gateway && port_busy "$GATEWAY_PORT"; then
    die "port $GATEWAY_PORT is already in use (make run?); stop it or set GATEWAY_PORT"
  fi
  [ -n "${RECMESH_BIN:-}" ] || go build -o "$BIN" ./cmd/recmesh
  SERVICES=$("$BIN" services)
  # The one-service commands listen on 9101, 9102, … and 9201, 9202, … in list order.
  i=0
  for s in $SERVICES; do
    i=$((i + 1))
    for p in $((9100 + i)) $((9200 + i)); do
      running "$s" || ! port_busy "$p" || die "port $p is already in use (make run?); stop what holds it"
    done
  done
  scripts/deps.sh up >"$DEV/env"
  set -a; . "$DEV/env"; set +a
  [ "${DEV_TRACING:-on}" = off ] && unset RECMESH_OTLP_ENDPOINT
  export RECMESH_MODEL_DIR=var/models RECMESH_ADMIN_TOKEN=$TOKEN
  # Migrate, import the sample when the log is empty, rebuild Redis, train when no model.
  "$BIN" init >&2
  for s in $SERVICES; do start "$s"; done
  start gateway -http-addr "127.0.0.1:$GATEWAY_PORT" -config-cache "$DEV/experiments.cache.json"
  for _ in $(seq 1 300); do
    for s in gateway $SERVICES; do running "$s" || die "$s exited; see $DEV/logs/$s.log"; done
    if curl -sf "http://127.0.0.1:$GATEWAY_PORT/readyz" >/dev/null; then
      cat <<MSG
recmesh dev mode is up (logs in $DEV/logs, stop with make dev-down)
  gateway      http://127.0.0.1:$GATEWAY_PORT   (try http://127.0.0.1:$GATEWAY_PORT/v1/recommendations?user_id=1)
  consul UI    ${RECMESH_CONSUL_ADDR/#/http://}/ui
  jaeger UI    $RECMESH_JAEGER_QUERY
  prometheus   $RECMESH_PROMETHEUS   (finds every instance in Consul; alert rules from deploy/prometheus)
  admin API    http://127.0.0.1:9205/admin/v1/config  (Authorization: Bearer $TOKEN)
MSG
      return
    fi
    sleep 0.2
  done
  die "the gateway was not ready within 60 s; see $DEV/logs"
}

case ${1:-} in
  up) up ;;
  down) stop_procs; scripts/deps.sh down ;;
  status) for s in $(services) gateway; do if running "$s"; then echo "$s running (pid $(cat "$DEV/$s.pid"))"; else echo "$s stopped"; fi; done; scripts/deps.sh status ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
