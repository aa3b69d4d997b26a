#!/usr/bin/env bash
# Install and start what the test suite needs beyond Python packages, where it is missing:
# Debian's chromium (browser tests), libical's introspection data (calendar checks),
# ical.js from npm, nginx (reverse-proxy tests), and a running PostgreSQL with the `test` database.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)  # reverse-proxy tests
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -n "$(ls /usr/lib/*/girepository-1.0/ICalGLib-3.0.typelib 2>/dev/null)" ] || missing+=(gir1.2-ical-3.0)
/usr/bin/python3 -c 'import gi' >/dev/null 2>&1 || missing+=(python3-gi)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} from Debian's packages..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

if [ -f tests/calendar_check/package-lock.json ] && [ ! -d tests/calendar_check/node_modules/ical.js ]; then
  echo "Installing ical.js for the calendar checks..."
  (cd tests/calendar_check && npm ci --no-audit --no-fund --silent)
fi

# PostgreSQL: start the local cluster if it is installed but stopped.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "Starting PostgreSQL $version..."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
if command -v psql >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  if ! psql -h 127.0.0.1 -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1; then
    createdb -h 127.0.0.1 -U postgres test 2>/dev/null || true
  fi
fi
