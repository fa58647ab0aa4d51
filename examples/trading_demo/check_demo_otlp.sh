#!/usr/bin/env bash
# Runs the trading demo with OTEL_TRACES_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp
# over each protocol (grpc, http/protobuf, http/json; gzip on http/protobuf)
# to the tests' OTLP receiver, and checks that the demo's stats line shows
# everything exported, nothing dropped, and that the receiver counted exactly
# as many spans and log records.
#
#   check_demo_otlp.sh <path/to/trading_demo> <tests/otlp-receiver>
#
# Where node or the receiver's packages are missing it says so and passes,
# unless OTELC_REQUIRE_RECEIVER=1 (the test command sets it): then it fails.
set -u
demo=$1
rxdir=$2
work=$(mktemp -d) || exit 2
trap 'kill "$rxpid" 2>/dev/null; exec 9>&-; rm -rf "$work"' EXIT

if ! command -v node >/dev/null 2>&1 || [ ! -d "$rxdir/node_modules/@grpc/grpc-js" ]; then
    if [ "${OTELC_REQUIRE_RECEIVER:-0}" = 1 ]; then
        echo "check_demo_otlp: FAIL: the receiver is not installed" >&2
        exit 1
    fi
    echo "check_demo_otlp: skipped: node or the receiver's npm packages missing"
    exit 0
fi

# The receiver, its stdin a pipe we hold (it exits when we do).
mkfifo "$work/in"
node "$rxdir/receiver.js" <"$work/in" >"$work/ports" 2>"$work/rx.err" &
rxpid=$!
exec 9>"$work/in"
for _ in $(seq 1 200); do
    [ -s "$work/ports" ] && break
    kill -0 "$rxpid" 2>/dev/null || break
    sleep 0.05 # polls for the receiver's one line; no event to await in sh
done
ports=$(head -n 1 "$work/ports")
[ -n "$ports" ] || { echo "check_demo_otlp: FAIL: receiver did not start" >&2; cat "$work/rx.err" >&2; exit 1; }
num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$ports"; }
grpc=$(num grpc) http=$(num http) control=$(num control)

count() { # signal field
    curl -sf "http://127.0.0.1:$control/counts" |
        sed -n "s/.*\"$1\":{[^}]*\"$2\":\([0-9]*\).*/\1/p"
}

for proto in grpc http/protobuf http/json; do
    curl -sf -X POST "http://127.0.0.1:$control/reset" >/dev/null
    port=$http
    [ "$proto" = grpc ] && port=$grpc
    gz=none
    [ "$proto" = http/protobuf ] && gz=gzip
    mkdir -p "$work/run" && rm -rf "$work/run/"*
    (cd "$work/run" && OTELC_STATS=1 OTEL_TRACES_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp \
        OTEL_EXPORTER_OTLP_PROTOCOL=$proto OTEL_EXPORTER_OTLP_COMPRESSION=$gz \
        OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$port \
        "$demo" --orders 300 --threads 2 >/dev/null 2>"$work/err")
    status=$?
    line=$(grep -E '^otelc: spans produced=' "$work/err" | tail -n 1)
    if [ "$status" -ne 0 ] || [ -z "$line" ]; then
        echo "check_demo_otlp: FAIL ($proto): exit $status" >&2
        cat "$work/err" >&2
        exit 1
    fi
    re='spans produced=([0-9]+) exported=([0-9]+) dropped=([0-9]+).*logs produced=([0-9]+) exported=([0-9]+) dropped=([0-9]+)'
    [[ $line =~ $re ]] || { echo "check_demo_otlp: FAIL: $line" >&2; exit 1; }
    sp=${BASH_REMATCH[1]} se=${BASH_REMATCH[2]} sd=${BASH_REMATCH[3]}
    lp=${BASH_REMATCH[4]} le=${BASH_REMATCH[5]} ld=${BASH_REMATCH[6]}
    # The demo has shut down: everything it exported has been answered.
    rs=$(count traces records) rl=$(count logs records)
    echo "$proto: demo $line; receiver spans=$rs logs=$rl"
    if [ "$sp" -eq 0 ] || [ "$se" -ne "$sp" ] || [ "$sd" -ne 0 ] || [ "$le" -ne "$lp" ] ||
        [ "$ld" -ne 0 ] || [ "$rs" != "$se" ] || [ "$rl" != "$le" ]; then
        echo "check_demo_otlp: FAIL ($proto): counts differ" >&2
        cat "$work/err" >&2
        exit 1
    fi
done
echo "check_demo_otlp: ok"
