#!/usr/bin/env bash
# bench-overload.sh — the shedding ladder under overload: the embedded mode
# (recmesh all) with shedding on and off, each under open-loop loads from
# `recmesh bench`, one line per load: goodput (whole answers per second),
# the p99 of answered requests, and the answers shed by rung.
#
# Settings (environment):
#   OVERLOAD_RATES     open-loop rates, requests/s   default "300 600 900" (1×, 2×, 3× of
#                      the 300/s the embedded mode serves within its SLO on a 2-core machine)
#   OVERLOAD_DURATION  each load's duration          default 20s
#   OVERLOAD_ROUNDS    rounds, interleaved           default 1
#   OVERLOAD_OUT       results (JSON per cell)       default var/bench
#   GATEWAY_PORT       gateway port                  default 8080
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=bin/recmesh
OUT=${OVERLOAD_OUT:-var/bench}
PORT=${GATEWAY_PORT:-8080}
RATES=${OVERLOAD_RATES:-300 600 900}
DUR=${OVERLOAD_DURATION:-20s}
URL=http://127.0.0.1:$PORT
mkdir -p "$OUT"
go build -o "$BIN" ./cmd/recmesh

pid=
stop() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }; }
trap stop EXIT
num() { # num <file> <key>: the first number after "key":
  grep -m1 "\"$2\":" "$1" | sed 's/.*: *\([0-9.]*\).*/\1/' | cut -d. -f1; }
count() { # count <file> <key>: a count in the file, 0 when absent
  local n; n=$(grep -m1 "\"$2\":" "$1" | sed 's/.*: *\([0-9]*\).*/\1/'); echo "${n:-0}"; }

printf '%-5s %-6s %6s %9s %9s %12s %9s %8s\n' round shed rate goodput p99_ms skip_rank popular refused
for round in $(seq 1 "${OVERLOAD_ROUNDS:-1}"); do
  for shed in true false; do
    "$BIN" all -shed="$shed" -http-addr "127.0.0.1:$PORT" >"$OUT/overload-all.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.2; done
    "$BIN" bench -url "$URL" -connections 20 -duration 5s -quiet >/dev/null
    for rate in $RATES; do
      f=$OUT/overload-$shed-$rate-$round.json
      "$BIN" bench -url "$URL" -rate "$rate" -connections 1000 -duration "$DUR" -quiet -json >"$f"
      p99=$(grep -A4 '"ok_latency_ms"' "$f" | grep -m1 '"p99"' | sed 's/.*: *\([0-9.]*\).*/\1/' | cut -d. -f1)
      printf '%-5s %-6s %6s %9s %9s %12s %9s %8s\n' "$round" "$shed" "$rate" "$(num "$f" goodput_rps)" "$p99" \
        "$(count "$f" shed:ranking)" "$(count "$f" shed:popular)" "$(count "$f" 503)"
    done
    stop
  done
done
