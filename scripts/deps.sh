#!/usr/bin/env bash
#
# deps.sh: installs the Debian packages that otelc needs to build and test,
# and only those that are missing. Safe to run again and again: when
# everything is there it touches nothing and needs no network.
#
# Usage: bash scripts/deps.sh
# Set OTELC_SKIP_DEPS=1 to skip it (an offline machine that has everything).
set -euo pipefail

# ---------------------------------------------------------------------------
# The packages. Each later issue appends what its exporter or tool needs to
# PACKAGES, with a comment saying who needs it.
# Node.js and npm (the OTLP tests' receiver) are installed by
# tests/otlp-receiver/install.sh only when the commands are missing: a
# machine may have them from elsewhere (NodeSource), whose nodejs package
# conflicts with Debian's npm.
# ---------------------------------------------------------------------------
PACKAGES=(
    build-essential # gcc, make, libc headers; gcc brings libasan, libubsan, libtsan
    cmake
    ninja-build     # faster builds; the scripts fall back to make without it
    pkg-config
    libcmocka-dev   # unit tests
    clang           # a second compiler for warnings and fuzzing
    zlib1g-dev      # the file exporter: gzip of rotated files; the otelc tool reads them
    libyaml-dev     # the config file (OTEL_CONFIG_FILE, otelc.yaml)
    nanopb libnanopb-dev # OTLP encoding: field numbers generated from proto/, pb_encode
    protobuf-c-compiler libprotobuf-c-dev # OTLP: export responses and spool files decoded
    libcurl4-openssl-dev # OTLP/HTTP transport (libotelc_otlp_http); the tests' receiver control
    libgrpc-dev          # OTLP/gRPC transport (libotelc_otlp_grpc): the gRPC C core
    libpq-dev            # the PostgreSQL exporter (libotelc_postgres)
    libmicrohttpd-dev    # examples/two_services: the risk service's HTTP server; the libcurl helper's tests
    postgresql           # its tests: a throwaway cluster (tests/pg/cluster.sh)
    # Tests only: independent readers of what otelc writes.
    jq                # the flat files, as users query them
    libjson-c-dev     # a JSON parser that is not ours, in the unit and fuzz tests
    python3           # Debian's, for the two below
    python3-protobuf  # OTLP/JSON files decoded by protobuf's own json_format
    protobuf-compiler # protoc: Python classes from proto/
    valgrind          # bench/instructions.sh: instructions per op under callgrind
)

if [[ "${OTELC_SKIP_DEPS:-0}" == "1" ]]; then
    echo "deps: skipped (OTELC_SKIP_DEPS=1)"
    exit 0
fi

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done

# The sanitizer runtimes come with gcc's own libgcc-N-dev on Debian 12. When
# gcc cannot find one, install the package of the gcc that is there.
# (gcc -print-file-name echoes the bare name back when it finds nothing.)
if command -v gcc >/dev/null 2>&1; then
    for lib in libasan.so libubsan.so libtsan.so; do
        if [[ "$(gcc -print-file-name="$lib")" != /* ]]; then
            missing+=("libgcc-$(gcc -dumpversion | cut -d. -f1)-dev")
            break
        fi
    done
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all present"
    exit 0
fi

# Root installs directly (CI, containers); anyone else goes through sudo.
sudo_cmd=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "deps: missing ${missing[*]}, and not root without sudo: install them by hand" >&2
        exit 1
    fi
    sudo_cmd=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
