#!/usr/bin/env bash
# run.sh BUILD_DIR SOURCE_DIR: installs the build into a temporary prefix,
# then builds and runs consumers as a user's project would: with
# find_package(otelc COMPONENTS file) and with pkg-config, the core alone and
# the core with the file exporter, shared and static. Each consumer names its
# exporter in OTEL_LOGS_EXPORTER; the file ones must leave the record on disk.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "install: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp/prefix"/lib*/pkgconfig | head -n 1)
libdir=${libdir%/pkgconfig}
export LD_LIBRARY_PATH=$libdir

# needs BINARY: the shared libraries it needs, one per line.
needs() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# The core needs libc alone (libpthread, libm, libdl where a toolchain splits
# them); the file exporter needs zlib.
other=$(needs "$libdir/libotelc.so" | grep -Ev '^lib(c|pthread|m|dl)\.so\.[0-9]+$' || true)
[ -z "$other" ] || fail "libotelc.so needs more than libc: $other"
needs "$libdir/libotelc_file.so" | grep -q '^libz\.so' || fail "libotelc_file.so does not need zlib"

# run_otlp BINARY: the OTLP exporter over http/protobuf and grpc, named in
# the environment only, to an address where nothing listens, with a spool:
# the record is kept in the spool (counted exported), which shows that the
# exporter and the transport were both linked and found.
run_otlp() {
    local p dir out
    for p in http/protobuf grpc; do
        dir=$tmp/spool.$(basename "$1").${p%%/*}
        mkdir -p "$dir"
        out=$(OTEL_LOGS_EXPORTER=otlp OTEL_TRACES_EXPORTER=none OTEL_EXPORTER_OTLP_PROTOCOL=$p \
              OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 OTELC_OTLP_SPOOL_DIR=$dir \
              "$1" 2>&1) || fail "$1 (otlp $p): $out"
        grep -q "logs produced=1 exported=1" <<<"$out" || fail "$1 (otlp $p): $out"
        ls "$dir"/*.logs.otlp >/dev/null 2>&1 || fail "$1 (otlp $p) left no spool file in $dir: $out"
    done
}

# run_pg BINARY: the PostgreSQL exporter, named in the environment only,
# with a database that is not there and a fallback file: the record waits
# in the file (counted exported), which shows the exporter linked and found.
run_pg() {
    local file=$tmp/fallback.$(basename "$1").jsonl out
    out=$(OTEL_LOGS_EXPORTER=postgres OTEL_TRACES_EXPORTER=none OTELC_PG_FALLBACK_FILE=$file \
          OTELC_PG_CONNINFO="host=$tmp/no-such-dir user=nobody password=TOPSECRET" "$1" 2>&1) ||
        fail "$1 (postgres): $out"
    grep -q "logs produced=1 exported=1" <<<"$out" || fail "$1 (postgres): $out"
    grep -q '"installed otelc works"' "$file" || fail "$1 left no fallback line in $file: $out"
    grep -q TOPSECRET <<<"$out" && fail "$1 showed the password: $out"
    return 0
}

# run_core BINARY: the console exporter, always in the core; "file" is not
# known to a program that did not link the file exporter, and it says so.
run_core() {
    local out err
    out=$(OTEL_LOGS_EXPORTER=console OTEL_TRACES_EXPORTER=none "$1" 2>&1) ||
        fail "$1 (console): $out"
    grep -q "logs produced=1 exported=1" <<<"$out" || fail "$1 (console): $out"
    grep -q "installed otelc works" <<<"$out" || fail "$1 printed no record: $out"
    err=$(OTEL_LOGS_EXPORTER=file OTEL_TRACES_EXPORTER=none "$1" 2>&1 >/dev/null) || true
    grep -q "no exporter 'file' is known to this program" <<<"$err" ||
        fail "$1 without the file exporter did not say so: $err"
}

# run_file BINARY: the file exporter, named in the environment only.
run_file() {
    local dir=$tmp/logs.$(basename "$1") out
    out=$(OTEL_LOGS_EXPORTER=file OTEL_TRACES_EXPORTER=none OTELC_FILE_DIR=$dir "$1" 2>&1) ||
        fail "$1 (file): $out"
    grep -q "logs produced=1 exported=1" <<<"$out" || fail "$1 (file): $out"
    grep -rqs '"installed otelc works"' "$dir" || fail "$1 wrote no record under $dir"
}

cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/consumer" >/dev/null
c=$tmp/consumer
needs "$c/core_shared" | grep -q 'libotelc_file' && fail "core_shared links the file exporter"
needs "$c/file_shared" | grep -q '^libotelc_file\.so' || fail "file_shared lost libotelc_file"
# static BINARY: otelc is inside it, not loaded.
static() { ! needs "$1" | grep -q 'libotelc' || fail "$1 is not linked statically"; }
static "$c/core_static"
static "$c/file_static"
run_core "$c/core_shared"
run_core "$c/core_static"
run_file "$c/file_shared"
run_file "$c/file_static"
echo "install: find_package(otelc COMPONENTS file): core and file exporter, shared and static"

# PostgreSQL, when it was built: libotelc_postgres needs libpq, the core not.
if [ -e "$libdir/libotelc_postgres.so" ]; then
    needs "$libdir/libotelc_postgres.so" | grep -q '^libpq\.so' ||
        fail "libotelc_postgres.so does not need libpq"
    [ -x "$c/pg_shared" ] || fail "find_package(otelc COMPONENTS postgres) found nothing"
    needs "$c/pg_shared" | grep -q '^libotelc_postgres\.so' || fail "pg_shared lost libotelc_postgres"
    static "$c/pg_static"
    run_pg "$c/pg_shared"
    run_pg "$c/pg_static"
    echo "install: find_package(otelc COMPONENTS postgres): shared and static"
fi

# OTLP, when its libraries were built: libotelc_otlp needs protobuf-c but
# neither libcurl nor gRPC, which only its transports need.
if [ -e "$libdir/libotelc_otlp_http.so" ] && [ -e "$libdir/libotelc_otlp_grpc.so" ]; then
    otlp=yes
    needs "$libdir/libotelc_otlp.so" | grep -q '^libprotobuf-c\.so' ||
        fail "libotelc_otlp.so does not need protobuf-c"
    needs "$libdir/libotelc_otlp.so" | grep -Eq '^lib(curl|grpc)' &&
        fail "libotelc_otlp.so needs a transport's dependency"
    needs "$libdir/libotelc_otlp_http.so" | grep -q '^libcurl' ||
        fail "libotelc_otlp_http.so does not need libcurl"
    needs "$libdir/libotelc_otlp_grpc.so" | grep -q '^libgrpc\.so' ||
        fail "libotelc_otlp_grpc.so does not need libgrpc"
    [ -x "$c/otlp_shared" ] || fail "find_package(otelc COMPONENTS otlp_http otlp_grpc) found nothing"
    for l in libotelc_otlp_http libotelc_otlp_grpc libotelc_otlp; do
        needs "$c/otlp_shared" | grep -q "^$l\.so" || fail "otlp_shared lost $l"
    done
    static "$c/otlp_static"
    run_otlp "$c/otlp_shared"
    run_otlp "$c/otlp_static"
    echo "install: find_package(otelc COMPONENTS otlp_http otlp_grpc): both transports, shared and static"
else
    otlp=no
fi

# run_auto BINARY: one traced call makes one span, shown by the console.
run_auto() {
    local out
    out=$(OTEL_TRACES_EXPORTER=console OTEL_LOGS_EXPORTER=none OTELC_CONSOLE_COLOR=0 "$1" 2>&1) ||
        fail "$1 (auto): $out"
    grep -q "automatic spans=1" <<<"$out" || fail "$1 (auto): $out"
    grep -q "traced_by_the_compiler" <<<"$out" || fail "$1 (auto) printed no span: $out"
}

# Automatic spans, when built: libotelc_auto needs the core and libc only.
if [ -e "$libdir/libotelc_auto.so" ]; then
    other=$(needs "$libdir/libotelc_auto.so" |
            grep -Ev '^lib(c|pthread|m|dl|otelc)\.so\.[0-9]+$' || true)
    [ -z "$other" ] || fail "libotelc_auto.so needs more than the core and libc: $other"
    [ -x "$c/auto_shared" ] || fail "find_package(otelc COMPONENTS auto) found nothing"
    needs "$c/auto_shared" | grep -q '^libotelc_auto\.so' || fail "auto_shared lost libotelc_auto"
    static "$c/auto_static"
    run_auto "$c/auto_shared"
    run_auto "$c/auto_static"
    echo "install: find_package(otelc COMPONENTS auto): shared and static"
fi

# run_wrapper BINARY NAME: one traced call makes one CLIENT span.
run_wrapper() {
    local out
    out=$(OTEL_TRACES_EXPORTER=console OTEL_LOGS_EXPORTER=none OTELC_CONSOLE_COLOR=0 "$1" 2>&1) ||
        fail "$1 ($2): $out"
    grep -q "spans exported=1" <<<"$out" || fail "$1 ($2): $out"
}

# The libpq and libcurl wrappers, when built: each library needs its
# dependency, the core needs neither.
for w in libpq:libpq curl:libcurl; do
    name=${w%%:*} dep=${w#*:}
    [ -e "$libdir/libotelc_$name.so" ] || continue
    needs "$libdir/libotelc_$name.so" | grep -q "^$dep\.so" ||
        fail "libotelc_$name.so does not need $dep"
    [ -x "$c/${name}_shared" ] || fail "find_package(otelc COMPONENTS $name) found nothing"
    needs "$c/${name}_shared" | grep -q "^libotelc_$name\.so" || fail "${name}_shared lost libotelc_$name"
    static "$c/${name}_static"
    run_wrapper "$c/${name}_shared" "$name"
    run_wrapper "$c/${name}_static" "$name"
    echo "install: find_package(otelc COMPONENTS $name): shared and static"
done

export PKG_CONFIG_PATH=$libdir/pkgconfig
# The .pc files name the prefix they were configured with: point ours here
# (in the files: --define-variable=prefix would move the prefix of every
# module, libpq's and libcurl's too, whose headers otelc's headers include).
sed -i "s|^prefix=.*|prefix=$tmp/prefix|" "$libdir"/pkgconfig/otelc*.pc
pc() { pkg-config "$@"; }
main=$src/tests/install/consumer/main.c
# shellcheck disable=SC2046
cc -std=c11 -o "$tmp/pc_core" "$main" $(pc --cflags --libs otelc)
# shellcheck disable=SC2046
cc -std=c11 -o "$tmp/pc_core_static" "$main" -static-libgcc \
   $(pc --cflags otelc) -Wl,-Bstatic $(pc --static --libs-only-l otelc | sed 's/-lpthread//') \
   -Wl,-Bdynamic -L"$libdir" -lpthread
# shellcheck disable=SC2046
cc -std=c11 -o "$tmp/pc_file" "$main" $(pc --cflags --libs otelc-file)
# shellcheck disable=SC2046
# (the "other" flags hold -lotelc_file, inside the -Wl that keeps it linked)
cc -std=c11 -o "$tmp/pc_file_static" "$main" $(pc --cflags otelc-file) \
   $(pc --static --libs-only-L otelc-file) -Wl,-Bstatic $(pc --static --libs-only-other otelc-file) \
   -lotelc -Wl,-Bdynamic \
   $(pc --static --libs-only-l otelc-file | sed 's/-lotelc_file//; s/-lotelc//g')
static "$tmp/pc_core_static"
static "$tmp/pc_file_static"
run_core "$tmp/pc_core"
run_core "$tmp/pc_core_static"
run_file "$tmp/pc_file"
run_file "$tmp/pc_file_static"
echo "install: pkg-config otelc and otelc-file: core and file exporter, shared and static"
if [ "$otlp" = yes ]; then
    # shellcheck disable=SC2046
    cc -std=c11 -o "$tmp/pc_otlp" "$main" $(pc --cflags --libs otelc-otlp-http otelc-otlp-grpc)
    run_otlp "$tmp/pc_otlp"
    echo "install: pkg-config otelc-otlp-http and otelc-otlp-grpc: both transports"
fi
if [ -e "$libdir/libotelc_postgres.so" ]; then
    # shellcheck disable=SC2046
    cc -std=c11 -o "$tmp/pc_pg" "$main" $(pc --cflags --libs otelc-postgres)
    run_pg "$tmp/pc_pg"
    echo "install: pkg-config otelc-postgres"
fi
if [ -e "$libdir/libotelc_auto.so" ]; then
    # shellcheck disable=SC2046
    cc -std=c11 -finstrument-functions -o "$tmp/pc_auto" "$src/tests/install/consumer/auto_main.c" \
       $(pc --cflags --libs otelc-auto)
    run_auto "$tmp/pc_auto"
    echo "install: pkg-config otelc-auto"
fi
for name in libpq curl; do
    [ -e "$libdir/libotelc_$name.so" ] || continue
    def=OTELC_CONSUMER_$(tr '[:lower:]' '[:upper:]' <<<"$name")
    # shellcheck disable=SC2046
    cc -std=c11 -D"$def" -o "$tmp/pc_$name" "$src/tests/install/consumer/wrappers_main.c" \
       $(pc --cflags --libs "otelc-$name")
    run_wrapper "$tmp/pc_$name" "$name"
    echo "install: pkg-config otelc-$name"
done
