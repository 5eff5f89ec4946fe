#!/usr/bin/env bash
# Run before the tests (npm's pretest): the Redis tests start a real redis-server on a free loopback port, the
# dashboard's test drives a headless chromium, and the RabbitMQ tests start a private rabbitmq-server. Installs
# Debian's packages when they are missing and this machine can (root or sudo, apt-get), saying what it installs;
# otherwise says how.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="unavailable"; fi
  fi
  if [ "$SUDO" != "unavailable" ]; then
    echo "Missing for the tests: ${missing[*]}. Installing Debian's package(s): ${missing[*]}" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    exit 0
  fi
fi
echo "The tests need ${missing[*]} on the PATH (Debian/Ubuntu: apt-get install ${missing[*]})." >&2
exit 1
