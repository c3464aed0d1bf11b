#!/usr/bin/env bash
# fuzz.sh — run every fuzz target of the workspace for FUZZTIME each and
# print a table: executions and new interesting inputs (coverage) per target.
# A failure stops the run and leaves the failing input under the package's
# testdata/fuzz, as go test does.
#
# Settings (environment):
#   FUZZTIME   time per target (go test -fuzztime)   default 60s
#   FUZZ       run only the targets matching this (grep -E pattern)
#   FUZZPARALLEL  fuzzing workers per target (go test -parallel)   default: one per core
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-60s}
# module-relative package directory, target
TARGETS="
pkg/abtest FuzzParseConfig
pkg/artifact FuzzOpenManifest
pkg/domain FuzzCandidatesFromPB
pkg/movielens FuzzReadRatings
pkg/movielens FuzzReadMovies
gateway FuzzDecodeCursor
gateway/rest FuzzDecodeEvents
gateway/rest FuzzAPI
services/experiment FuzzAdminBodies
services/features/store FuzzParseEntry
services/filter FuzzReadBlocklist
services/recall FuzzLoadIndex
services/ranking FuzzLoadModel
"
printf '%-24s %-22s %12s %10s\n' package target execs new >"${TMPDIR:-/tmp}/fuzz-table.$$"
echo "$TARGETS" | while read -r dir target; do
  [ -n "$dir" ] || continue
  if [ -n "${FUZZ:-}" ] && ! echo "$dir $target" | grep -Eq "$FUZZ"; then continue; fi
  echo "fuzz: $dir $target for $FUZZTIME" >&2
  out=$(cd "$dir" && go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s ${FUZZPARALLEL:+-parallel "$FUZZPARALLEL"} . 2>&1) || {
    echo "$out" | tail -30; echo "fuzz: $dir $target FAILED" >&2; exit 1; }
  last=$(echo "$out" | grep '^fuzz: elapsed' | tail -1)
  execs=$(echo "$last" | sed -n 's/.*execs: \([0-9]*\).*/\1/p')
  new=$(echo "$last" | sed -n 's/.*new interesting: \([0-9]*\).*/\1/p')
  printf '%-24s %-22s %12s %10s\n' "$dir" "$target" "${execs:-?}" "${new:-?}" >>"${TMPDIR:-/tmp}/fuzz-table.$$"
done
cat "${TMPDIR:-/tmp}/fuzz-table.$$"; rm -f "${TMPDIR:-/tmp}/fuzz-table.$$"
