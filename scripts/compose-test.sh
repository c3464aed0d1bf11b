#!/usr/bin/env bash
# compose-test.sh — make test-compose: run the users' docker-compose.yml for
# real, on a private Docker engine, with only the third-party images swapped
# for offline stand-ins (deploy/compose.local.yml), and check it through the
# published ports:
#   1. GET /v1/recommendations gives 10 items for a sample user, not degraded;
#   2. Consul lists every service (and the gateway) passing, ranking twice;
#   3. Jaeger holds that request's trace across the gateway and the four hops;
#   4. Prometheus scrapes every target found in Consul, and every query of
#      every dashboard panel returns a series (the values are printed);
#   5. with both ranking containers killed the answer is 200 degraded:["ranking"],
#      and after docker start it is whole again within 15 s;
#   6. down -v leaves no container, network or volume, and dockerd is stopped.
#
# Settings (environment): COMPOSE_TEST_KEEP=1 leaves the stack up (stop it
# with scripts/docker.sh down); the ports below can be moved if taken.
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=recmesh-test
export RECMESH_BIND=127.0.0.1 GATEWAY_PORT=${GATEWAY_PORT:-28080} GRAFANA_PORT=${GRAFANA_PORT:-23000} \
  JAEGER_UI_PORT=${JAEGER_UI_PORT:-22686} CONSUL_PORT=${CONSUL_PORT:-22500} \
  RECMESH_IMAGE=recmesh/recmesh:test RECMESH_ADMIN_TOKEN=test-token POSTGRES_PASSWORD=test-password
DOCKER=/usr/bin/docker
COMPOSE=(docker-compose -p "$PROJECT" -f docker-compose.yml -f deploy/compose.local.yml)
GW=http://127.0.0.1:$GATEWAY_PORT
CONSUL=http://127.0.0.1:$CONSUL_PORT
JAEGER=http://127.0.0.1:$JAEGER_UI_PORT

T0=$(date +%s.%N)
say() { printf 'compose-test [%5.1fs]: %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*" >&2; }
fail() { say "FAIL: $*"; "${COMPOSE[@]}" ps >&2 || true; "${COMPOSE[@]}" logs --tail 30 >&2 || true; exit 1; }
since() { echo "$(date +%s.%N) - $1" | bc; }

cleanup() {
  local rc=$?
  if [ "${COMPOSE_TEST_KEEP:-}" = 1 ] && [ $rc = 0 ]; then return; fi
  "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  scripts/docker.sh down
  exit $rc
}
trap cleanup EXIT

command -v jq >/dev/null && command -v bc >/dev/null || {
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq bc >/dev/null; }
scripts/deps.sh build # consul, jaeger and prometheus for the stand-ins
eval "$(scripts/docker.sh up)"
export DOCKER_HOST
scripts/docker.sh images
say "building $RECMESH_IMAGE with the local Go base"
DOCKER_BUILDKIT=1 $DOCKER build -q --build-arg GO_IMAGE=recmesh-local/golang -t "$RECMESH_IMAGE" . >/dev/null
say "image $RECMESH_IMAGE: $(( $($DOCKER image inspect -f '{{.Size}}' "$RECMESH_IMAGE") / 1000000 )) MB"
"${COMPOSE[@]}" config -q

"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
UP=$(date +%s.%N)
say "docker-compose up"
"${COMPOSE[@]}" up -d 2>&1 | sed 's/^/  /' >&2

# Every container with a healthcheck healthy, and the init job exited 0.
for _ in $(seq 1 300); do
  bad=0
  for c in $("${COMPOSE[@]}" ps -q); do
    s=$($DOCKER inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.ExitCode}}{{end}}' "$c")
    case $s in *" running healthy" | *init*" exited 0") ;; *) bad=1 ;; esac
  done
  [ $bad = 0 ] && break
  sleep 1
done
[ $bad = 0 ] || fail "not every container became healthy"
say "every container healthy, init done ($(since "$UP") s after up)"

