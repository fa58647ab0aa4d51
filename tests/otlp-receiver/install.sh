#!/bin/sh
# Installs the OTLP receiver's npm packages (exact versions from
# package-lock.json) into tests/otlp-receiver/node_modules when they are
# missing or older than package-lock.json (scripts/npm_install.sh).
exec sh "$(dirname "$0")/../../scripts/npm_install.sh" "$(dirname "$0")"
