#!/usr/bin/env bash
# Runs examples/two_services and checks, from the files both processes
# wrote, that each order is one trace across the two processes.
#
#   check_two_services.sh <path/to/order_gateway> <orders>
#
# In an empty directory, the gateway starts the risk service, sends <orders>
# orders and stops it; each process writes JSON lines (flat format) under
# ./logs/<service name>/. Asserted with jq:
#   - <orders> CLIENT spans in the gateway, <orders> SERVER spans in the risk
#     service, every one with a correlation id;
#   - every order's spans, in both processes, have exactly one trace id;
#   - every SERVER span's parent is a gateway CLIENT span of the same trace
#     and correlation id (parent/child across the process boundary), each
#     client span the parent of exactly one server span;
#   - the risk service's "risk check" log of every order carries the
#     order's correlation id, which only the baggage brought there.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 <order_gateway> <orders>" >&2
    exit 2
fi
gateway=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=$2
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT

# No exporter named: the programs' default, the files.
unset OTEL_TRACES_EXPORTER OTEL_LOGS_EXPORTER OTEL_CONFIG_FILE OTELC_FILE_DIR
(cd "$work" && "$gateway" --orders "$n" >"$work/stdout" 2>"$work/stderr")
status=$?

fail() {
    echo "check_two_services: FAIL: $*" >&2
    echo "---- stderr of the gateway and the risk service ----" >&2
    cat "$work/stderr" >&2
    exit 1
}

[ "$status" -eq 0 ] || fail "exit status $status"
gw=$work/logs/order-gateway
rs=$work/logs/risk-service
[ -s "$gw/traces.log" ] || fail "no $gw/traces.log"
[ -s "$rs/traces.log" ] || fail "no $rs/traces.log"

# Both processes' spans, each tagged with its service.
spans=$work/spans.json
{
    jq -c '. + {service: "order-gateway"}' "$gw/traces.log"
    jq -c '. + {service: "risk-service"}' "$rs/traces.log"
} | jq -s '.' >"$spans" || fail "traces.log is not JSON lines"
# The risk service's log records (every channel but the spans).
logs=$work/logs.json
find "$rs" -name '*.log' ! -name traces.log ! -name errors.log -exec cat {} + |
    jq -s '.' >"$logs" || fail "the risk service's logs are not JSON lines"

count() { jq "$1" "$spans"; }

clients=$(count '[.[] | select(.service == "order-gateway" and .kind == "CLIENT")] | length')
servers=$(count '[.[] | select(.service == "risk-service" and .kind == "SERVER")] | length')
[ "$clients" -eq "$n" ] || fail "$clients client spans for $n orders"
[ "$servers" -eq "$n" ] || fail "$servers server spans for $n orders"

orders=$(count '[.[] | select(.kind == "CLIENT" or .kind == "SERVER") | .correlation_id]
                | unique | length')
[ "$orders" -eq "$n" ] || fail "$orders correlation ids on the HTTP spans for $n orders"

# One trace id per order, over every span of both processes that has it.
multi=$(count '[.[] | select(.correlation_id != null)] | group_by(.correlation_id)
               | map(select(([.[].trace_id] | unique | length) != 1)) | length')
[ "$multi" -eq 0 ] || fail "$multi orders have more than one trace id"
both=$(count '[.[] | select(.correlation_id != null)] | group_by(.correlation_id)
              | map(select(([.[].service] | unique | length) == 2)) | length')
[ "$both" -eq "$n" ] || fail "only $both of $n orders have spans in both processes"

# Parent/child across the process boundary.
orphans=$(count '([.[] | select(.service == "order-gateway" and .kind == "CLIENT")]) as $c
    | [.[] | select(.service == "risk-service" and .kind == "SERVER")
       | . as $s | select([$c[] | select(.span_id == $s.parent_span_id
                                        and .trace_id == $s.trace_id
                                        and .correlation_id == $s.correlation_id)]
                          | length != 1)] | length')
[ "$orphans" -eq 0 ] || fail "$orphans server spans are not children of a gateway client span"
parents=$(count '[.[] | select(.service == "risk-service" and .kind == "SERVER")
                  | .parent_span_id] | unique | length')
[ "$parents" -eq "$n" ] || fail "$parents distinct client parents for $n server spans"
errors=$(count '[.[] | select((.kind == "CLIENT" or .kind == "SERVER") and .status == "ERROR")]
                | length')
[ "$errors" -eq 0 ] || fail "$errors HTTP spans have status ERROR"

# The correlation id came through the baggage into the risk service's logs.
checks=$(jq '[.[] | select(.message == "risk check")] | length' "$logs")
[ "$checks" -eq "$n" ] || fail "$checks 'risk check' logs for $n orders"
wrong=$(jq '[.[] | select(.message == "risk check" and .correlation_id != .order_id)] | length' \
    "$logs")
[ "$wrong" -eq 0 ] || fail "$wrong risk logs without their order's correlation id"
# And each log is inside its order's server span's trace.
untraced=$(jq --slurpfile s "$spans" '[.[] | select(.message == "risk check") | . as $l
    | select([$s[0][] | select(.kind == "SERVER" and .trace_id == $l.trace_id)] | length != 1)]
    | length' "$logs")
[ "$untraced" -eq 0 ] || fail "$untraced risk logs outside their order's trace"

echo "check_two_services: ok: $n orders, $n client and $n server spans, one trace each across 2 processes"
