#!/usr/bin/env bash
# chaos.sh — the chaos suite (cmd/recmesh TestChaos): the dev mode under
# steady load while services are killed or paused and Redis, PostgreSQL and
# Consul are stopped. The suite stops its dependencies, so it gets a private
# set, on ports of its own, stopped and removed afterwards.
#
# Settings (environment):
#   CHAOS_FLAGS   extra go test flags                  default -v
#   CHAOS_RUN     which scenarios (go test -run)        default ^TestChaos$ (all)
set -euo pipefail
cd "$(dirname "$0")/.."
# The ports lie below Linux's ephemeral range (32768-60999): a port in it can
# be taken as the local end of any outgoing connection the tests before made,
# and then Consul cannot bind it (it never became ready, now and then).
export REDIS_PORT=21379 PG_PORT=21432 CONSUL_HTTP_PORT=21500 CONSUL_DNS_PORT=21600 \
  CONSUL_SERF_LAN_PORT=21301 CONSUL_SERF_WAN_PORT=21302 CONSUL_SERVER_PORT=21300 JAEGER_UI_PORT=21686 \
  JAEGER_QUERY_GRPC_PORT=21685 OTLP_GRPC_PORT=21317 OTLP_HTTP_PORT=21318 PROMETHEUS_PORT=21090
RECMESH_DEPS_DIR=$(mktemp -d /tmp/recmesh-chaos-XXXX)
export RECMESH_DEPS_DIR RECMESH_REQUIRE_DEPS=1 RECMESH_CHAOS=1
# On failure, the tail of every dependency's log is printed before the
# private set is removed.
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    for f in "$RECMESH_DEPS_DIR"/*.log; do
      [ -f "$f" ] && { echo "chaos: last lines of $f:" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  scripts/deps.sh down >/dev/null 2>&1 || true
  rm -rf "$RECMESH_DEPS_DIR"
}
trap cleanup EXIT
scripts/deps.sh up >"$RECMESH_DEPS_DIR/env"
set -a; . "$RECMESH_DEPS_DIR/env"; set +a
# shellcheck disable=SC2086
(cd cmd/recmesh && go test -count=1 -timeout 20m -run "${CHAOS_RUN:-^TestChaos$}" ${CHAOS_FLAGS:--v} .) 2>&1 |
  grep -v '^=== \(RUN\|PAUSE\|CONT\)' | grep -v '"level":"' || { echo "chaos: FAILED"; exit 1; }
