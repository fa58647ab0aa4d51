#!/bin/sh
# Checks that otlp_json_decode.py, the reader other tests trust to judge
# otelc's OTLP/JSON, reads valid requests correctly and rejects bad ones.
#
# Usage: test_otlp_json_decode.sh <otlp_json_decode.py>
# Environment (set by otelc_otlp_env in tests/CMakeLists.txt):
#   OTELC_PYTHON       the interpreter with python3-protobuf (/usr/bin/python3)
#   OTELC_OTLP_PY_DIR  the protoc-generated modules
#   OTELC_JQ           jq (optional; "jq" from PATH by default)
set -u

decoder=$1
python=${OTELC_PYTHON:?OTELC_PYTHON is not set}
jq=${OTELC_JQ:-jq}
: "${OTELC_OTLP_PY_DIR:?OTELC_OTLP_PY_DIR is not set}"

failures=0
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

decode() {
    "$python" "$decoder" "$@"
}

# expect_field FILE JQ-FILTER EXPECTED: the filter applied to FILE prints EXPECTED.
expect_field() {
    got=$("$jq" -c "$2" "$1") || { fail "jq '$2' failed"; return; }
    [ "$got" = "$3" ] || fail "$2: got $got, want $3"
}

# expect_reject NAME LINE EXTRA-ARGS...: the decoder refuses LINE, exit 1,
# with "line 1: ..." on stderr.
expect_reject() {
    name=$1
    shift
    line=$1
    shift
    printf '%s\n' "$line" > "$work/bad.jsonl"
    decode "$@" "$work/bad.jsonl" > "$work/out" 2> "$work/err"
    status=$?
    if [ $status -ne 1 ]; then
        fail "$name: exit status $status, want 1"
    elif ! grep -q '^line 1: ' "$work/err"; then
        fail "$name: stderr is not 'line 1: ...': $(cat "$work/err")"
    elif [ -s "$work/out" ]; then
        fail "$name: printed output for a bad line"
    fi
}

trace_id=5b8efff798038103d269b633813fc60c
span_id=eee19b7ec3c1b174
parent_id=eee19b7ec3c1b173

# A trace request as OTLP/JSON writes it: hex ids, 64-bit integers both as
# strings and as a number, integer enums, base64 in bytesValue.
trace_line='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"orders"}}]},"scopeSpans":[{"scope":{"name":"otelc.test","version":"0.1.0"},"spans":[{"traceId":"'$trace_id'","spanId":"'$span_id'","parentSpanId":"'$parent_id'","traceState":"k=v","flags":769,"name":"GET /orders","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000000250000000,"attributes":[{"key":"http.status","value":{"intValue":"500"}},{"key":"ratio","value":{"doubleValue":0.5}},{"key":"raw","value":{"bytesValue":"AAH/"}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"boolValue":true}]}}}],"events":[{"timeUnixNano":"1700000000100000000","name":"exception","attributes":[{"key":"exception.message","value":{"stringValue":"boom"}}]}],"links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","flags":256}],"status":{"code":2,"message":"failed"}},{"traceId":"'$trace_id'","spanId":"eee19b7ec3c1b175","name":"child"}]}]}]}'

log_line='{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"orders"}}]},"scopeLogs":[{"scope":{"name":"trading"},"logRecords":[{"timeUnixNano":"1700000000000000001","observedTimeUnixNano":"1700000000000000002","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"order rejected"},"attributes":[{"key":"order.id","value":{"intValue":"-9223372036854775808"}}],"flags":1,"traceId":"'$trace_id'","spanId":"'$span_id'","eventName":"order.rejected"}]}]}]}'

printf '%s\n%s\n' "$trace_line" "$log_line" > "$work/good.jsonl"

