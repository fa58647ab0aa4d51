#!/bin/sh
# run.sh: the otelc tool's commands on prepared log directories.
#
#     sh tests/tools/run.sh path/to/otelc tests/tools
#
# Copies fixtures/flat and fixtures/otlp into a scratch directory (the
# commands that change files work on the copy), gzips a rotated file there,
# fixes "now" (--now) and the time zone, and compares every command's
# stdout, stderr and exit status with what is expected, exactly. JSON
# output is also checked field by field with jq. Prints one line per
# failure and exits 1 if there was any.
set -u

OTELC=$1
SRC=$2
case $OTELC in /*) ;; *) OTELC=$(pwd)/$OTELC ;; esac
case $SRC in /*) ;; *) SRC=$(pwd)/$SRC ;; esac

export TZ=UTC LC_ALL=C
unset OTELC_FILE_DIR NO_COLOR

WORK=$(mktemp -d "${TMPDIR:-/tmp}/otelc-tools.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
cp -R "$SRC/fixtures/flat" "$SRC/fixtures/otlp" . || exit 1
chmod 0640 flat/* otlp/*
gzip -n flat/application.log.2026-11-19 || exit 1
# Modification times for `status` (the fixtures' own are when they were copied).
for f in flat/* otlp/*; do touch -d '2026-11-21 11:45:00' "$f"; done

NOW=2026-11-21T12:00:00Z
failures=0
checks=0

fail()
{
    failures=$((failures + 1))
    echo "FAIL: $*"
}

# run ARGS...: runs otelc; stdout in $WORK/out, stderr in $WORK/err, status in $rc.
run()
{
    "$OTELC" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

# expect_out NAME < expected: stdout must be exactly the expected text.
expect_out()
{
    cat >"$WORK/want"
    checks=$((checks + 1))
    if ! cmp -s "$WORK/want" "$WORK/out"; then
        fail "$1: stdout differs (- expected, + got)"
        diff -u "$WORK/want" "$WORK/out" | sed -n '3,40p'
    fi
}

expect_err()
{
    cat >"$WORK/want"
    checks=$((checks + 1))
    if ! cmp -s "$WORK/want" "$WORK/err"; then
        fail "$1: stderr differs (- expected, + got)"
        diff -u "$WORK/want" "$WORK/err" | sed -n '3,40p'
    fi
}

expect_no_err()
{
    checks=$((checks + 1))
    if [ -s "$WORK/err" ]; then
        fail "$1: unexpected stderr:"
        sed -n '1,10p' "$WORK/err"
    fi
}

expect_rc()
{
    checks=$((checks + 1))
    [ "$rc" = "$2" ] || fail "$1: exit status $rc, expected $2"
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq()
{
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# jq_out NAME FILTER EXPECTED: jq -r FILTER over stdout, slurped.
jq_out()
{
    got=$(jq -r -s "$2" "$WORK/out" 2>&1)
    expect_eq "$1" "$3" "$got"
}

CORRUPT_FLAT='otelc: flat/application.log:3: invalid JSON at byte 1: invalid literal
otelc: flat/application.log:5: no valid "timestamp"'

# ---- help, version, command line ------------------------------------------

run --help
expect_rc help 0
checks=$((checks + 1))
grep -q '^usage: otelc \[OPTIONS\] COMMAND' "$WORK/out" || fail "help: no usage line"
for c in tail query trace stats status health cleanup compress export; do
    checks=$((checks + 1))
    grep -q "^  $c " "$WORK/out" || fail "help: command $c not listed"
done

run --version
expect_rc version 0
checks=$((checks + 1))
grep -Eq '^otelc [0-9]+\.[0-9]+\.[0-9]+$' "$WORK/out" || fail "version: $(cat "$WORK/out")"

run
expect_rc no-command 2
checks=$((checks + 1))
grep -q '^usage: otelc' "$WORK/err" || fail "no-command: no usage on stderr"

run frobnicate
expect_rc unknown-command 2
expect_err unknown-command <<'EOF'
otelc: unknown command 'frobnicate'
Try 'otelc --help'.
EOF

run --dir flat tail --days 3
expect_rc option-not-for-command 2
expect_err option-not-for-command <<'EOF'
otelc: tail: option --days does not apply
Try 'otelc --help'.
EOF

run --dir flat query --level LOUD
expect_rc bad-level 2
expect_err bad-level <<'EOF'
otelc: --level: unknown level 'LOUD'
Try 'otelc --help'.
EOF

run --dir flat query --since yesterday
expect_rc bad-since 2
expect_err bad-since <<'EOF'
otelc: --since: 'yesterday' is not a time
Try 'otelc --help'.
EOF

run --dir flat query --format xml
expect_rc bad-format 2
expect_err bad-format <<'EOF'
otelc: --format: 'xml' is not text, json or csv
Try 'otelc --help'.
EOF

run --dir flat cleanup
expect_rc cleanup-without-days 2
expect_err cleanup-without-days <<'EOF'
otelc: cleanup: --days N is required
Try 'otelc --help'.
EOF

run --dir flat trace 1234
expect_rc bad-trace-id 2
expect_err bad-trace-id <<'EOF'
otelc: trace: '1234' is not a trace id (32 hex digits)
EOF

run --dir flat tail -n
expect_rc missing-value 2
expect_err missing-value <<'EOF'
otelc: option '-n' needs a value
Try 'otelc --help'.
EOF

# ---- missing and unreadable files -------------------------------------------

for c in tail query stats status health "cleanup --days 1" "compress --days 1" "export trading"; do
    # shellcheck disable=SC2086
    run --dir nowhere $c
    expect_rc "missing-dir $c" 1
    expect_err "missing-dir $c" <<'EOF'
otelc: nowhere: No such file or directory
EOF
    expect_out "missing-dir $c" </dev/null
done

run --dir flat tail market_data
expect_rc missing-channel 1
expect_err missing-channel <<'EOF'
otelc: flat/market_data.log: No such file or directory
EOF

run --dir flat query --channel market_data
expect_rc missing-channel-query 1
expect_err missing-channel-query <<'EOF'
otelc: flat/market_data.log: No such file or directory
EOF

if [ "$(id -u)" != 0 ]; then
    mkdir locked && cp flat/trading.log locked/ && chmod 000 locked/trading.log
    run --dir locked query
    expect_rc unreadable-file 1
    expect_err unreadable-file <<'EOF'
otelc: locked/trading.log: Permission denied
EOF
    chmod 000 locked
    run --dir locked status
    expect_rc unreadable-dir 1
    expect_err unreadable-dir <<'EOF'
otelc: locked: Permission denied
EOF
    chmod 700 locked
fi

# A gzip file cut short: what it holds is read, then the damage is reported.
mkdir damaged
gzip -c -n flat/application.log.2026-11-20 >damaged/x.gz
head -c 60 damaged/x.gz >damaged/application.log.2026-11-20.gz
rm damaged/x.gz
run --dir damaged query
expect_rc damaged-gzip 1
expect_err damaged-gzip <<'EOF'
otelc: damaged/application.log.2026-11-20.gz: truncated gzip file
EOF

# ---- corrupt lines -----------------------------------------------------------

# Line 3 is not JSON, line 5 has no timestamp, the last line has no '\n'
# (a crash leftover: skipped without a word). tail reads the file from its
# end, lines 4 to 6 here: line 3 is not seen, and line 5's number is found
# by counting.
run --dir flat tail -n 2 application --now $NOW
expect_rc corrupt-tail 0
expect_out corrupt-tail <<'EOF'
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
2026-11-21 11:30:00.000 | INFO     | app.main | café 😀 tick tags=[a,"b c"] ok=true ratio=0.25
EOF
expect_err corrupt-tail <<'EOF'
otelc: flat/application.log:5: no valid "timestamp"
EOF

# Only the first ten are reported, then how many more there were.
mkdir many
i=1
while [ $i -le 14 ]; do
    echo "{\"timestamp\":\"2026-11-21T10:00:00Z\",\"level\":\"INFO\",\"message\":\"x\"$i}" >>many/application.log
    i=$((i + 1))
done
echo '{"timestamp":"2026-11-21T10:00:01Z","level":"INFO","logger":"ok","message":"fine"}' >>many/application.log
run --dir many query
expect_rc corrupt-cap 0
expect_out corrupt-cap <<'EOF'
2026-11-21 10:00:01.000 | INFO     | ok | fine
EOF
expect_err corrupt-cap <<'EOF'
otelc: many/application.log:1: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:2: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:3: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:4: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:5: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:6: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:7: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:8: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:9: invalid JSON at byte 65: expected ',' or '}'
otelc: many/application.log:10: invalid JSON at byte 65: expected ',' or '}'
otelc: 4 more bad lines not shown
EOF

# ---- tail --------------------------------------------------------------------

# Across the current file, two rotated pieces of a day and a .gz.
run --dir flat tail -n 8 --now $NOW
expect_rc tail 0
expect_out tail <<'EOF'
2026-11-19 18:00:00.000 | INFO     | app.main | shutdown event=system_shutdown reason=graceful
2026-11-20 08:00:00.000 | INFO     | app.main | startup event=system_startup version=0.1.1
2026-11-20 08:00:01.500 | DEBUG    | app.config | config loaded path=/etc/app.yaml
2026-11-20 20:00:00.000 | WARNING  | app.health | slow heartbeat latency_ms=250.5
2026-11-21 10:00:00.000 | INFO     | app.main | startup event=system_startup version=0.1.2
2026-11-21 11:10:00.000 | INFO     | app.api | request served http_status=200 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 correlation_id=req-1
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
2026-11-21 11:30:00.000 | INFO     | app.main | café 😀 tick tags=[a,"b c"] ok=true ratio=0.25
EOF

# The default: 10 records of application (here all 9 there are).
run --dir flat tail
expect_rc tail-default 0
checks=$((checks + 1))
[ "$(wc -l <"$WORK/out")" -eq 9 ] || fail "tail-default: $(wc -l <"$WORK/out") lines, expected 9"
checks=$((checks + 1))
head -n 1 "$WORK/out" | grep -q '^2026-11-19 09:00:00.000 | INFO     | app.main | startup ' ||
    fail "tail-default: first line is $(head -n 1 "$WORK/out")"

# OTELC_FILE_DIR is the default directory.
OTELC_FILE_DIR=flat run tail -n 1 trading
expect_rc tail-env-dir 0
expect_out tail-env-dir <<'EOF'
2026-11-21 11:16:00.000 | WARNING  | tradingview.feed | feed lag lag_ms=1200
EOF

# Colours as the console exporter's: the level only.
run --dir flat tail -n 3 trading --color=always
expect_rc tail-color 0
printf '%s\n' \
    "2026-11-21 11:05:00.011 | $(printf '\033[32m')INFO    $(printf '\033[0m') | trading.orders | order filled event=order_filled order_id=ORD1 qty=100 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1" \
    "2026-11-21 11:15:00.000 | $(printf '\033[31m')ERROR   $(printf '\033[0m') | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2" \
    "2026-11-21 11:16:00.000 | $(printf '\033[33m')WARNING $(printf '\033[0m') | tradingview.feed | feed lag lag_ms=1200" |
    expect_out tail-color

# Not a terminal: no colours unless asked.
run --dir flat tail -n 1 errors --color=auto
expect_out tail-no-color <<'EOF'
2026-11-21 11:25:00.000 | CRITICAL | exceptions | unhandled exception exception_type=RuntimeError
EOF

# Filters apply to tail as well.
run --dir flat tail -n 5 trading --level WARN
expect_out tail-filtered <<'EOF'
2026-11-21 11:15:00.000 | ERROR    | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2
2026-11-21 11:16:00.000 | WARNING  | tradingview.feed | feed lag lag_ms=1200
EOF

# Spans, in the console's SPAN layout.
run --dir flat tail -n 2 traces
expect_rc tail-spans 0
expect_out tail-spans <<'EOF'
2026-11-21 11:30:00.000 | SPAN     | trading | db_query 3.000 ms trace_id=7a3c5e0f9b2d4c6e8a1f3b5d7c9e0a2b span_id=6666666666666666 parent_span_id=9999999999999999
2026-11-21 11:31:00.000 | SPAN     | trading | db_query 5.000 ms status=ERROR trace_id=7a3c5e0f9b2d4c6e8a1f3b5d7c9e0a2b span_id=7777777777777777 parent_span_id=9999999999999999
EOF

# otlp: one line holds several records; the corrupt line 2 is reported.
run --dir otlp tail -n 3
expect_rc tail-otlp 0
expect_out tail-otlp <<'EOF'
2026-11-21 11:00:01.000 | ERROR    | trading.orders | {"code":42,"why":"a,b"} blob=AAEC ratio=NaN trace_id=5bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b8
2026-11-21 11:00:02.000 | DEBUG    | app.main | 
2026-11-21 11:45:00.250 | WARNING  | trading.risk | exposure high event=risk_warning correlation_id=trade-10
EOF
expect_err tail-otlp <<'EOF'
otelc: otlp/application.log:2: "resourceLogs" is not an array
EOF

run --dir otlp tail traces
expect_out tail-otlp-spans <<'EOF'
2026-11-21 11:00:00.100 | SPAN     | trading | db 500.000 ms status=ERROR "boom" kind=client db.system=postgresql trace_id=5bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b9 parent_span_id=00f067aa0ba902b7
2026-11-21 11:00:00.000 | SPAN     | trading | handle 1000.000 ms status=OK kind=server trace_id=5bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7
EOF

# A large file: the tail is read from its end.
mkdir big
awk 'BEGIN { for (i = 0; i < 20000; i++)
    printf "{\"timestamp\":\"2026-11-21T10:%02d:%02d.000000Z\",\"level\":\"INFO\",\"logger\":\"bulk\",\"message\":\"m%d\"}\n", int(i / 60) % 60, i % 60, i }' >big/application.log
run --dir big tail -n 2
expect_out tail-big <<'EOF'
2026-11-21 10:33:18.000 | INFO     | bulk | m19998
2026-11-21 10:33:19.000 | INFO     | bulk | m19999
EOF
run --dir big tail -n 0
expect_rc tail-zero 0
expect_out tail-zero </dev/null

# tail -f: what is appended, a line completed later, and the file replaced
# by rotation (the old one read to its end first).
mkdir follow
printf '%s\n%s' '{"timestamp":"2026-11-21T10:00:00Z","level":"INFO","logger":"f","message":"one"}' \
    '{"timestamp":"2026-11-21T10:00:01Z","level":"INFO","logger":"f","message":"tw' >follow/application.log
"$OTELC" --dir follow tail -f -n 5 >"$WORK/follow.out" 2>"$WORK/follow.err" &
follow_pid=$!
# wait_for TEXT: until the follower has printed TEXT (at most 20 s).
wait_for()
{
    n=0
    until grep -q "$1" "$WORK/follow.out" || [ $n -ge 100 ]; do
        sleep 0.2
        n=$((n + 1))
    done
}
wait_for '| one$'
printf '%s\n' 'o"}' >>follow/application.log
wait_for '| two$'
mv follow/application.log follow/application.log.2026-11-21
printf '%s\n' '{"timestamp":"2026-11-21T10:00:02Z","level":"INFO","logger":"f","message":"late in the old file"}' \
    >>follow/application.log.2026-11-21
printf '%s\n' '{"timestamp":"2026-11-21T10:00:03Z","level":"WARN","logger":"f","message":"new file"}' \
    >follow/application.log
wait_for '| new file$'
printf '%s\n' '{"timestamp":"2026-11-21T10:00:04Z","level":"ERROR","logger":"f","message":"appended"}' \
    >>follow/application.log
wait_for '| appended$'
kill "$follow_pid"
wait "$follow_pid" 2>/dev/null
cp "$WORK/follow.out" "$WORK/out"
cp "$WORK/follow.err" "$WORK/err"
expect_out tail-follow <<'EOF'
2026-11-21 10:00:00.000 | INFO     | f | one
2026-11-21 10:00:01.000 | INFO     | f | two
2026-11-21 10:00:02.000 | INFO     | f | late in the old file
2026-11-21 10:00:03.000 | WARNING  | f | new file
2026-11-21 10:00:04.000 | ERROR    | f | appended
EOF
expect_no_err tail-follow

# ---- query -------------------------------------------------------------------

# Every log channel in time order; an ERROR record that is in its own
# channel and in errors.log comes out once; errors.log's own records
# (logger "exceptions") are there.
run --dir flat query --now $NOW
expect_rc query 0
expect_out query <<'EOF'
2026-11-10 12:00:00.000 | INFO     | trading.orders | old order event=order_submitted
2026-11-18 12:00:00.000 | INFO     | trading.orders | older order event=order_submitted
2026-11-19 09:00:00.000 | INFO     | app.main | startup event=system_startup version=0.1.0
2026-11-19 18:00:00.000 | INFO     | app.main | shutdown event=system_shutdown reason=graceful
2026-11-20 08:00:00.000 | INFO     | app.main | startup event=system_startup version=0.1.1
2026-11-20 08:00:01.500 | DEBUG    | app.config | config loaded path=/etc/app.yaml
2026-11-20 20:00:00.000 | WARNING  | app.health | slow heartbeat latency_ms=250.5
2026-11-21 10:00:00.000 | INFO     | app.main | startup event=system_startup version=0.1.2
2026-11-21 11:05:00.000 | INFO     | trading.orders | order sent event=order_submitted order_id=ORD1 qty=100 price=150.25 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
2026-11-21 11:05:00.011 | INFO     | trading.orders | order filled event=order_filled order_id=ORD1 qty=100 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
2026-11-21 11:10:00.000 | INFO     | app.api | request served http_status=200 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 correlation_id=req-1
2026-11-21 11:15:00.000 | ERROR    | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2
2026-11-21 11:16:00.000 | WARNING  | tradingview.feed | feed lag lag_ms=1200
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
2026-11-21 11:25:00.000 | CRITICAL | exceptions | unhandled exception exception_type=RuntimeError
2026-11-21 11:30:00.000 | INFO     | app.main | café 😀 tick tags=[a,"b c"] ok=true ratio=0.25
EOF
expect_err query <<EOF
$CORRUPT_FLAT
EOF

# errors.log read on its own: all three of its records.
run --dir flat query --channel errors
expect_out query-errors-channel <<'EOF'
2026-11-21 11:15:00.000 | ERROR    | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
2026-11-21 11:25:00.000 | CRITICAL | exceptions | unhandled exception exception_type=RuntimeError
EOF

# --level is a minimum; WARNING is WARN.
run --dir flat query --level WARNING --since 2026-11-21
expect_out query-level <<'EOF'
2026-11-21 11:15:00.000 | ERROR    | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2
2026-11-21 11:16:00.000 | WARNING  | tradingview.feed | feed lag lag_ms=1200
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
2026-11-21 11:25:00.000 | CRITICAL | exceptions | unhandled exception exception_type=RuntimeError
EOF

run --dir flat query --level critical
expect_out query-level-critical <<'EOF'
2026-11-21 11:25:00.000 | CRITICAL | exceptions | unhandled exception exception_type=RuntimeError
EOF

# The trace id in any case.
run --dir flat query --trace-id 4BF92F3577B34DA6A3CE929D0E0E4736 --format csv
expect_rc query-trace-id 0
tr -d '\r' <"$WORK/out" >"$WORK/out.lf"
checks=$((checks + 1))
[ "$(tr -cd '\r' <"$WORK/out" | wc -c)" -eq 4 ] || fail "query-trace-id: CSV lines must end in CRLF"
mv "$WORK/out.lf" "$WORK/out"
expect_out query-trace-id <<'EOF'
timestamp,level,logger,message,event,trace_id,span_id,correlation_id,channel
2026-11-21T11:05:00.000000Z,INFO,trading.orders,order sent,order_submitted,4bf92f3577b34da6a3ce929d0e0e4736,1111111111111111,trade-1,trading
2026-11-21T11:05:00.011000Z,INFO,trading.orders,order filled,order_filled,4bf92f3577b34da6a3ce929d0e0e4736,1111111111111111,trade-1,trading
2026-11-21T11:10:00.000000Z,INFO,app.api,request served,,4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7,req-1,application
EOF

# CSV quoting (RFC 4180): commas, quotes and a newline in a field.
run --dir flat query --level ERROR --format csv
tr -d '\r' <"$WORK/out" >"$WORK/out.lf" && mv "$WORK/out.lf" "$WORK/out"
expect_out query-csv-quoting <<'EOF'
timestamp,level,logger,message,event,trace_id,span_id,correlation_id,channel
2026-11-21T11:15:00.000000Z,ERROR,trading.risk,"limit breached, order rejected",order_rejected,,,trade-2,trading
2026-11-21T11:20:00.000000Z,ERROR,app.db,"query failed: ""timeout""
retrying",,,,,application
2026-11-21T11:25:00.000000Z,FATAL,exceptions,unhandled exception,,,,,errors
EOF

run --dir flat query --correlation-id trade-1 --event order_filled
expect_out query-correlation-event <<'EOF'
2026-11-21 11:05:00.011 | INFO     | trading.orders | order filled event=order_filled order_id=ORD1 qty=100 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
EOF

# --logger is a prefix of the logger's name up to a separator, as the file
# exporter routes: "trading" takes trading.orders and trading.risk, not
# tradingview.feed.
run --dir flat query --logger trading --since 2026-11-20
expect_out query-logger <<'EOF'
2026-11-21 11:05:00.000 | INFO     | trading.orders | order sent event=order_submitted order_id=ORD1 qty=100 price=150.25 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
2026-11-21 11:05:00.011 | INFO     | trading.orders | order filled event=order_filled order_id=ORD1 qty=100 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
2026-11-21 11:15:00.000 | ERROR    | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2
EOF
run --dir flat query --logger trading.orders --event order_filled
expect_out query-logger-full-name <<'EOF'
2026-11-21 11:05:00.011 | INFO     | trading.orders | order filled event=order_filled order_id=ORD1 qty=100 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
EOF

# Relative times count back from --now; --since is inclusive, --until
# exclusive.
run --dir flat query --since 50m --until 2026-11-21T11:30:00Z --now $NOW
expect_out query-since-relative <<'EOF'
2026-11-21 11:10:00.000 | INFO     | app.api | request served http_status=200 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 correlation_id=req-1
2026-11-21 11:15:00.000 | ERROR    | trading.risk | limit breached, order rejected event=order_rejected order_id=ORD2 correlation_id=trade-2
2026-11-21 11:16:00.000 | WARNING  | tradingview.feed | feed lag lag_ms=1200
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
2026-11-21 11:25:00.000 | CRITICAL | exceptions | unhandled exception exception_type=RuntimeError
EOF

# A date as --until means the whole day; the rotated files of other days
# are not even opened (the .gz of 11-19 and the current file are, but
# only the current one has corrupt lines).
run --dir flat query --since 2026-11-20 --until 2026-11-20 --channel application
expect_out query-one-day <<'EOF'
2026-11-20 08:00:00.000 | INFO     | app.main | startup event=system_startup version=0.1.1
2026-11-20 08:00:01.500 | DEBUG    | app.config | config loaded path=/etc/app.yaml
2026-11-20 20:00:00.000 | WARNING  | app.health | slow heartbeat latency_ms=250.5
EOF

# --grep: in the message or the line (here an attribute's value).
run --dir flat query --grep ETIMEDOUT
expect_out query-grep-line <<'EOF'
2026-11-21 11:20:00.000 | ERROR    | app.db | query failed: "timeout"\nretrying error=ETIMEDOUT message=inner
EOF
run --dir flat query --grep 'é 😀'
expect_out query-grep-message <<'EOF'
2026-11-21 11:30:00.000 | INFO     | app.main | café 😀 tick tags=[a,"b c"] ok=true ratio=0.25
EOF
run --dir otlp query --grep attr-collides --format json
expect_rc query-grep-otlp 0
jq_out query-grep-otlp 'map(.message) | join(",")' 'order sent'

# JSON: the flat records as they are (\u escapes decoded, surrogate pair
# included, written back as UTF-8).
run --dir flat query --format json --since 2026-11-21T11:19:00Z
expect_rc query-json 0
expect_out query-json <<'EOF'
{"timestamp":"2026-11-21T11:20:00.000000Z","level":"ERROR","logger":"app.db","message":"query failed: \"timeout\"\nretrying","error":"ETIMEDOUT","attributes":{"message":"inner"}}
{"timestamp":"2026-11-21T11:25:00.000000Z","level":"FATAL","logger":"exceptions","message":"unhandled exception","exception_type":"RuntimeError"}
{"timestamp":"2026-11-21T11:30:00.000000Z","level":"INFO","logger":"app.main","message":"café 😀 tick","tags":["a","b c"],"ok":true,"ratio":0.25}
EOF
jq_out query-json-jq 'map(.level) | join(",")' 'ERROR,FATAL,INFO'
jq_out query-json-jq-attr '.[0].attributes.message + "|" + .[2].tags[1]' 'inner|b c'

run --dir flat query --format json
jq_out query-json-count 'length' '16'
jq_out query-json-sorted 'map(.timestamp) == (map(.timestamp) | sort)' 'true'
jq_out query-json-dedup '[.[] | select(.level == "ERROR")] | length' '2'

# otlp records in the flat shape: attributes as keys, one colliding with a
# fixed key under "attributes", the second "qty" dropped (first wins),
# event.name and correlation.id as fields, a kvlist body as an object.
run --dir otlp query --format json
expect_rc query-otlp-json 0
expect_out query-otlp-json <<'EOF'
{"timestamp":"2026-11-21T11:00:00.000000Z","level":"INFO","logger":"trading.orders","message":"order sent","event":"order_submitted","trace_id":"5bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","correlation_id":"trade-9","qty":100,"price":150.25,"urgent":true,"tags":["a",2],"attributes":{"level":"attr-collides"}}
{"timestamp":"2026-11-21T11:00:01.000000Z","level":"ERROR2","logger":"trading.orders","message":{"code":42,"why":"a,b"},"trace_id":"5bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b8","blob":"AAEC","ratio":"NaN","dropped_attributes":2}
{"timestamp":"2026-11-21T11:00:02.000000Z","level":"DEBUG","logger":"app.main","message":""}
{"timestamp":"2026-11-21T11:45:00.250000Z","level":"WARN","logger":"trading.risk","message":"exposure high","event":"risk_warning","correlation_id":"trade-10"}
EOF
expect_err query-otlp-json <<'EOF'
otelc: otlp/application.log:2: "resourceLogs" is not an array
EOF
jq_out query-otlp-jq '.[0].qty + (.[1].message.code)' '142'
jq_out query-otlp-jq-keys '.[0] | keys_unsorted | join(",")' \
    'timestamp,level,logger,message,event,trace_id,span_id,correlation_id,qty,price,urgent,tags,attributes'

run --dir otlp query --format csv --level ERROR
tr -d '\r' <"$WORK/out" >"$WORK/out.lf" && mv "$WORK/out.lf" "$WORK/out"
expect_out query-otlp-csv <<'EOF'
timestamp,level,logger,message,event,trace_id,span_id,correlation_id,channel
2026-11-21T11:00:01.000000Z,ERROR2,trading.orders,"{""code"":42,""why"":""a,b""}",,5bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b8,,application
EOF

# ---- trace -------------------------------------------------------------------

run --dir flat trace 4bf92f3577b34da6a3ce929d0e0e4736
expect_rc trace 0
expect_out trace <<'EOF'
trace 4bf92f3577b34da6a3ce929d0e0e4736: 4 spans, 12.345 ms, from 2026-11-21 11:05:00.000
place_order 12.345 ms at +0.000 ms status=OK kind=server span_id=1111111111111111
  validate_order 1.200 ms at +0.100 ms span_id=2222222222222222
  send_order 8.000 ms at +2.000 ms status=ERROR "timeout" kind=client span_id=3333333333333333
    http_post 7.500 ms at +2.500 ms kind=client span_id=4444444444444444
logs: 3
2026-11-21 11:05:00.000 | INFO     | trading.orders | order sent event=order_submitted order_id=ORD1 qty=100 price=150.25 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
2026-11-21 11:05:00.011 | INFO     | trading.orders | order filled event=order_filled order_id=ORD1 qty=100 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=1111111111111111 correlation_id=trade-1
2026-11-21 11:10:00.000 | INFO     | app.api | request served http_status=200 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 correlation_id=req-1
EOF

# Spans whose parent is not in the files are roots, in start order; the
# trace has spans in a rotated file too.
run --dir flat trace 7A3C5E0F9B2D4C6E8A1F3B5D7C9E0A2B
expect_rc trace-orphans 0
expect_out trace-orphans <<'EOF'
trace 7A3C5E0F9B2D4C6E8A1F3B5D7C9E0A2B: 3 spans, 95460005.000 ms, from 2026-11-20 09:00:00.000
place_order 20.000 ms at +0.000 ms status=OK kind=server span_id=5555555555555555
db_query 3.000 ms at +95400000.000 ms span_id=6666666666666666
db_query 5.000 ms at +95460000.000 ms status=ERROR span_id=7777777777777777
logs: 0
EOF

run --dir otlp trace 5bf92f3577b34da6a3ce929d0e0e4736
expect_rc trace-otlp 0
expect_out trace-otlp <<'EOF'
trace 5bf92f3577b34da6a3ce929d0e0e4736: 2 spans, 1000.000 ms, from 2026-11-21 11:00:00.000
handle 1000.000 ms at +0.000 ms status=OK kind=server span_id=00f067aa0ba902b7
  db 500.000 ms at +100.000 ms status=ERROR "boom" kind=client span_id=00f067aa0ba902b9
logs: 2
2026-11-21 11:00:00.000 | INFO     | trading.orders | order sent event=order_submitted qty=100 price=150.25 urgent=true tags=[a,2] level=attr-collides trace_id=5bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 correlation_id=trade-9
2026-11-21 11:00:01.000 | ERROR    | trading.orders | {"code":42,"why":"a,b"} blob=AAEC ratio=NaN trace_id=5bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b8
EOF

run --dir flat trace 00000000000000000000000000000abc
expect_rc trace-unknown 1
expect_err trace-unknown <<EOF
$CORRUPT_FLAT
otelc: trace 00000000000000000000000000000abc: no spans or logs found in flat
EOF

# ---- stats -------------------------------------------------------------------

run --dir flat stats
expect_rc stats 0
expect_out stats <<'EOF'
application: 4 files, 1.4 KiB, 9 records, 2 corrupt lines
  levels: DEBUG 1, INFO 6, WARN 1, ERROR 1
  events: system_startup 3, system_shutdown 1
errors: 1 file, 522 B, 3 records
  levels: ERROR 2, FATAL 1
  events: order_rejected 1
traces: 2 files, 2.5 KiB, 7 spans (2 with status ERROR)
trading: 3 files, 1.1 KiB, 6 records
  levels: INFO 4, WARN 1, ERROR 1
  events: order_submitted 3, order_filled 1, order_rejected 1

slowest operations (by average duration):
  name                                count       avg ms       max ms
  place_order                             2       16.173       20.000
  send_order                              1        8.000        8.000
  http_post                               1        7.500        7.500
  db_query                                2        4.000        5.000
  validate_order                          1        1.200        1.200
EOF
expect_err stats <<EOF
$CORRUPT_FLAT
EOF

run --dir flat stats trading --since 2026-11-21
expect_out stats-channel <<'EOF'
trading: 3 files, 1.1 KiB, 4 records
  levels: INFO 2, WARN 1, ERROR 1
  events: order_filled 1, order_rejected 1, order_submitted 1
EOF

run --dir otlp stats
expect_out stats-otlp <<'EOF'
application: 1 file, 1.7 KiB, 4 records, 1 corrupt line
  levels: DEBUG 1, INFO 1, WARN 1, ERROR 1
  events: order_submitted 1, risk_warning 1
traces: 1 file, 757 B, 2 spans (1 with status ERROR)

slowest operations (by average duration):
  name                                count       avg ms       max ms
  handle                                  1     1000.000     1000.000
  db                                      1      500.000      500.000
EOF

# ---- status ------------------------------------------------------------------

run --dir flat status --now $NOW
expect_rc status 0
expect_out status <<'EOF'
CHANNEL     FILES       SIZE  NEWEST RECORD                AGE  MODIFIED
application     4    1.4 KiB  2026-11-21 11:30:00.000   30m00s    15m00s
errors          1      522 B  2026-11-21 11:25:00.000   35m00s    15m00s
traces          2    2.5 KiB  2026-11-21 11:31:00.000   29m00s    15m00s
trading         3    1.1 KiB  2026-11-21 11:16:00.000   44m00s    15m00s
EOF

run --dir otlp status application --now 2026-11-22T12:00:00Z
expect_out status-channel <<'EOF'
CHANNEL     FILES       SIZE  NEWEST RECORD                AGE  MODIFIED
application     1    1.7 KiB  2026-11-21 11:45:00.250    1d00h     1d00h
EOF

# ---- health ------------------------------------------------------------------

run --dir flat health --now $NOW
expect_rc health 1
expect_out health <<'EOF'
CHANNEL      RECORDS  ERRORS    RATE  STATE
application        3       1   33.3%  UNHEALTHY
errors             3       3       -  ok
traces             6       2   33.3%  UNHEALTHY
trading            4       1   25.0%  UNHEALTHY
unhealthy: application: 1 of 3 records in the last hour are errors (33.3%, more than 5.0%)
unhealthy: application: 2 corrupt lines
unhealthy: traces: 2 of 6 records in the last hour are errors (33.3%, more than 5.0%)
unhealthy: trading: 1 of 4 records in the last hour are errors (25.0%, more than 5.0%)
EOF

run --dir flat health trading --max-error-rate 0.3 --now $NOW
expect_rc health-ok 0
expect_out health-ok <<'EOF'
CHANNEL  RECORDS  ERRORS    RATE  STATE
trading        4       1   25.0%  ok
healthy: 1 channel, 4 records in the last hour
EOF

# An hour later nothing is recent: healthy but for the corrupt lines.
run --dir flat health --now 2026-11-21T13:00:00Z
expect_rc health-later 1
expect_out health-later <<'EOF'
CHANNEL      RECORDS  ERRORS    RATE  STATE
application        0       0       -  UNHEALTHY
errors             0       0       -  ok
traces             0       0       -  ok
trading            0       0       -  ok
unhealthy: application: 2 corrupt lines
EOF

# ---- cleanup and compress ----------------------------------------------------

# Records before compressing, to compare with what the .gz files give.
run --dir flat query --format json --channel trading
cp "$WORK/out" "$WORK/trading-before.json"

run --dir flat cleanup --days 2 --dry-run --now $NOW
expect_rc cleanup-dry 0
expect_out cleanup-dry <<'EOF'
would delete flat/trading.log.2026-11-10 (133 B)
would delete flat/trading.log.2026-11-18 (135 B)
would delete 2 files, 268 B
EOF
checks=$((checks + 1))
[ -f flat/trading.log.2026-11-10 ] || fail "cleanup-dry: a file was deleted"

run --dir flat compress --days 1 --dry-run --now $NOW
expect_out compress-dry <<'EOF'
would compress flat/trading.log.2026-11-10 (133 B)
would compress flat/trading.log.2026-11-18 (135 B)
would compress 2 files, 268 B
EOF

cp flat/trading.log.2026-11-18 "$WORK/trading-18.orig"
run --dir flat compress --days 1 --now $NOW
expect_rc compress 0
expect_err compress </dev/null
checks=$((checks + 1))
sed 's/ ([0-9]* B -> [0-9]* B)$//; s/, [0-9]* B -> [0-9]* B$//' "$WORK/out" >"$WORK/out.plain" &&
    mv "$WORK/out.plain" "$WORK/out"
expect_out compress <<'EOF'
compressed flat/trading.log.2026-11-10
compressed flat/trading.log.2026-11-18
compressed 2 files
EOF
expect_eq compress-original-gone "no" "$([ -e flat/trading.log.2026-11-18 ] && echo yes || echo no)"
expect_eq compress-mode 640 "$(stat -c %a flat/trading.log.2026-11-18.gz)"
expect_eq compress-content "same" \
    "$(gzip -dc flat/trading.log.2026-11-18.gz | cmp -s - "$WORK/trading-18.orig" && echo same)"
expect_eq compress-gzip-valid "ok" "$(gzip -t flat/trading.log.2026-11-10.gz && echo ok)"
expect_eq compress-no-tmp "" "$(find flat -name '*tmp*')"
# The current file and the not-old-enough ones are left alone.
expect_eq compress-current "yes" "$([ -f flat/trading.log ] && echo yes)"
expect_eq compress-recent "yes" "$([ -f flat/application.log.2026-11-20 ] && echo yes)"

run --dir flat query --format json --channel trading
checks=$((checks + 1))
cmp -s "$WORK/out" "$WORK/trading-before.json" || fail "compress: records read back differ"

# Nothing left to compress.
run --dir flat compress --days 1 --now $NOW
expect_out compress-again <<'EOF'
no uncompressed rotated file older than 1 days
EOF

# cleanup takes .gz files too, never a current file. (The sizes of .gz
# files depend on the gzip at hand: read from the files.)
s1=$(stat -c %s flat/application.log.2026-11-19.gz)
s2=$(stat -c %s flat/trading.log.2026-11-10.gz)
s3=$(stat -c %s flat/trading.log.2026-11-18.gz)
run --dir flat cleanup --days 1 --now $NOW
expect_rc cleanup 0
expect_out cleanup <<EOF
deleted flat/application.log.2026-11-19.gz ($s1 B)
deleted flat/trading.log.2026-11-10.gz ($s2 B)
deleted flat/trading.log.2026-11-18.gz ($s3 B)
deleted 3 files, $((s1 + s2 + s3)) B
EOF
expect_eq cleanup-left "application.log application.log.2026-11-20 application.log.2026-11-20.1 errors.log traces.log traces.log.2026-11-20 trading.log" \
    "$(cd flat && echo *)"

run --dir flat cleanup --days 0 --channel traces --now $NOW
expect_out cleanup-channel <<'EOF'
deleted flat/traces.log.2026-11-20 (295 B)
deleted 1 file, 295 B
EOF

# ---- export ------------------------------------------------------------------

run --dir flat export trading --output trading.json
expect_rc export-json 0
expect_out export-json <<'EOF'
4 records of trading written to trading.json
EOF
cp trading.json "$WORK/out"
jq_out export-json-events 'map(.event // "-") | join(",")' 'order_submitted,order_filled,order_rejected,-'
jq_out export-json-types '.[0].qty + .[0].price' '250.25'
expect_eq export-json-mode 640 "$(stat -c %a trading.json)"

run --dir otlp export application --format csv -o app.csv
expect_rc export-csv 0
tr -d '\r' <app.csv >"$WORK/out"
expect_out export-csv <<'EOF'
timestamp,level,logger,message,event,trace_id,span_id,correlation_id,channel
2026-11-21T11:00:00.000000Z,INFO,trading.orders,order sent,order_submitted,5bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7,trade-9,application
2026-11-21T11:00:01.000000Z,ERROR2,trading.orders,"{""code"":42,""why"":""a,b""}",,5bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b8,,application
2026-11-21T11:00:02.000000Z,DEBUG,app.main,,,,,,application
2026-11-21T11:45:00.250000Z,WARN,trading.risk,exposure high,risk_warning,,,trade-10,application
EOF

run --dir flat export trading --format json --output no/such/dir/x.json
expect_rc export-bad-output 1
expect_err export-bad-output <<'EOF'
otelc: no/such/dir/x.json: No such file or directory
EOF

# ---- result --------------------------------------------------------------------

if [ $failures -ne 0 ]; then
    echo "$failures of $checks checks failed"
    exit 1
fi
echo "all $checks checks passed"
exit 0
