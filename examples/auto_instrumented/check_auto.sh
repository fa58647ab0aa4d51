#!/usr/bin/env bash
# Runs auto_instrumented and checks the call tree in what the file exporter
# wrote (logs/traces.log, read with jq): every function of book.c a span,
# each the child of its caller, the recursion's depth per order, one trace.
#
#   check_auto.sh <path/to/auto_instrumented> <orders>
set -u
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=$2
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT

fail() {
    echo "check_auto: FAIL: $*" >&2
    exit 1
}

(cd "$work" && env -u OTEL_TRACES_EXPORTER -u OTEL_LOGS_EXPORTER OTELC_STATS=1 \
    "$prog" --orders "$n" >"$work/out" 2>"$work/err") || { cat "$work/err" >&2; fail "exit status"; }
f=$work/logs/traces.log
[ -s "$f" ] || fail "no logs/traces.log"

# name of each span's parent ("-" for none), as "name<TAB>parent".
jq -r -s '(map({(.span_id): .name}) | add) as $names
          | .[] | [.name] + [($names[.parent_span_id // ""] // "-")] | @tsv' "$f" \
    | sort | uniq -c | awk '{print $2 "/" $3 "=" $1}' > "$work/edges"

# walk_levels: order i crosses (i % 4) + 1 levels, the first called by
# match_order, the others by walk_levels.
first=$n
rest=0
for ((i = 0; i < n; i++)); do rest=$((rest + i % 4)); done
want=$(printf '%s\n' "check_limits/validate_order=$n" "match_order/process_order=$n" \
    "parse_order/process_order=$n" "process_order/run_book=$n" "record_fill/process_order=$n" \
    "replay/-=1" "run_book/replay=1" "validate_order/process_order=$n" \
    "walk_levels/match_order=$first" ${rest:+"walk_levels/walk_levels=$rest"} | sort)
got=$(sort "$work/edges")
[ "$got" = "$want" ] || fail "call tree (span/parent=count):
got:
$got
want:
$want"

traces=$(jq -r .trace_id "$f" | sort -u | wc -l)
[ "$traces" -eq 1 ] || fail "$traces trace ids, want 1"
# Children inside their parents' time (ISO times of one format compare as
# strings).
bad=$(jq -r -s '(map({(.span_id): .}) | add) as $by
        | .[] | select(.parent_span_id != null and $by[.parent_span_id] != null)
        | select(.start < $by[.parent_span_id].start or .end > $by[.parent_span_id].end)
        | .name' "$f" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad spans outside their parent's time"
grep -q "dropped=0 logs" "$work/err" || fail "otelc dropped spans: $(cat "$work/err")"
echo "check_auto: OK ($(jq -s length "$f") spans)"