# Both lines decode, top-level key chooses the request type.
if decode "$work/good.jsonl" > "$work/good.out" 2> "$work/err"; then
    [ "$(wc -l < "$work/good.out")" -eq 2 ] || fail "want 2 output lines"
    head -n 1 "$work/good.out" > "$work/trace.json"
    tail -n 1 "$work/good.out" > "$work/log.json"
    span='.resource_spans[0].scope_spans[0].spans[0]'
    expect_field "$work/trace.json" '.resource_spans[0].resource.attributes[0].value.string_value' '"orders"'
    expect_field "$work/trace.json" '.resource_spans[0].scope_spans[0].scope.version' '"0.1.0"'
    expect_field "$work/trace.json" "$span.trace_id" "\"$trace_id\""
    expect_field "$work/trace.json" "$span.span_id" "\"$span_id\""
    expect_field "$work/trace.json" "$span.parent_span_id" "\"$parent_id\""
    expect_field "$work/trace.json" "$span.trace_state" '"k=v"'
    expect_field "$work/trace.json" "$span.flags" '769'
    expect_field "$work/trace.json" "$span.kind" '2'
    expect_field "$work/trace.json" "$span.start_time_unix_nano" '"1700000000000000000"'
    expect_field "$work/trace.json" "$span.end_time_unix_nano" '"1700000000250000000"'
    expect_field "$work/trace.json" "$span.attributes[0].value.int_value" '"500"'
    expect_field "$work/trace.json" "$span.attributes[1].value.double_value" '0.5'
    expect_field "$work/trace.json" "$span.attributes[2].value.bytes_value" '"AAH/"'
    expect_field "$work/trace.json" "$span.attributes[3].value.array_value.values[1].bool_value" 'true'
    expect_field "$work/trace.json" "$span.events[0].name" '"exception"'
    expect_field "$work/trace.json" "$span.events[0].time_unix_nano" '"1700000000100000000"'
    expect_field "$work/trace.json" "$span.links[0].trace_id" '"0af7651916cd43dd8448eb211c80319c"'
    expect_field "$work/trace.json" "$span.links[0].span_id" '"b7ad6b7169203331"'
    expect_field "$work/trace.json" "$span.links[0].flags" '256'
    expect_field "$work/trace.json" "$span.status" '{"code":2,"message":"failed"}'
    expect_field "$work/trace.json" '.resource_spans[0].scope_spans[0].spans[1].name' '"child"'
    record='.resource_logs[0].scope_logs[0].log_records[0]'
    expect_field "$work/log.json" '.resource_logs[0].scope_logs[0].scope.name' '"trading"'
    expect_field "$work/log.json" "$record.time_unix_nano" '"1700000000000000001"'
    expect_field "$work/log.json" "$record.observed_time_unix_nano" '"1700000000000000002"'
    expect_field "$work/log.json" "$record.severity_number" '17'
    expect_field "$work/log.json" "$record.severity_text" '"ERROR"'
    expect_field "$work/log.json" "$record.body.string_value" '"order rejected"'
    expect_field "$work/log.json" "$record.attributes[0].value.int_value" '"-9223372036854775808"'
    expect_field "$work/log.json" "$record.flags" '1'
    expect_field "$work/log.json" "$record.trace_id" "\"$trace_id\""
    expect_field "$work/log.json" "$record.span_id" "\"$span_id\""
    expect_field "$work/log.json" "$record.event_name" '"order.rejected"'
else
    fail "valid lines rejected: $(cat "$work/err")"
fi

# --count: spans and log records over all lines; stdin works too.
got=$(printf '%s\n' "$trace_line" "$trace_line" | decode --count --kind traces -)
[ "$got" = 4 ] || fail "--count of 2 trace lines: got '$got', want 4"
got=$(printf '%s\n' "$log_line" | decode --count)
[ "$got" = 1 ] || fail "--count of 1 log line: got '$got', want 1"
# A file without a final newline is still one line.
printf '%s' "$log_line" | decode --count > /dev/null || fail "no final newline rejected"

# --kind is obeyed: a log request is not a trace request.
expect_reject "logs read as traces" "$log_line" --kind traces

# Unknown fields, anywhere.
expect_reject "unknown top-level field" '{"resourceSpans":[],"extra":1}'
expect_reject "unknown span field" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"'$trace_id'","spanId":"'$span_id'","name":"x","color":"red"}]}]}]}'
expect_reject "unknown log record field" \
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":9,"name":"old"}]}]}]}'

# Wrong types.
expect_reject "name is a number" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"'$trace_id'","spanId":"'$span_id'","name":5}]}]}]}'
expect_reject "spans is an object" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":{"name":"x"}}]}]}'
expect_reject "intValue is not an integer" \
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"k","value":{"intValue":"12x"}}]}]}]}]}'
expect_reject "flags is negative" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"'$trace_id'","spanId":"'$span_id'","flags":-1}]}]}]}'

# Ids: hex of the right length, never base64, never missing on a span.
expect_reject "span id not hex" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"'$trace_id'","spanId":"eee19b7ec3c1b17g"}]}]}]}'
expect_reject "trace id too short" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103","spanId":"'$span_id'"}]}]}]}'
expect_reject "trace id in base64" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"'$span_id'"}]}]}]}'
expect_reject "trace id upper case" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"'$span_id'"}]}]}]}'
expect_reject "trace id all zeroes" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000000","spanId":"'$span_id'"}]}]}]}'
expect_reject "span without span id" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"'$trace_id'","name":"x"}]}]}]}'
expect_reject "log span id is a number" \
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":12}]}]}]}'

# OTLP/JSON's own rules on top of proto3 JSON: integer enums, camelCase keys.
expect_reject "enum by name" \
    '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"'$trace_id'","spanId":"'$span_id'","kind":"SPAN_KIND_SERVER"}]}]}]}'
expect_reject "severity by name" \
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_INFO"}]}]}]}'
expect_reject "snake_case key" \
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"event_name":"x"}]}]}]}'

# Not a request at all.
expect_reject "not JSON" '{"resourceSpans":['
expect_reject "duplicate key" '{"resourceSpans":[],"resourceSpans":[]}'
expect_reject "neither signal" '{}'
expect_reject "array" '[]'

# The error names the line: a bad second line is "line 2".
printf '%s\n%s\n' "$trace_line" '{"resourceSpans":[{"bogus":1}]}' > "$work/second.jsonl"
decode "$work/second.jsonl" > /dev/null 2> "$work/err" && fail "bad second line accepted"
grep -q '^line 2: ' "$work/err" || fail "bad second line not reported as line 2: $(cat "$work/err")"

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "otlp_json_decode: all checks passed"
