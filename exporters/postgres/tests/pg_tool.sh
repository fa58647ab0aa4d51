#!/usr/bin/env bash
# pg_tool.sh OTELC STATE: `otelc pg` against the test run's cluster, in a
# database of its own: init makes the schema once, status shows it with its
# partitions and rows, retention moves old days and says so, bad arguments
# are refused with status 2.
set -euo pipefail
otelc=$1
state=$2
host=$(cat "$state")
db=otelc_tool_$$
psql "host=$host user=otelc dbname=postgres" -qc "CREATE DATABASE $db" >/dev/null
trap 'psql "host=$host user=otelc dbname=postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1' EXIT
export OTELC_PG_CONNINFO="host=$host user=otelc dbname=$db"
fail() { echo "pg_tool: FAIL: $*" >&2; exit 1; }

out=$("$otelc" pg status 2>&1) && fail "status before init succeeded: $out"
grep -q "not there" <<<"$out" || fail "status before init: $out"
out=$("$otelc" pg init) || fail "init: $out"
grep -q "version 1 (1 migration applied)" <<<"$out" || fail "init: $out"
out=$("$otelc" pg init) || fail "init again: $out"
grep -q "(0 migrations applied)" <<<"$out" || fail "init again: $out"

psql "$OTELC_PG_CONNINFO" -qc "SELECT logging.ensure_partitions(current_date - 40, current_date);
  INSERT INTO logging.system_logs (service, level, message, timestamp, record_id)
  SELECT 's', 'INFO', 'm', now() - (g || ' days')::interval, gen_random_uuid()
  FROM generate_series(0, 39) g" >/dev/null
out=$("$otelc" pg status) || fail "status: $out"
grep -Eq "^system_logs +[0-9]+ +$(date -u -d '40 days ago' +%F) " <<<"$out" || fail "status: $out"
grep -Eq "^system_logs .* 40 +[0-9]" <<<"$out" || fail "status rows: $out"

out=$("$otelc" pg retention --archive-after 30 --delete-after 35) || fail "retention: $out"
grep -q "archived system_logs $(date -u -d '31 days ago' +%F)" <<<"$out" || fail "retention: $out"
grep -q "deleted archived_system_logs $(date -u -d '36 days ago' +%F)" <<<"$out" || fail "retention: $out"
n=$(psql "$OTELC_PG_CONNINFO" -Atc "SELECT (SELECT count(*) FROM logging.system_logs) || ' ' ||
  (SELECT count(*) FROM logging.archived_system_logs)")
[ "$n" = "31 5" ] || fail "after retention: active and archived rows are $n, not 31 5"

set +e
"$otelc" pg retention --archive-after 30 >/dev/null 2>&1; [ $? -eq 2 ] || fail "retention without --delete-after"
"$otelc" pg retention --archive-after 30 --delete-after 10 >/dev/null 2>&1; [ $? -eq 2 ] || fail "delete before archive"
"$otelc" pg bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command"
set -e
echo "pg_tool: init, status, retention and bad arguments as expected"
