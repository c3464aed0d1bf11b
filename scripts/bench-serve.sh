#!/usr/bin/env bash
# bench-serve.sh — the mesh tax: the same load against the embedded mode and
# then the dev mode (separate processes on real Consul, Redis, PostgreSQL and
# Jaeger), through `recmesh bench`, and the dev mode's ratios to the embedded.
#
# Settings (environment):
#   BENCH_FLAGS   flags for both runs      default -connections 20 -duration 20s
#   BENCH_WARMUP  warm-up before each run  default 5s
#   BENCH_OUT     results (JSON, SVG)      default var/bench
#   GATEWAY_PORT  gateway port             default 8080
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/recmesh
OUT=${BENCH_OUT:-var/bench}
PORT=${GATEWAY_PORT:-8080}
FLAGS=${BENCH_FLAGS:--connections 20 -duration 20s}
WARMUP=${BENCH_WARMUP:-5s}
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT"
go build -o "$BIN" ./cmd/recmesh

ready() { for _ in $(seq 1 300); do curl -sf "$URL/readyz" >/dev/null && return; sleep 0.2; done; echo "bench-serve: $URL not ready" >&2; return 1; }
measure() { # measure <label>
  # shellcheck disable=SC2086
  "$BIN" bench -url "$URL" -connections 20 -duration "$WARMUP" -quiet >/dev/null
  # shellcheck disable=SC2086
  "$BIN" bench -url "$URL" $FLAGS -quiet -json >"$OUT/$1.json"
  echo "bench-serve: $1 measured" >&2
}

"$BIN" all -http-addr "127.0.0.1:$PORT" >"$OUT/embedded.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
ready
measure embedded
kill "$PID"; wait "$PID" 2>/dev/null || true
trap 'scripts/dev.sh down >/dev/null 2>&1 || true' EXIT
RECMESH_BIN=$BIN GATEWAY_PORT=$PORT scripts/dev.sh up >/dev/null
measure dev
scripts/dev.sh down >/dev/null 2>&1
trap - EXIT
"$BIN" bench -compare "$OUT/embedded.json,$OUT/dev.json" -svg "$OUT/latency.svg"
echo "bench-serve: latency curves in $OUT/latency.svg" >&2
