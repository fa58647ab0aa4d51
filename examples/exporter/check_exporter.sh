#!/bin/sh
# check_exporter.sh SERVICE: runs the example service with the example
# exporter named in the environment; its lines must be on stdout and its
# partial result in the counts (one log record rejected).
set -eu
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT
out=$(OTEL_TRACES_EXPORTER=lines OTEL_LOGS_EXPORTER=lines "$1" 2>"$errf") || {
    echo "example_exporter: FAIL: the service failed"; cat "$errf"; exit 1; }
err=$(cat "$errf")
fail() { echo "example_exporter: FAIL: $*"; echo "stdout: $out"; echo "stderr: $err"; exit 1; }
echo "$out" | grep -q '^span checkout [0-9]*\.[0-9][0-9][0-9] ms$' || fail "no span line"
echo "$out" | grep -q '^log INFO order accepted$' || fail "no log line"
echo "$err" | grep -q 'spans produced=1 exported=1 dropped=0' || fail "span counts"
echo "$err" | grep -q 'logs produced=2 exported=1 dropped=1 (rejected=1)' || fail "log counts"
echo "$err" | grep -q "the backend rejected 1 of 2 log records" || fail "no diagnostic"
echo "example_exporter: ok"
