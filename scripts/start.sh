#!/usr/bin/env bash
# Runs one gateway node on a fresh machine: single node, in-process bus, and a local
# MongoDB-wire database (FerretDB, SQLite files in .data/) started here and stopped on exit.
# Environment variables (see README) pass through; MONGO_URL given from outside is used as is.
# LIVEGATE_DATA_DIR (default .data) holds the local database files.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ]; then npm install --no-audit --no-fund; fi
# LIVEGATE_SKIP_BUILD=1 runs dist/ as it is (the test suite sets it: it has built already).
[ "${LIVEGATE_SKIP_BUILD:-}" = "1" ] || npm run --silent build

if [ -z "${JWT_SECRET:-}${JWT_PUBLIC_KEY:-}${JWT_JWKS_FILE:-}" ]; then
  export JWT_SECRET="livegate-development-secret-change-me-0123456789"
  echo "start: JWT_SECRET not set; using the development secret (never in production)" >&2
fi

ferret_pid=""
cleanup() { [ -n "$ferret_pid" ] && kill "$ferret_pid" 2>/dev/null || true; }
trap cleanup EXIT

if [ -z "${MONGO_URL:-}" ]; then
  bash scripts/deps.sh ferretdb
  data_dir="${LIVEGATE_DATA_DIR:-$PWD/.data}/ferretdb"
  mkdir -p "$data_dir"
  fifo=$(mktemp -u); mkfifo "$fifo"
  .tools/bin/ferretdb -listen 127.0.0.1:0 -data "$data_dir" >"$fifo" &
  ferret_pid=$!
  read -r ready url <"$fifo"; rm -f "$fifo"
  [ "$ready" = "ready" ] || { echo "start: FerretDB did not start" >&2; exit 1; }
  export MONGO_URL="$url"
  echo "start: FerretDB (local database) at $MONGO_URL, data in $data_dir" >&2
fi

node dist/src/main.js &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw; code=$?; cleanup; exit $code' INT TERM
wait $gw