# 1. A whole answer for a sample user.
for _ in $(seq 1 60); do
  reply=$(curl -sf "$GW/v1/recommendations?user_id=1&n=10" || true)
  [ -n "$reply" ] && [ "$(jq '.items | length' <<<"$reply")" = 10 ] && [ "$(jq -c .degraded <<<"$reply")" = "[]" ] && break
  sleep 0.5
done
[ "$(jq '.items | length' <<<"$reply")" = 10 ] || fail "no 10-item answer: $reply"
[ "$(jq -c .degraded <<<"$reply")" = "[]" ] || fail "answer degraded: $(jq -c .degraded <<<"$reply")"
say "1. 10 items for user 1, not degraded (first whole answer $(since "$UP") s after up)"
trace=$(jq -r .trace_id <<<"$reply")

# 1b. The live catalogue: a PUT item is served by the fresh channel within seconds.
newcat=compose-$(date +%s)
PUT=$(date +%s.%N)
curl -sf -XPUT "$GW/v1/items/990001" -d "{\"title\":\"Compose launch\",\"categories\":[\"$newcat\"]}" >/dev/null || fail "PUT /v1/items/990001 failed"
fresh=0
for i in $(seq 1 150); do
  r=$(curl -sf "$GW/v1/recommendations?user_id=compose-probe-$i&n=10&category=$newcat" || true)
  fresh=$(jq '[.items[]? | select(.item_id == 990001 and (.sources | index("fresh")))] | length' <<<"${r:-null}")
  [ "$fresh" = 1 ] && break
  sleep 0.1
done
[ "$fresh" = 1 ] || fail "the PUT item was not served by the fresh channel within 15 s: $r"
say "1b. a PUT item served by the fresh channel $(since "$PUT") s after the PUT"

# 2. Consul: every service passing, ranking twice, the gateway too.
for s in features recall filter experiment gateway ranking; do
  want=1; [ $s = ranking ] && want=2
  n=$(curl -sf "$CONSUL/v1/health/service/$s?passing=true" | jq length)
  [ "$n" = "$want" ] || fail "consul lists $n passing $s instances, want $want"
done
say "2. consul: features, recall, filter, experiment, gateway passing; ranking x2"

# 3. Jaeger: the request's trace spans the gateway and the four hops.
for _ in $(seq 1 40); do
  svcs=$(curl -sf "$JAEGER/api/traces/$trace" | jq -r '[.data[0].processes[].serviceName] | unique | join(",")' 2>/dev/null || true)
  [ "$svcs" = "features,filter,gateway,ranking,recall" ] && break
  sleep 0.5
done
[ "$svcs" = "features,filter,gateway,ranking,recall" ] || fail "trace $trace has services [$svcs]"
say "3. jaeger: trace $trace spans $svcs"

# 4. Prometheus (not published: reached on its container address).
PROM=http://$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$("${COMPOSE[@]}" ps -q prometheus)"):9090
for _ in $(seq 1 60); do
  targets=$(curl -sf "$PROM/api/v1/targets" | jq -r '.data.activeTargets[] | "\(.labels.job) \(.health)"' | sort)
  [ "$(grep -c ' up$' <<<"$targets")" = 8 ] && [ "$(wc -l <<<"$targets")" = 8 ] && break
  sleep 1
done
[ "$(grep -c ' up$' <<<"$targets")" = 8 ] || fail "prometheus targets: $(tr '\n' ';' <<<"$targets")"
say "4. prometheus: 8 targets up ($(cut -d' ' -f1 <<<"$targets" | tr '\n' ' '))"

# Traffic for the rate() windows: recommendations, events, items.
for i in $(seq 1 300); do
  curl -sf -o /dev/null "$GW/v1/recommendations?user_id=$((i % 600 + 1))&n=10" || true
  [ $((i % 30)) = 0 ] && curl -sf -o /dev/null -XPOST "$GW/v1/events" -d "{\"events\":[{\"user_id\":\"$i\",\"item_id\":1,\"type\":\"click\"}]}"
  [ $((i % 50)) = 0 ] && curl -sf -o /dev/null "$GW/v1/items/$i" || true
  sleep 0.05
