#!/bin/sh
# Grafana stand-in (Grafana cannot be installed on the test machines): fail
# unless the provisioning is mounted where Grafana reads it and every file
# parses, then answer GET /api/health like Grafana does.
set -eu
P=${GF_PATHS_PROVISIONING:-/etc/grafana/provisioning}
ls "$P"/datasources/*.yml "$P"/dashboards/*.yml >/dev/null
python3 - "$P" <<'PY'
import glob, json, sys
p = sys.argv[1]
dirs = [l.split(':', 1)[1].strip() for l in open(glob.glob(p + '/dashboards/*.yml')[0]) if l.strip().startswith('path:')]
files = [f for d in dirs for f in glob.glob(d + '/*.json')]
if not files:
    sys.exit('no dashboards under %s' % dirs)
for f in files:
    json.load(open(f))
print('grafana stand-in: %d dashboards provisioned from %s' % (len(files), dirs), file=sys.stderr)
PY
mkdir -p /tmp/www/api
echo '{"database":"ok","version":"stand-in"}' >/tmp/www/api/health
exec python3 -m http.server 3000 --directory /tmp/www
