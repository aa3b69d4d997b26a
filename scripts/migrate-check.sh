#!/usr/bin/env bash
# Apply every migration to a fresh SQLite database and check the models need no new revision.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WEBINARS_INSTANCE="$tmp" DATABASE_URL="sqlite:///$tmp/check.db"
.venv/bin/flask --app webinars db upgrade
.venv/bin/flask --app webinars db check
