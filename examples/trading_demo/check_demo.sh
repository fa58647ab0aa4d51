#!/usr/bin/env bash
# Runs the trading demo and checks that it ended cleanly and lost nothing.
#
#   check_demo.sh <path/to/trading_demo> [demo arguments...]
#
# Expects OTELC_STATS=1 in the environment (the CTest test sets it) so that
# otelc prints its summary on stderr at shutdown:
#   otelc: spans produced=N exported=N dropped=0 logs produced=M exported=M dropped=0
# Passes when the demo exits 0, N > 0, M > 0, and produced == exported with
# nothing dropped for both signals.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 <trading_demo> [args...]" >&2
    exit 2
fi
demo=$1
shift
cmd="$demo $*"

demo=$(cd "$(dirname "$demo")" && pwd)/$(basename "$demo")
work=$(mktemp -d) || exit 2
err=$work/stderr
trap 'rm -rf "$work"' EXIT

# The demo runs in an empty directory, so that its ./logs is its own.
# stdout carries the console exporter's lines; only stderr is inspected. The
# summary line is what is checked, so OTELC_STATS is forced on.
(cd "$work" && OTELC_STATS=1 "$demo" "$@" >/dev/null 2>"$err")
status=$?

fail() {
    echo "check_demo: FAIL: $*" >&2
    echo "---- stderr of: $cmd ----" >&2
    cat "$err" >&2
    exit 1
}

[ "$status" -eq 0 ] || fail "exit status $status"

line=$(grep -E '^otelc: spans produced=' "$err" | tail -n 1)
[ -n "$line" ] || fail "no 'otelc: spans produced=...' line on stderr"

# With drops, a per-reason breakdown "(queue_full=1)" follows each dropped=
# count, so the two signals are matched separately.
spans_re='spans produced=([0-9]+) exported=([0-9]+) dropped=([0-9]+)'
logs_re='logs produced=([0-9]+) exported=([0-9]+) dropped=([0-9]+)'
[[ $line =~ $spans_re ]] || fail "spans counts not understood: $line"
sp=${BASH_REMATCH[1]} se=${BASH_REMATCH[2]} sd=${BASH_REMATCH[3]}
[[ $line =~ $logs_re ]] || fail "logs counts not understood: $line"
lp=${BASH_REMATCH[1]} le=${BASH_REMATCH[2]} ld=${BASH_REMATCH[3]}

[ "$sp" -gt 0 ] || fail "no spans produced: $line"
[ "$lp" -gt 0 ] || fail "no logs produced: $line"
[ "$se" -eq "$sp" ] || fail "spans exported ($se) != produced ($sp): $line"
[ "$le" -eq "$lp" ] || fail "logs exported ($le) != produced ($lp): $line"
[ "$sd" -eq 0 ] || fail "spans dropped: $line"
[ "$ld" -eq 0 ] || fail "logs dropped: $line"

# With no exporter chosen, the demo writes files: every exported span is a
# line of logs/traces.log, every exported log record a line of its channel
# (ERROR and above once more in errors.log), every performance span a line
# of performance.log as well, and every line is JSON.
# (OTELC_DEMO_EXPECT_FILES=0: a build without the file exporter.)
if [ -z "${OTEL_TRACES_EXPORTER:-}" ] && [ -z "${OTEL_LOGS_EXPORTER:-}" ] &&
   [ -z "${OTEL_CONFIG_FILE:-}" ] && [ "${OTELC_DEMO_EXPECT_FILES:-1}" = 1 ]; then
    logs=$work/logs
    [ -f "$logs/traces.log" ] || fail "no logs/traces.log"
    n=$(wc -l <"$logs/traces.log")
    [ "$n" -eq "$sp" ] || fail "traces.log has $n lines, $sp spans were exported"
    for ch in trading market_data audit; do
        [ -s "$logs/$ch.log" ] || fail "no logs/$ch.log"
    done
    # The performance spans (OTELC_PERF: trade_decision, strategy, risk,
    # execution) are lines of performance.log too, beside the log records
    # of its loggers.
    perf=$(grep -c '"execution_time_ms":' "$logs/traces.log" || true)
    named=$(grep -cE '"name":"(trade_decision|strategy|risk|execution)"' "$logs/traces.log" || true)
    [ "$perf" -gt 0 ] && [ "$perf" -eq "$named" ] ||
        fail "traces.log has $perf performance spans for $named trade_decision/strategy/risk/execution spans"
    perf_lines=$(grep -c '"type":"span"' "$logs/performance.log" || true)
    [ "$perf_lines" -eq "$perf" ] ||
        fail "performance.log has $perf_lines span lines, traces.log $perf performance spans"
    total=0
    for f in "$logs"/*.log; do
        case $(basename "$f") in traces.log | errors.log) continue ;; esac
        total=$((total + $(wc -l <"$f")))
    done
    [ "$total" -eq $((lp + perf)) ] ||
        fail "the channel files hold $total lines, $lp records were exported and $perf performance spans"
    if command -v jq >/dev/null 2>&1; then
        jq -e . "$logs"/*.log >/dev/null || fail "a line of logs/*.log is not JSON"
        bad=$(jq -r 'select(.level == null or .logger == null or .message == null) | .message' \
              "$logs"/trading.log | head -n 1)
        [ -z "$bad" ] || fail "a record of trading.log lacks level, logger or message"
        errs=$(cat "$logs"/*.log | jq -r 'select(.level == "ERROR" or .level == "FATAL") | .message' |
               grep -c . || true)
        copies=$(wc -l <"$logs/errors.log" 2>/dev/null || echo 0)
        # Each ERROR+ record appears in its channel and in errors.log.
        [ "$errs" -eq $((2 * copies)) ] || fail "errors.log has $copies lines for $errs ERROR+ lines"
    fi
fi

echo "check_demo: ok: $line"
exit 0
