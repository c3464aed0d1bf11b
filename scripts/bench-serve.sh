#!/usr/bin/env bash
# bench-serve.sh — the mesh tax: the same loads against the embedded mode and
# then the dev mode (separate processes on real Consul, Redis, PostgreSQL and
# Jaeger), through `recmesh bench`, and one table of both modes with the dev
# mode's ratios to the embedded, a load level a row.
#
# Settings (environment):
#   BENCH_LEVELS  connections, one run each  default 5 10 20 50 100
#   BENCH_FLAGS   flags for every run        default -duration 20s
#   BENCH_WARMUP  warm-up before each mode   default 5s
#   BENCH_OUT     results (JSON, SVG)        default var/bench
#   GATEWAY_PORT  gateway port               default 8080
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/recmesh
OUT=${BENCH_OUT:-var/bench}
PORT=${GATEWAY_PORT:-8080}
LEVELS=${BENCH_LEVELS:-5 10 20 50 100}
FLAGS=${BENCH_FLAGS:--duration 20s}
WARMUP=${BENCH_WARMUP:-5s}
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT/embedded" "$OUT/dev"
go build -o "$BIN" ./cmd/recmesh

ready() { for _ in $(seq 1 300); do curl -sf "$URL/readyz" >/dev/null && return; sleep 0.2; done; echo "bench-serve: $URL not ready" >&2; return 1; }
measure() { # measure <mode>: every level, after one warm-up
  "$BIN" bench -url "$URL" -connections 20 -duration "$WARMUP" -quiet >/dev/null
  for c in $LEVELS; do
    # shellcheck disable=SC2086
    "$BIN" bench -url "$URL" -connections "$c" $FLAGS -quiet -json >"$OUT/$1/c$c.json"
    echo "bench-serve: $1 at $c connections measured" >&2
  done
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
pairs=""
for c in $LEVELS; do pairs="$pairs${pairs:+,}$OUT/embedded/c$c.json,$OUT/dev/c$c.json"; done
"$BIN" bench -compare "$pairs" -svg "$OUT/latency.svg"
echo "bench-serve: latency curves in $OUT/latency.svg" >&2
