#!/bin/sh
# Installs the W3C check's npm packages (@opentelemetry/api,
# @opentelemetry/core; exact versions from package-lock.json) into
# tests/w3c-js/node_modules when they are missing or older than
# package-lock.json (scripts/npm_install.sh).
exec sh "$(dirname "$0")/../../scripts/npm_install.sh" "$(dirname "$0")"
