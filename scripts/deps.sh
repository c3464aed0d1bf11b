#!/usr/bin/env bash
# deps.sh — the real dependencies of recmesh (Redis, PostgreSQL, Consul, Jaeger,
# Prometheus) as local processes on loopback ports.
#
#   scripts/deps.sh up       install/build what is missing, start everything, wait until ready
#   scripts/deps.sh down     stop everything this script started (by PID)
#   scripts/deps.sh env      print the RECMESH_* environment the services need
#   scripts/deps.sh status   say what is running
#   scripts/deps.sh build    only install/build the binaries (warm the cache)
#
# Settings (environment):
#   RECMESH_DEPS_DIR   state directory (data, logs, pids)   default /tmp/recmesh-deps
#   RECMESH_CACHE      where consul and jaeger are cached    default ~/.cache/recmesh/bin
#   REDIS_PORT 6379, PG_PORT 5432, CONSUL_HTTP_PORT 8500, CONSUL_DNS_PORT 8600,
#   CONSUL_SERF_LAN_PORT 8301, CONSUL_SERF_WAN_PORT 8302, CONSUL_SERVER_PORT 8300,
#   JAEGER_UI_PORT 16686, JAEGER_QUERY_GRPC_PORT 16685, OTLP_GRPC_PORT 4317, OTLP_HTTP_PORT 4318,
#   PROMETHEUS_PORT 9090
#
# Redis and PostgreSQL come from Debian packages (installed when missing and
# running as root). Consul and Jaeger are found on PATH or in the cache, or
# built once from the Go module proxy (pinned versions) into the cache.
# Prometheus and promtool are built the same way, always into the cache:
# Debian's prometheus leaves out Consul service discovery, which
# deploy/prometheus/prometheus.yml needs. Prometheus runs that same file,
# pointed at this Consul, so it finds every service and the gateway.
# It is idempotent: `up` twice leaves one set running.
set -euo pipefail

DIR=${RECMESH_DEPS_DIR:-/tmp/recmesh-deps}
CACHE=${RECMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recmesh/bin}
REDIS_PORT=${REDIS_PORT:-6379}
PG_PORT=${PG_PORT:-5432}
CONSUL_HTTP_PORT=${CONSUL_HTTP_PORT:-8500}
CONSUL_DNS_PORT=${CONSUL_DNS_PORT:-8600}
CONSUL_SERF_LAN_PORT=${CONSUL_SERF_LAN_PORT:-8301}
CONSUL_SERVER_PORT=${CONSUL_SERVER_PORT:-8300}
CONSUL_SERF_WAN_PORT=${CONSUL_SERF_WAN_PORT:-8302}
JAEGER_UI_PORT=${JAEGER_UI_PORT:-16686}
JAEGER_QUERY_GRPC_PORT=${JAEGER_QUERY_GRPC_PORT:-16685}
OTLP_GRPC_PORT=${OTLP_GRPC_PORT:-4317}
OTLP_HTTP_PORT=${OTLP_HTTP_PORT:-4318}
PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
CONSUL_VERSION=v1.20.6
JAEGER_VERSION=v1.76.0
PROMETHEUS_VERSION=v0.304.2 # Prometheus 3.4.2

