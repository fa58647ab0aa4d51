#!/usr/bin/env bash
#
# demo.sh: builds otelc (Release, into ./build) and runs the trading demo.
# Arguments are passed to the demo; OTELC_STATS=1 makes it print the SDK's
# produced/exported/dropped summary at shutdown.
#
# Usage: bash scripts/demo.sh [demo arguments...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

# Ninja when it is there. A build directory keeps the generator it was
# configured with, so only a fresh one is given -G.
generator=()
if [[ ! -f build/CMakeCache.txt ]] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
fi

cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2

OTELC_STATS=1 exec ./build/examples/trading_demo "$@"
