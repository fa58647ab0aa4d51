#!/usr/bin/env bash
# Runs the trading demo with OTEL_TRACES_EXPORTER=postgres
# OTEL_LOGS_EXPORTER=postgres into a database of its own in the test run's
# cluster (tests/pg/cluster.sh, the CTest fixture "pg"), then checks every
# table as an analyst would: the row counts equal the exported counts of the
# demo's stats line, nothing dropped, every column filled as its meaning
# says, logs joined to their spans, and the seed's query of one correlation
# id answering in time order.
#
#   check_demo_pg.sh <path/to/trading_demo> <cluster state file>
set -euo pipefail
demo=$1
state=$2
host=$(cat "$state")
db=otelc_demo_$$
admin="host=$host user=otelc dbname=postgres"
work=$(mktemp -d)
trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; rm -rf "$work"' EXIT
fail() { echo "check_demo_pg: FAIL: $*" >&2; exit 1; }
psql "$admin" -qc "CREATE DATABASE $db" >/dev/null
conninfo="host=$host user=otelc dbname=$db"
q() { psql "$conninfo" -XAtqc "$1"; }

(cd "$work" && OTELC_STATS=1 OTEL_TRACES_EXPORTER=postgres OTEL_LOGS_EXPORTER=postgres \
    OTELC_PG_CONNINFO="$conninfo" OTELC_PG_AUTO_MIGRATE=1 \
    "$demo" --orders 300 --threads 2 >/dev/null 2>"$work/err") || { cat "$work/err" >&2; fail "demo exit"; }
line=$(grep -E '^otelc: spans produced=' "$work/err" | tail -n 1)
re='spans produced=([0-9]+) exported=([0-9]+) dropped=([0-9]+).*logs produced=([0-9]+) exported=([0-9]+) dropped=([0-9]+)'
[[ $line =~ $re ]] || fail "no stats line: $(cat "$work/err")"
sp=${BASH_REMATCH[1]} se=${BASH_REMATCH[2]} sd=${BASH_REMATCH[3]}
lp=${BASH_REMATCH[4]} le=${BASH_REMATCH[5]} ld=${BASH_REMATCH[6]}
[ "$sp" -gt 0 ] && [ "$se" -eq "$sp" ] && [ "$sd" -eq 0 ] && [ "$le" -eq "$lp" ] && [ "$ld" -eq 0 ] ||
    fail "the demo did not export everything: $line"

rs=$(q "SELECT count(*) FROM logging.spans")
rl=$(q "SELECT count(*) FROM logging.system_logs")
echo "demo $line; table spans=$rs system_logs=$rl"
[ "$rs" = "$se" ] || fail "spans: $rs rows for $se exported"
[ "$rl" = "$le" ] || fail "system_logs: $rl rows for $le exported"

