#!/bin/sh
# Brings a fresh clone to a runnable state. Always: the npm dependencies, which include the
# Node 24 binary every npm script runs on. On request, what some scripts need besides:
#   kafka      Java and Maven, to resolve and run the local Kafka broker (demo, tests, bench)
#   postgres   PostgreSQL's server programs, for the SQL sink tests and benchmarks
#   chromium   Debian's Chromium, for the web UI's browser tests (playwright-core drives it and
#              never downloads a browser of its own; CHROMIUM_PATH points at another build)
# e.g. `sh scripts/setup.sh kafka postgres`. The demo uses embedded SQLite, so it asks for
# `kafka` only. Safe to run repeatedly; it installs only what is missing or out of date.
set -e
cd "$(dirname "$0")/.."

need_apt=""
for part in "$@"; do
  case "$part" in
    kafka)
      # A JDK, not only a JRE: the tests compile a small reader that uses Kafka's own consumer.
      command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 || need_apt="$need_apt openjdk-17-jdk-headless"
      command -v mvn >/dev/null 2>&1 || need_apt="$need_apt maven"
      ;;
    postgres)
      # Debian keeps the server programs off the PATH, under /usr/lib/postgresql/<version>/bin.
      # Not needed when PG_URL points at an existing server.
      if [ -z "$PG_URL" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        need_apt="$need_apt postgresql"
      fi
      ;;
    chromium)
      if [ -z "$CHROMIUM_PATH" ] && [ ! -x /usr/bin/chromium ]; then
        need_apt="$need_apt chromium"
      fi
      ;;
    *)
      echo "setup: unknown part '$part' (known: kafka, postgres, chromium)" >&2
      exit 2
      ;;
  esac
done
if [ -n "$need_apt" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing$need_apt" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_apt >/dev/null
  else
    echo "setup: please install$need_apt" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (Node 24 comes with them)" >&2
  # npm ci installs exactly the lockfile and never rewrites it, so a fresh clone stays clean.
  # The lockfile lists the optional per-platform packages of every platform (Biome's
  # binaries); a lockfile missing some makes `npm install` add them, and `npm ci` refuse it.
  npm ci --no-audit --no-fund --loglevel=error
fi