say() { printf 'deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

ensure_apt() { # ensure_apt <command> <package>
  command -v "$1" >/dev/null 2>&1 && return
  [ "$(id -u)" = 0 ] || die "$1 is missing; install the Debian package $2 (apt-get install $2) or run as root"
  say "installing $2 from Debian packages"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; then
    die "could not install $2 with apt-get; install it by hand"
  fi
}

ensure_packages() {
  ensure_apt curl curl # readiness checks
  ensure_apt redis-server redis-server
  ensure_apt redis-cli redis-tools
  [ -n "$(pg_bin)" ] || { ensure_apt psql postgresql; }
  [ -n "$(pg_bin)" ] || die "postgresql is installed but /usr/lib/postgresql/*/bin was not found"
  ensure_apt chromium chromium # the operator console's browser test
}

# build_from_proxy <name> <module@version> <build command...>: copies the
# module out of the module cache, drops go.mod's replace block (go install
# refuses modules with replace directives) and builds into the cache.
build_from_proxy() {
  local name=$1 mod=$2; shift 2
  command -v go >/dev/null || die "go is needed to build $name"
  say "building $name from $mod (once; it is cached in $CACHE)"
  local src work
  src=$(go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] && [ -d "$src" ] || die "could not download $mod from the Go module proxy"
  work=$(mktemp -d)
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  # Delete a multi-line `replace ( ... )` block and single-line replaces.
  sed -i '/^replace (/,/^)/d; /^replace /d' "$work/go.mod"
  mkdir -p "$CACHE"
  (cd "$work" && GOFLAGS=-mod=mod "$@") || { rm -rf "$work"; die "building $name failed"; }
  rm -rf "$work"
}

ensure_binary() { # ensure_binary <name>
  local name=$1
  case $name in prometheus | promtool) ;; *) if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi ;; esac
  if [ -x "$CACHE/$name" ]; then echo "$CACHE/$name"; return; fi
  case $name in
    consul) build_from_proxy consul "github.com/hashicorp/consul@$CONSUL_VERSION" go build -o "$CACHE/consul" . ;;
    jaeger) build_from_proxy jaeger "github.com/jaegertracing/jaeger@$JAEGER_VERSION" env CGO_ENABLED=0 go build -o "$CACHE/jaeger" ./cmd/jaeger ;;
    prometheus | promtool) build_from_proxy prometheus "github.com/prometheus/prometheus@$PROMETHEUS_VERSION" env CGO_ENABLED=0 \
      sh -c "go build -o '$CACHE/prometheus' ./cmd/prometheus && go build -o '$CACHE/promtool' ./cmd/promtool" ;;
  esac
  [ -x "$CACHE/$name" ] || die "$name was not built"
  echo "$CACHE/$name"
}

running() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

# ensure_free <what> <port...>: refuse to start over a port something else
# holds (another deps dir, a system service), rather than silently testing
# against a stranger.
ensure_free() {
  local what=$1; shift
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "$what: port $port is already in use; stop what holds it, or choose other ports (see the *_PORT settings)"
    fi
  done
}

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what did not become ready in ${secs}s; see $DIR/$what.log"
}

start_redis() {
  running redis && return
  ensure_free redis "$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR" --save "" --appendonly yes \
    --daemonize no >"$DIR/redis.log" 2>&1 &
  echo $! >"$DIR/redis.pid"
  # PING answers LOADING while the append-only file is replayed; wait for PONG.
  wait_for redis 120 sh -c "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping | grep -q PONG"
}