# Every column, as its meaning says.
bad=$(q "SELECT count(*) FROM logging.system_logs WHERE service = '' OR level NOT IN
  ('DEBUG','INFO','WARNING','ERROR','CRITICAL') OR message = '' OR logger IS NULL
  OR abs(extract(epoch FROM now() - timestamp)) > 3600 OR (trace_id IS NULL) <> (span_id IS NULL)")
[ "$bad" = 0 ] || fail "$bad system_logs rows with a column out of place"
[ "$(q "SELECT count(DISTINCT record_id) FROM logging.system_logs")" = "$rl" ] || fail "record ids repeat"
[ "$(q "SELECT count(DISTINCT service) FROM logging.system_logs")" = 1 ] || fail "more than one service"
bad=$(q "SELECT count(*) FROM logging.spans WHERE end_time < start_time OR name = ''
  OR kind NOT IN ('INTERNAL','SERVER','CLIENT','PRODUCER','CONSUMER')
  OR status_code NOT IN ('UNSET','OK','ERROR')
  OR abs(duration_ms - extract(epoch FROM end_time - start_time) * 1000) > 0.001
  OR resource->>'service.name' IS DISTINCT FROM service")
[ "$bad" = 0 ] || fail "$bad spans rows with a column out of place"
# Parents are spans of the same trace; every log inside a span finds it.
orphans=$(q "SELECT count(*) FROM logging.spans c WHERE parent_span_id IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM logging.spans p WHERE p.trace_id = c.trace_id AND p.span_id = c.parent_span_id)")
[ "$orphans" = 0 ] || fail "$orphans spans whose parent is not stored"
lost=$(q "SELECT count(*) FROM logging.system_logs l WHERE l.span_id IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM logging.spans s WHERE s.trace_id = l.trace_id AND s.span_id = l.span_id)")
[ "$lost" = 0 ] || fail "$lost logs whose span is not stored"
# Every performance span (trade_decision over each trade, strategy, risk and
# execution over its steps) is a performance_logs row with its figures (CPU
# on trade_decision, memory on execution), and the seed's average/max/count
# query reads them, one group per operation.
for op in trade_decision strategy risk execution; do
    nperf=$(q "SELECT count(*) FROM logging.spans WHERE name = '$op'")
    [ "$nperf" -gt 0 ] || fail "no $op performance spans"
    rperf=$(q "SELECT count(*) FROM logging.performance_logs WHERE operation = '$op'
      AND execution_time_ms >= 0 AND service <> ''
      AND (operation <> 'trade_decision' OR cpu_usage_percent BETWEEN 0 AND 100)
      AND (operation <> 'execution' OR memory_usage_mb > 0)")
    [ "$rperf" = "$nperf" ] || fail "performance_logs: $rperf rows for $nperf $op spans"
done
[ "$(q "SELECT count(*) FROM logging.spans WHERE name = 'execution'")" -le \
  "$(q "SELECT count(*) FROM logging.spans WHERE name = 'risk'")" ] || fail "more executions than risk checks"
avg=$(q "SELECT count(*) FROM (SELECT service, operation, avg(execution_time_ms), max(execution_time_ms),
  count(*) FROM performance_logs WHERE timestamp >= now() - interval '1 day' GROUP BY service, operation) t")
[ "$avg" -ge 4 ] || fail "the seed's performance query finds $avg operations, want 4"
# The demo's audit events and a trade's correlation id, as the seed queries them.
[ "$(q "SELECT count(*) FROM logging.system_logs WHERE event_type IS NOT NULL")" -gt 0 ] ||
    fail "no event_type"
corr=$(q "SELECT correlation_id FROM logging.system_logs WHERE correlation_id IS NOT NULL LIMIT 1")
[ -n "$corr" ] || fail "no correlation id"
ordered=$(q "SELECT bool_and(ts >= prev) FROM (SELECT timestamp AS ts, lag(timestamp, 1, '-infinity')
  OVER () AS prev FROM (SELECT * FROM system_logs WHERE correlation_id = '$corr' ORDER BY timestamp) s) t")
[ "$ordered" = t ] || fail "the seed's correlation query is not in time order"
# The demo's own statements through the traced libpq calls (otelc::libpq,
# when built: OTELC_DEMO_EXPECT_DB_SPANS=1): an INSERT per order submitted
# and an UPDATE per fill, each a CLIENT span of PostgreSQL whose parent is a
# span of its trade (place_order, handle_fill) in the trade's trace, with
# the statement's text and no value of an order in it.
if [ "${OTELC_DEMO_EXPECT_DB_SPANS:-0}" = 1 ]; then
    db_spans="logging.spans s WHERE s.attributes->>'db.system.name' = 'postgresql'"
    nsub=$(q "SELECT count(*) FROM logging.system_logs WHERE event_type = 'order_submitted'")
    nfill=$(q "SELECT count(*) FROM logging.system_logs WHERE event_type = 'order_filled'")
    ndb=$(q "SELECT count(*) FROM $db_spans")
    [ "$nsub" -gt 0 ] && [ "$ndb" = $((nsub + nfill)) ] ||
        fail "db spans: $ndb for $nsub orders and $nfill fills"
    [ "$(q "SELECT count(*) FROM $db_spans AND s.name = 'INSERT demo_orders UPDATE'")" = "$nsub" ] ||
        fail "not one INSERT span per order"
    [ "$(q "SELECT count(*) FROM $db_spans AND s.name = 'UPDATE demo_orders'")" = "$nfill" ] ||
        fail "not one UPDATE span per fill"
    bad=$(q "SELECT count(*) FROM $db_spans AND (s.kind <> 'CLIENT' OR s.status_code <> 'UNSET'
      OR s.correlation_id IS NULL OR coalesce(s.attributes->>'db.query.text', '') = ''
      OR s.attributes->>'db.namespace' IS DISTINCT FROM current_database()
      OR NOT EXISTS (SELECT 1 FROM logging.spans p WHERE p.trace_id = s.trace_id
        AND p.span_id = s.parent_span_id AND p.name IN ('place_order', 'handle_fill')))")
    [ "$bad" = 0 ] || fail "$bad db spans not CLIENT, failed, or not the child of a trade's span"
    # Literal values: a quote, or a digit that is not in a $n placeholder.
    leaked=$(q "SELECT count(*) FROM $db_spans AND
      regexp_replace(s.attributes->>'db.query.text', '[$][0-9]+', '', 'g') ~ '[0-9'']'")
    [ "$leaked" = 0 ] || fail "$leaked db spans with a literal value in db.query.text"
    # And the rows are there: every order, every fill.
    [ "$(q "SELECT count(*) FROM demo_orders")" = "$nsub" ] || fail "demo_orders rows"
    [ "$(q "SELECT count(*) FROM demo_orders WHERE fill_price IS NOT NULL")" = "$nfill" ] ||
        fail "demo_orders fills"
    echo "check_demo_pg: $ndb db spans ($nsub INSERT, $nfill UPDATE), children of their trades"
fi
echo "check_demo_pg: ok (correlation $corr: $(q "SELECT count(*) FROM system_logs WHERE correlation_id = '$corr'") logs)"