done
sleep 12 # two scrapes after the traffic
report=${COMPOSE_TEST_REPORT:-/tmp/recmesh-compose-panels.txt}
: >"$report"
empty=0
for f in deploy/grafana/dashboards/*.json; do
  while IFS=$'\t' read -r title expr; do
    res=$(curl -sf --data-urlencode "query=$expr" "$PROM/api/v1/query")
    n=$(jq '.data.result | length' <<<"$res")
    val=$(jq -r '[.data.result[] | "\(.metric | to_entries | map(.value) | join(","))=\(.value[1] | tonumber | .*1000 | round / 1000)"] | .[:4] | join("  ")' <<<"$res")
    printf '%s\t%s\t%s\n' "$(basename "$f" .json)" "$title" "$val" >>"$report"
    if [ "$n" = 0 ]; then empty=$((empty + 1)); say "   no series: $(basename "$f") / $title: $expr"; fi
  done < <(jq -r '.panels[] | select(.targets) | .title as $t | .targets[] | "\($t)\t\(.expr)"' "$f")
done
[ $empty = 0 ] || fail "$empty dashboard queries returned no series"
say "4. every dashboard query returned a series ($(wc -l <"$report") queries; values in $report)"

# 5. Both ranking replicas killed: degraded, then whole again after a start.
rank=$("${COMPOSE[@]}" ps -q ranking-1 ranking-2)
$DOCKER update --restart=no $rank >/dev/null # so only the test brings them back
$DOCKER kill $rank >/dev/null
for _ in $(seq 1 40); do
  reply=$(curl -s -w '\n%{http_code}' "$GW/v1/recommendations?user_id=1&n=10")
  [ "$(tail -1 <<<"$reply")" = 200 ] && [ "$(head -1 <<<"$reply" | jq -c .degraded)" = '["ranking"]' ] && break
  sleep 0.25
done
[ "$(tail -1 <<<"$reply")" = 200 ] || fail "with ranking killed: status $(tail -1 <<<"$reply")"
[ "$(head -1 <<<"$reply" | jq -c .degraded)" = '["ranking"]' ] || fail "with ranking killed: degraded $(head -1 <<<"$reply" | jq -c .degraded)"
say "5. both ranking containers killed: 200, degraded [\"ranking\"]"
$DOCKER start $rank >/dev/null
START=$(date +%s.%N)
whole=""
while [ "$(echo "$(since "$START") < 15" | bc)" = 1 ]; do
  reply=$(curl -sf "$GW/v1/recommendations?user_id=1&n=10" || true)
  if [ -n "$reply" ] && [ "$(jq -c .degraded <<<"$reply")" = "[]" ]; then whole=$(since "$START"); break; fi
  sleep 0.25
done
[ -n "$whole" ] || fail "answers still degraded 15 s after docker start of ranking"
$DOCKER update --restart=unless-stopped $rank >/dev/null
say "5. after docker start, whole answers again in ${whole} s"

if [ "${COMPOSE_TEST_KEEP:-}" = 1 ]; then say "kept up (COMPOSE_TEST_KEEP=1)"; exit 0; fi
# 6. Nothing of the project left behind, and dockerd stopped.
"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1
for kind in "ps -aq" "network ls -q" "volume ls -q"; do
  left=$($DOCKER $kind --filter "label=com.docker.compose.project=$PROJECT")
  [ -z "$left" ] || fail "down -v left $kind: $left"
done
trap - EXIT
scripts/docker.sh down
[ ! -S /tmp/recmesh-docker/docker.sock ] || ! $DOCKER info >/dev/null 2>&1 || fail "dockerd still answers"
! ip link show docker0 >/dev/null 2>&1 || fail "the docker0 bridge is left behind"
! iptables-save 2>/dev/null | grep -qi docker || fail "iptables rules of docker are left behind"
say "6. down -v left no container, network or volume; dockerd, its bridge and its iptables rules are gone"
say "PASS in $(since "$T0") s"