start_postgres() {
  running postgres && return
  ensure_free postgres "$PG_PORT"
  local bin; bin=$(pg_bin)
  local data="$DIR/pg" sock="$DIR/pgsock"
  mkdir -p "$sock"
  local as=()
  if [ "$(id -u)" = 0 ]; then # postgres refuses to run as root
    chown postgres:postgres "$DIR" "$sock"
    as=(runuser -u postgres --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
    "${as[@]}" "$bin/initdb" -D "$data" --auth=trust -U postgres >"$DIR/postgres-init.log" 2>&1 || die "initdb failed; see $DIR/postgres-init.log"
  fi
  "${as[@]}" "$bin/postgres" -D "$data" -p "$PG_PORT" -k "$sock" -c listen_addresses=127.0.0.1 -c fsync=on \
    >"$DIR/postgres.log" 2>&1 &
  echo $! >"$DIR/postgres.pid"
  wait_for postgres 30 "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='recmesh'" | grep -q 1 ||
    "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE recmesh" >/dev/null
}

start_consul() {
  running consul && return
  ensure_free consul "$CONSUL_HTTP_PORT" "$CONSUL_SERVER_PORT" "$CONSUL_SERF_LAN_PORT" "$CONSUL_SERF_WAN_PORT"
  local consul; consul=$(ensure_binary consul)
  "$consul" agent -dev -bind 127.0.0.1 -client 127.0.0.1 -data-dir "$DIR/consul" \
    -http-port "$CONSUL_HTTP_PORT" -dns-port "$CONSUL_DNS_PORT" -serf-lan-port "$CONSUL_SERF_LAN_PORT" \
    -serf-wan-port "$CONSUL_SERF_WAN_PORT" \
    -server-port "$CONSUL_SERVER_PORT" -grpc-port -1 -grpc-tls-port -1 >"$DIR/consul.log" 2>&1 &
  echo $! >"$DIR/consul.pid"
  wait_for consul 60 sh -c "curl -sf http://127.0.0.1:$CONSUL_HTTP_PORT/v1/status/leader | grep -q ':'"
}

start_jaeger() {
  running jaeger && return
  ensure_free jaeger "$JAEGER_UI_PORT" "$JAEGER_QUERY_GRPC_PORT" "$OTLP_GRPC_PORT" "$OTLP_HTTP_PORT"
  local jaeger; jaeger=$(ensure_binary jaeger)
  local cfg="$DIR/jaeger.yaml"
  sed -e "s/@OTLP_GRPC@/$OTLP_GRPC_PORT/; s/@OTLP_HTTP@/$OTLP_HTTP_PORT/; s/@UI@/$JAEGER_UI_PORT/; s/@QUERY_GRPC@/$JAEGER_QUERY_GRPC_PORT/" \
    "$(dirname "$0")/../deploy/jaeger-dev.yaml" >"$cfg"
  "$jaeger" --config "$cfg" >"$DIR/jaeger.log" 2>&1 &
  echo $! >"$DIR/jaeger.pid"
  wait_for jaeger 60 curl -sf "http://127.0.0.1:$JAEGER_UI_PORT/api/services"
}

start_prometheus() {
  running prometheus && return
  ensure_free prometheus "$PROMETHEUS_PORT"
  local prom; prom=$(ensure_binary prometheus)
  local deploy; deploy="$(dirname "$0")/../deploy/prometheus"
  mkdir -p "$DIR/prometheus"
  sed -e "s/consul:8500/127.0.0.1:$CONSUL_HTTP_PORT/; s/localhost:9090/127.0.0.1:$PROMETHEUS_PORT/" \
    "$deploy/prometheus.yml" >"$DIR/prometheus/prometheus.yml"
  cp "$deploy/alerts.yml" "$DIR/prometheus/"
  "$prom" --config.file "$DIR/prometheus/prometheus.yml" --storage.tsdb.path "$DIR/prometheus/data" \
    --web.listen-address "127.0.0.1:$PROMETHEUS_PORT" >"$DIR/prometheus.log" 2>&1 &
  echo $! >"$DIR/prometheus.pid"
  wait_for prometheus 60 curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

env_out() {
  cat <<ENV
RECMESH_REDIS_ADDR=127.0.0.1:$REDIS_PORT
RECMESH_POSTGRES_DSN=postgres://postgres@127.0.0.1:$PG_PORT/recmesh?sslmode=disable
RECMESH_STORE=postgres://postgres@127.0.0.1:$PG_PORT/recmesh?sslmode=disable
RECMESH_REALTIME=redis://127.0.0.1:$REDIS_PORT/0
RECMESH_LIST_CACHE_REDIS=redis://127.0.0.1:$REDIS_PORT/0
RECMESH_CONSUL_ADDR=127.0.0.1:$CONSUL_HTTP_PORT
RECMESH_OTLP_ENDPOINT=127.0.0.1:$OTLP_GRPC_PORT
RECMESH_JAEGER_QUERY=http://127.0.0.1:$JAEGER_UI_PORT
RECMESH_PROMETHEUS=http://127.0.0.1:$PROMETHEUS_PORT
RECMESH_CHROMIUM=$(command -v chromium)
ENV
}

stop_all() {
  for s in prometheus jaeger consul postgres redis; do
    if running "$s"; then
      kill "$(cat "$DIR/$s.pid")" 2>/dev/null || true
      for _ in $(seq 1 100); do running "$s" || break; sleep 0.1; done
      running "$s" && kill -9 "$(cat "$DIR/$s.pid")" 2>/dev/null || true
      say "stopped $s"
    fi
    rm -f "$DIR/$s.pid"
  done
}

case ${1:-} in
  build) ensure_packages; for b in consul jaeger prometheus; do ensure_binary $b >/dev/null; done; say "all binaries present" ;;
  up)
    mkdir -p "$DIR"
    ensure_packages
    start_redis; start_postgres; start_consul; start_jaeger; start_prometheus
    say "ready: redis :$REDIS_PORT, postgres :$PG_PORT, consul http://127.0.0.1:$CONSUL_HTTP_PORT/ui, jaeger http://127.0.0.1:$JAEGER_UI_PORT, prometheus http://127.0.0.1:$PROMETHEUS_PORT"
    env_out ;;
  down) stop_all ;;
  env) env_out ;;
  status) for s in redis postgres consul jaeger prometheus; do if running "$s"; then echo "$s running (pid $(cat "$DIR/$s.pid"))"; else echo "$s stopped"; fi; done ;;
  *) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
