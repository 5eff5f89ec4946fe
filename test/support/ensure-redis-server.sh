#!/usr/bin/env bash
# Run before the tests (npm's pretest): the Redis store's tests start a real redis-server on a free loopback port.
# Installs Debian's package when it is missing and this machine can (root or sudo, apt-get); otherwise says how.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="unavailable"; fi
  fi
  if [ "$SUDO" != "unavailable" ]; then
    echo "redis-server is missing: installing Debian's redis-server package for the Redis store tests" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    exit 0
  fi
fi
echo "The Redis store tests need redis-server on the PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)." >&2
exit 1
