#!/usr/bin/env bash
#
# instructions.sh: instructions per operation of the otelc-bench workloads,
# counted by valgrind's callgrind: a figure that does not depend on how busy
# the machine is (issue 10). Prints, per workload, the instructions per op of
# the producer thread (the one that runs the workload's loop), the pipeline
# thread (the one that runs otelc__pipeline_main: drain, assembly, batches) and the
# exporter worker (worker_main, handing batches to the bench's counting
# exporter), beside the goals of issue 10.
#
# Usage: bench/instructions.sh [BUILD_DIR] [WORKLOAD...]
#     BUILD_DIR  a build with bench/otelc-bench in it (default: the
#                repository's build/)
#     WORKLOAD   otelc-bench workloads (default: the seven below)
# Environment: OPS (default 50000) the --ops of the first run; KEEP=DIR keeps
# the callgrind files in DIR instead of a temporary directory.
#
# The method needs no toggles in the program: each workload runs twice, at
# --ops N and 2N (one repetition, --reps 1), and for each thread
#     instructions/op = (Ir(2N run) - Ir(N run)) / (ops(2N run) - ops(N run))
# so that start-up, warm-up, initialisation and shutdown cancel out. The ops
# of a run are counted, not assumed: the calls of the workload's body_<name>
# function (one per chunk, as callgrind records them) times the chunk size.
# Threads are told apart by what they run, not by their number. A run under
# callgrind is about 50 times slower than natively; the whole script takes a
# few minutes.
#
# Callgrind serialises the threads, so the pipeline drains in large bites;
# what it does per record is what is counted. The pipeline's idle wake-ups
# (about one per millisecond of the slowed-down run) are not per record and
# show as a small remainder, the pipeline figure of the workloads that record
# nothing (span_unsampled, log_disabled).
set -euo pipefail

build="$(cd "$(dirname "$0")/.." && pwd)/build"
if [[ $# -gt 0 && -d "$1" ]]; then
    build=$1
    shift
fi
bench="$build/bench/otelc-bench"
if [[ ! -x "$bench" ]]; then
    echo "instructions.sh: no $bench (build first: cmake --build $build)" >&2
    exit 2
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "instructions.sh: valgrind is missing (bash scripts/deps.sh installs it)" >&2
    exit 2
fi

workloads=("$@")
if [[ ${#workloads[@]} -eq 0 ]]; then
    workloads=(span_3attrs span_3attrs_corr span_empty span_nested_child log_3attrs log_3attrs_corr span_unsampled log_disabled)
fi
ops=${OPS:-50000}
# A chunk of 10000 ops fills at most 3.2 MB of ring (parent+child pairs),
# so a 4 MiB ring holds one even when the pipeline does not run until the
# flush; the bench's warm-up writes the ring through once (4 chunks).
chunk=10000
ring=4194304
if ((ops % chunk != 0 || ops < chunk)); then
    echo "instructions.sh: OPS must be a multiple of $chunk" >&2
    exit 2
fi

if [[ -n "${KEEP:-}" ]]; then
    dir=$KEEP
    mkdir -p "$dir"
else
    dir=$(mktemp -d /tmp/otelc-instructions-XXXXXX)
    trap 'rm -rf "$dir"' EXIT
fi

# The goals of issue 10 (producer, pipeline); "-" where it sets none.
goal_producer() {
    case $1 in
        span_3attrs) echo 160 ;;
        log_3attrs) echo 100 ;;
        span_unsampled) echo 60 ;;
        log_disabled) echo 5 ;;
        *) echo - ;;
    esac
}
goal_pipeline() {
    case $1 in
        span_3attrs) echo 400 ;;
        log_3attrs) echo 300 ;;
        *) echo - ;;
    esac
}

# The function that runs a workload's loop: body_<name>, but the two-thread
# workloads run the body of the one-thread one (on both threads, whose
# instructions and ops are added up).
body_of() {
    echo "body_${1%_2threads}"
}

# One run of one workload under callgrind. Prints "role Ir" per thread and
# "ops N" for the run (the producer's body calls times the chunk).
run_one() {
    local name=$1 n=$2 out="$dir/$1.$2" f
    rm -f "$out".*
    if ! valgrind --tool=callgrind --separate-threads=yes --compress-strings=no \
        --callgrind-out-file="$out.%p" \
        "$bench" --quick --reps 1 --ops "$n" --chunk "$chunk" --ring "$ring" "$name" \
        >"$out.log" 2>"$out.valgrind"; then
        echo "instructions.sh: $name at --ops $n failed:" >&2
        cat "$out.log" "$out.valgrind" | grep -v "^==" | tail -n 5 >&2
        return 1
    fi
    # The bench notes drops and counts that do not add up on lines starting
    # with '#': either would make the figure count a different workload.
    if grep -qE "dropped \(|do not add up" "$out.log"; then
        echo "instructions.sh: $name at --ops $n dropped records:" >&2
        grep -E "dropped \(|do not add up" "$out.log" >&2
        return 1
    fi
    for f in "$out".*-*; do
        awk -v body="$(body_of "$name")" -v chunk="$chunk" '
            /^summary:/ { ir = $2 }
            /^fn=/ {
                fn = substr($0, 4)
                # otelc__pipeline_main since the pipeline is four files
                # (pipeline_main before): builds of either are measured.
                if (fn == "otelc__pipeline_main" || fn == "pipeline_main") role = "pipeline"
                else if (fn == "worker_main" && role == "") role = "worker"
            }
            /^cfn=/ { callee = substr($0, 5) }
            /^calls=/ {
                if (callee == body) { split(substr($0, 7), c, " "); calls += c[1] }
                callee = ""
            }
            END {
                if (calls > 0) role = "producer"
                if (role == "") role = "other"
                printf "%s %d\n", role, ir
                if (calls > 0) printf "ops %d\n", calls * chunk
            }' "$f"
    done
}

# The sum of one key's values in run_one's output.
sum_of() {
    awk -v k="$1" '$1 == k { s += $2 } END { printf "%d\n", s }'
}

per_op() {
    awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n }'
}

printf '# otelc-bench under callgrind: instructions per op, (Ir(2N) - Ir(N)) / ops, N = %s\n' "$ops"
printf '# source %s, %s\n' "$(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo '?')" \
    "$(valgrind --version)"
printf '%-22s %9s %9s %6s %9s %6s %8s\n' workload ops producer goal pipeline goal worker
status=0
for w in "${workloads[@]}"; do
    if ! a=$(run_one "$w" "$ops") || ! b=$(run_one "$w" $((2 * ops))); then
        status=1
        continue
    fi
    ops_a=$(sum_of ops <<<"$a")
    ops_b=$(sum_of ops <<<"$b")
    n=$((ops_b - ops_a))
    if ((n <= 0)); then
        echo "instructions.sh: $w: no producer thread found ($(body_of "$w"))" >&2
        status=1
        continue
    fi
    row=()
    for role in producer pipeline worker; do
        row+=("$(per_op "$(sum_of $role <<<"$a")" "$(sum_of $role <<<"$b")" "$n")")
    done
    printf '%-22s %9d %9s %6s %9s %6s %8s\n' "$w" "$n" "${row[0]}" "$(goal_producer "$w")" \
        "${row[1]}" "$(goal_pipeline "$w")" "${row[2]}"
done
exit $status
