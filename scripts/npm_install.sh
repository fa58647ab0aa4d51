#!/bin/sh
# npm_install.sh DIR: installs the npm packages of DIR (the exact versions of
# its package-lock.json) into DIR/node_modules when they are missing or
# older than package-lock.json. Quiet and idempotent: prints one line,
# prefixed with DIR's name. Needs node and npm; when they are missing it
# installs Debian's nodejs and npm (as root). Used by tests/otlp-receiver
# and tests/w3c-js, whose install.sh call it.
set -eu
here=$(cd "$1" && pwd)
name=$(basename "$here")

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "$name: node/npm missing; run as root to install Debian's nodejs npm" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

stamp="$here/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ ! "$here/package-lock.json" -nt "$stamp" ]; then
    echo "$name: node_modules up to date ($(node --version))"
    exit 0
fi
if ! log=$(cd "$here" && npm ci --no-audit --no-fund --loglevel=error 2>&1); then
    printf '%s\n' "$log" >&2
    echo "$name: npm ci failed" >&2
    exit 1
fi
echo "$name: installed node_modules from package-lock.json ($(node --version))"
