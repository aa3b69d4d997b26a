#!/usr/bin/env bash
# What the project needs from the system, beyond its Python packages: it lists each need with its
# state, says what it is about to do, then installs only what is missing and starts only what is
# stopped. DRY_RUN=1 lists and stops there.
#
# Adding a need is one line in `needs` below:
#   deb PACKAGE ['CHECK'] a Debian package, present when the shell CHECK succeeds (without one: when
#                         dpkg lists it as installed)
#   node_packages DIR     the node packages locked in DIR/package-lock.json (installed with `npm ci`)
#   running NAME          a local server that must be running (postgresql, redis)
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
REDIS_PORT="${REDIS_PORT:-6379}"

needs() {
  # A check looks for what the package provides rather than asking dpkg, so a tool that came from
  # elsewhere (npm bundled with NodeSource's nodejs, a distribution's chromium) counts as present.
  deb python3-venv '"${PYTHON:-python3}" -c "import ensurepip, venv"'       # make install's .venv
  deb chromium 'command -v chromium'                                        # browser tests
  deb gir1.2-ical-3.0 'ls /usr/lib/*/girepository-1.0/ICalGLib-3.0.typelib'  # libical checks
  deb python3-gi '/usr/bin/python3 -c "import gi"'                           # libical checks
  deb nodejs 'command -v node'                                              # ical.js checks
  deb npm 'command -v npm'
  deb postgresql 'command -v pg_ctlcluster || ! postgres_is_local'
  deb redis-server 'command -v redis-server'
  deb nginx-light 'command -v nginx || [ -x /usr/sbin/nginx ]'                # reverse-proxy tests
  deb pgbouncer '[ -x /usr/sbin/pgbouncer ]'                                  # transaction pooling run
  node_packages tests/calendar_check                                        # ical.js, node-ical
  node_packages tests/e2e                                                   # axe-core (accessibility checks)
  running postgresql
  running redis
}

# --- how each kind of need is checked and met --------------------------------------------------------

missing_debs=()
missing_npm=()
stopped_services=()

say() { printf '  %-9s %s\n' "$1" "$2"; }

deb() {
  local package=$1
  local check=${2:-"dpkg-query -W -f='\${Status}' $package | grep -q 'install ok installed'"}
  if (eval "$check") >/dev/null 2>&1; then
    say ok "$package (Debian package)"
  else
    say missing "$package (Debian package): will install"
    missing_debs+=("$package")
  fi
}

node_packages() {
  local dir=$1
  # `npm ls` fails when a package of the lock file is missing or at another version.
  if [ -d "$dir/node_modules" ] && command -v npm >/dev/null 2>&1 \
    && npm ls --prefix "$dir" --depth=0 >/dev/null 2>&1; then
    say ok "node packages of $dir"
  else
    say missing "node packages of $dir: will run npm ci"
    missing_npm+=("$dir")
  fi
}

postgres_is_local() {
  [[ $PG_URL =~ @(127\.0\.0\.1|localhost)(:5432)?/ ]]
}

service_running() {
  case $1 in
    postgresql) pg_isready -q -h 127.0.0.1 -p 5432 ;;
    redis) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG ;;
  esac
}

running() {
  local name=$1
  if [ "$name" = postgresql ] && ! postgres_is_local; then
    say skip "postgresql: the tests use ${PG_URL#*@}"
  elif service_running "$name" 2>/dev/null; then
    say running "$name"
  else
    say stopped "$name: will start"
    stopped_services+=("$name")
  fi
}

start_service() {
  case $1 in
    postgresql)
      local version
      version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
      [ -n "$version" ] || { echo "PostgreSQL has no cluster in /etc/postgresql" >&2; return 1; }
      pg_ctlcluster --skip-systemctl-redirect "$version" main start
      ;;
    redis)
      if [ -x /etc/init.d/redis-server ]; then
        /etc/init.d/redis-server start
      else
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT"
      fi
      ;;
  esac
  for _ in $(seq 1 30); do
    service_running "$1" && return 0
    sleep 1
  done
  echo "$1 did not start within 30 s" >&2
  return 1
}

# --- list, then act ----------------------------------------------------------------------------------

echo "System dependencies:"
needs

if [ "${DRY_RUN:-0}" != 0 ]; then
  echo "Dry run: nothing installed or started."
  exit 0
fi

if [ ${#missing_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing from Debian: ${missing_debs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null
  else
    echo "Missing: ${missing_debs[*]}. Install them with: sudo apt-get install ${missing_debs[*]}" >&2
  fi
fi

for dir in "${missing_npm[@]}"; do
  if command -v npm >/dev/null 2>&1; then
    echo "Installing the node packages of $dir (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  else
    echo "Cannot install the node packages of $dir: npm is missing" >&2
  fi
done

for name in "${stopped_services[@]}"; do
  echo "Starting $name"
  start_service "$name" || echo "Could not start $name; the tests that need it will skip (fail under CI=true)" >&2
done

# The suite works in a database named by TEST_DATABASE_URL (`test` by default) on the local server.
if postgres_is_local && service_running postgresql 2>/dev/null; then
  database=${PG_URL##*/}
  database=${database%%\?*}
  if ! psql -h 127.0.0.1 -U postgres -d "$database" -Atqc 'select 1' >/dev/null 2>&1; then
    echo "Creating the PostgreSQL database $database"
    createdb -h 127.0.0.1 -U postgres "$database" \
      || echo "Could not create $database: PostgreSQL must let postgres in from 127.0.0.1 (pg_hba.conf)" >&2
  fi
fi
