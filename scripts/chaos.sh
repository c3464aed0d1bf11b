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
export REDIS_PORT=36379 PG_PORT=35432 CONSUL_HTTP_PORT=38500 CONSUL_DNS_PORT=38600 \
  CONSUL_SERF_LAN_PORT=38301 CONSUL_SERF_WAN_PORT=38302 CONSUL_SERVER_PORT=38300 JAEGER_UI_PORT=36686 \
  JAEGER_QUERY_GRPC_PORT=36685 OTLP_GRPC_PORT=34317 OTLP_HTTP_PORT=34318 PROMETHEUS_PORT=39090
RECMESH_DEPS_DIR=$(mktemp -d /tmp/recmesh-chaos-XXXX)
export RECMESH_DEPS_DIR RECMESH_REQUIRE_DEPS=1 RECMESH_CHAOS=1
trap 'scripts/deps.sh down >/dev/null 2>&1 || true; rm -rf "$RECMESH_DEPS_DIR"' EXIT
scripts/deps.sh up >"$RECMESH_DEPS_DIR/env"
set -a; . "$RECMESH_DEPS_DIR/env"; set +a
# shellcheck disable=SC2086
(cd cmd/recmesh && go test -count=1 -timeout 20m -run "${CHAOS_RUN:-^TestChaos$}" ${CHAOS_FLAGS:--v} .) 2>&1 |
  grep -v '^=== \(RUN\|PAUSE\|CONT\)' | grep -v '"level":"' || { echo "chaos: FAILED"; exit 1; }
