#!/bin/sh
# Grafana stand-in (Grafana cannot be installed on the test machines): fail
# unless the provisioning is mounted where Grafana reads it and every file
# parses, then answer GET /api/health like Grafana does.
set -eu
P=${GF_PATHS_PROVISIONING:-/etc/grafana/provisioning}
ls "$P"/datasources/*.yml "$P"/dashboards/*.yml >/dev/null
grep -q 'url: http://prometheus:9090' "$P"/datasources/*.yml
dir=$(sed -n 's/^[[:space:]]*path:[[:space:]]*//p' "$P"/dashboards/*.yml | head -1)
n=0
for f in "$dir"/*.json; do
  jq -e '.uid and (.panels | length > 0)' "$f" >/dev/null || { echo "grafana stand-in: $f is not a dashboard" >&2; exit 1; }
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "grafana stand-in: no dashboards in $dir" >&2; exit 1; }
echo "grafana stand-in: $n dashboards provisioned from $dir" >&2
mkdir -p /tmp/www/api
echo '{"database":"ok","version":"stand-in"}' >/tmp/www/api/health
exec busybox httpd -f -p 3000 -h /tmp/www
