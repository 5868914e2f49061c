#!/bin/sh
# Brings a fresh clone to a runnable state: Java and Maven for the local Kafka broker,
# PostgreSQL's server programs for the SQL sink tests, Chromium for the web UI's browser
# tests, and the npm dependencies (which include the Node 24 binary every npm script runs on).
# Safe to run repeatedly; it only installs what is missing or out of date.
set -e
cd "$(dirname "$0")/.."

need_apt=""
command -v java >/dev/null 2>&1 || need_apt="$need_apt openjdk-17-jre-headless"
command -v mvn >/dev/null 2>&1 || need_apt="$need_apt maven"
# Debian keeps the server programs off the PATH, under /usr/lib/postgresql/<version>/bin.
# Not needed when PG_URL points the tests at an existing server.
if [ -z "$PG_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt="$need_apt postgresql"
fi
# Debian's Chromium for the web UI's browser tests (driven by playwright-core, which never
# downloads a browser of its own). CHROMIUM_PATH points the tests at another build instead.
if [ -z "$CHROMIUM_PATH" ] && [ ! -x /usr/bin/chromium ]; then
  need_apt="$need_apt chromium"
fi
if [ -n "$need_apt" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing$need_apt" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_apt >/dev/null
  else
    echo "setup: please install$need_apt (needed to run a local Kafka broker, PostgreSQL and the browser tests)" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (Node 24 comes with them)" >&2
  # npm ci rejects the lockfile npm 11 writes for packages with per-platform optional
  # dependencies (it leaves the other platforms out), so install from it instead.
  npm install --no-audit --no-fund --loglevel=error
fi
