#!/usr/bin/env bash
#
# test.sh: the whole test command, the one CI runs (.ci/run).
#
#   build       Release, every test; then a smoke run of otelc-bench --quick
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer, every test
#   build-tsan  ThreadSanitizer, the tests labelled stress or concurrency
#
# Every build and test run goes ahead even when an earlier one failed, so one
# run reports everything. The last line reads "N passed, N failed" over the
# three test runs; the exit status is non-zero when any build or test failed.
#
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
# The OTLP tests' receiver: the official OpenTelemetry JS packages from npm.
# Here it must be there: a test that cannot start it fails instead of
# skipping.
bash tests/otlp-receiver/install.sh
bash tests/w3c-js/install.sh # the official OpenTelemetry JS W3C propagators (tests/w3c-js)
export OTELC_REQUIRE_RECEIVER=1
# The PostgreSQL tests' cluster (tests/pg/cluster.sh, a CTest fixture) must
# start here: a test that finds none fails instead of skipping.
export OTELC_REQUIRE_PG=1

# The machine has two cores.
JOBS=2

# Warnings are errors here, in every build: a user's build does not make them
# errors (a newer compiler may warn where ours did not), so this is where no
# warning may get in. See OTELC_WERROR in cmake/Warnings.cmake.
WERROR=-DOTELC_WERROR=ON

# Sanitizers stop at the first report, with a stack, so that a report is a
# failed test and never a line lost in the log.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

total_passed=0
total_failed=0
status=0

# configure DIR CMAKE_ARGS...: Ninja for a fresh directory when it is there; a
# configured directory keeps its generator (CMake refuses to change it).
configure() {
    local dir=$1
    shift
    local generator=()
    if [[ ! -f "$dir/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then
        generator=(-G Ninja)
    fi
    cmake -S . -B "$dir" "${generator[@]}" "$@"
}

# build DIR CMAKE_ARGS...: configures and builds; returns non-zero on failure.
build() {
    local dir=$1
    shift
    echo "==== $dir: configure and build"
    if configure "$dir" "$@" && cmake --build "$dir" -j"$JOBS"; then
        return 0
    fi
    echo "==== $dir: BUILD FAILED" >&2
    status=1
    return 1
}

# run_ctest DIR [PREFIX...] -- [CTEST_ARGS...]: runs ctest in DIR, prefixed by
# PREFIX (e.g. setarch), and adds its counts to the totals. ctest ends with
# "100% tests passed, 0 tests failed out of 12" or "92% tests passed, 1 tests
# failed out of 12"; with no test to run it prints neither, and counts zero.
run_ctest() {
    local dir=$1
    shift
    local prefix=()
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        prefix+=("$1")
        shift
    done
    [[ $# -gt 0 ]] && shift
    local log="$dir/ctest-summary.log"
    local rc=0

    echo "==== $dir: ctest $*"
    (cd "$dir" && "${prefix[@]}" ctest --output-on-failure -j"$JOBS" "$@") 2>&1 |
        tee "$log" || rc=$?

    local counts failed total
    counts=$(sed -n 's/.* \([0-9][0-9]*\) tests* failed out of \([0-9][0-9]*\).*/\1 \2/p' "$log" |
        tail -n 1)
    if [[ -n "$counts" ]]; then
        read -r failed total <<<"$counts"
        total_failed=$((total_failed + failed))
        total_passed=$((total_passed + total - failed))
        echo "==== $dir: $((total - failed)) passed, $failed failed"
    else
        echo "==== $dir: no tests run"
    fi
    if [[ $rc -ne 0 ]]; then
        status=1
    fi
}

# ThreadSanitizer maps its shadow memory at fixed addresses; with more than
# 28 bits of mmap randomisation (newer kernels) it can fail with "unexpected
# memory mapping". Running without address randomisation avoids that, where
# setarch exists and the container lets it change the personality.
tsan_prefix=()
rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
if [[ "$rnd_bits" -gt 28 ]]; then
    if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R true 2>/dev/null; then
        tsan_prefix=(setarch "$(uname -m)" -R)
        echo "test: vm.mmap_rnd_bits=$rnd_bits, running the TSan tests under setarch -R"
    else
        echo "test: vm.mmap_rnd_bits=$rnd_bits and no working setarch -R;" \
            "TSan may fail to start" >&2
    fi
fi

# 1. Release: every test, then the benchmark as a smoke run.
if build build -DCMAKE_BUILD_TYPE=Release "$WERROR"; then
    run_ctest build --
    # The bench only has to run to its end; its numbers are for people to
    # compare, so a slow machine (a timeout) is a warning, not a failure.
    if [[ -x build/bench/otelc-bench ]]; then
        echo "==== bench: otelc-bench --quick"
        bench_rc=0
        timeout 600 ./build/bench/otelc-bench --quick || bench_rc=$?
        if [[ $bench_rc -eq 124 ]]; then
            echo "==== bench: timed out (not counted as a failure)" >&2
        elif [[ $bench_rc -ne 0 ]]; then
            echo "==== bench: FAILED with status $bench_rc" >&2
            status=1
        fi
    fi
fi

# 2. AddressSanitizer + UndefinedBehaviorSanitizer: every test.
if build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTELC_SANITIZE=address,undefined \
    -DOTELC_BUILD_BENCH=OFF "$WERROR"; then
    run_ctest build-asan --
fi

# 3. ThreadSanitizer: the tests about threads.
if build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTELC_SANITIZE=thread \
    -DOTELC_BUILD_BENCH=OFF "$WERROR"; then
    run_ctest build-tsan "${tsan_prefix[@]}" -- -L 'stress|concurrency'
fi

echo "$total_passed passed, $total_failed failed"
if [[ $status -ne 0 || $total_failed -ne 0 ]]; then
    exit 1
fi
