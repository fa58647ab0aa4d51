#!/bin/sh
# Installs the W3C check's npm packages (@opentelemetry/api, @opentelemetry/core) (exact versions from
# package-lock.json) into tests/w3c-js/node_modules when they are
# missing or older than package-lock.json. Quiet and idempotent: prints one line.
# Needs node and npm; when node is missing it installs Debian's nodejs and npm
# (as root).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "w3c-js: node/npm missing; run as root to install Debian's nodejs npm" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

stamp="$here/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ ! "$here/package-lock.json" -nt "$stamp" ]; then
    echo "w3c-js: node_modules up to date ($(node --version))"
    exit 0
fi
if ! log=$(cd "$here" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
    printf '%s\n' "$log" >&2
    echo "w3c-js: npm ci failed" >&2
    exit 1
fi
echo "w3c-js: installed node_modules from package-lock.json ($(node --version))"
