#!/usr/bin/env bash
# run.sh BUILD_DIR SOURCE_DIR: installs the build into a temporary prefix,
# then builds and runs a consumer with find_package(otelc) (shared and
# static) and with pkg-config, as a user's project would.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer/consumer" | grep -q "logs produced=1 exported=1"
"$tmp/consumer/consumer_static" | grep -q "logs produced=1 exported=1"
echo "install: find_package(otelc) works (shared and static)"

libdir=$(ls -d "$tmp/prefix"/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH=$libdir
# The .pc file names the prefix it was configured with: point it here.
flags=$(pkg-config --define-variable=prefix="$tmp/prefix" --cflags --libs otelc)
# shellcheck disable=SC2086
cc -std=c11 -o "$tmp/pc_consumer" "$src/tests/install/consumer/main.c" $flags
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/pc_consumer" | grep -q "logs produced=1 exported=1"
echo "install: pkg-config otelc works"
