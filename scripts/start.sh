#!/usr/bin/env bash
# `npm start`: the whole product on one machine, every feature live.
#   - Redis (Debian's redis-server, installed by scripts/deps.sh when missing) and a MongoDB-wire
#     database (FerretDB, SQLite files), both with their data under .data/, on free local ports,
#     started here and stopped on exit; REDIS_URL / MONGO_URL given from outside are used instead.
#   - The catalogue (gifts, coin packages, levels, ...) seeded: always into the local database; into
#     an outside MONGO_URL only when it has no catalogue yet (`npm run seed` overwrites on purpose).
#   - Development switches on unless set otherwise: DEV_PAYMENTS (fake coin top-ups) and DEV_TOKENS
#     (POST /api/dev/token, demo sign-in), DEMO (the live-room page at /demo/), and a development JWT
#     secret unless a key is given.
# Environment variables (see README) pass through. LIVEGATE_DATA_DIR (default .data) holds the local
# data; LIVEGATE_SKIP_BUILD=1 runs dist/ as it is (the test suite sets it: it has built already).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ]; then npm install --no-audit --no-fund; fi
[ "${LIVEGATE_SKIP_BUILD:-}" = "1" ] || npm run --silent build

say() { echo "start: $*" >&2; }

if [ -z "${JWT_SECRET:-}${JWT_PUBLIC_KEY:-}${JWT_JWKS_FILE:-}" ]; then
  export JWT_SECRET="livegate-development-secret-change-me-0123456789"
  say "JWT_SECRET not set; using the development secret (never in production)"
fi
export DEV_PAYMENTS="${DEV_PAYMENTS:-true}" DEV_TOKENS="${DEV_TOKENS:-true}" DEMO="${DEMO:-true}"
on() { [[ "${1,,}" =~ ^(1|true|yes)$ ]]; }
on "$DEV_PAYMENTS" && say "DEV_PAYMENTS on: coins:purchase / POST /api/coins/purchase credit coins without charging anyone (development only)"
on "$DEV_TOKENS" && say "DEV_TOKENS on: POST /api/dev/token {userId, name} signs a token for any user (development only)"
on "$DEMO" && say "DEMO on: the live-room demo page is served at /demo/"

data_root="${LIVEGATE_DATA_DIR:-$PWD/.data}"
ferret_pid="" redis_pid=""
cleanup() {
  for pid in $ferret_pid $redis_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $ferret_pid $redis_pid; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# A TCP port that was free a moment ago (redis-server cannot listen on port 0 and report it).
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

local_redis=0
if [ -z "${REDIS_URL:-}" ]; then
  bash scripts/deps.sh redis
  redis_dir="$data_root/redis"
  mkdir -p "$redis_dir"
  redis_port=$(free_port)
  # Append-only file, fsynced on every write: wallets, rooms and the write queue survive a restart of
  # `npm start`, and the gateway's money check (MONEY_DURABILITY=aof, docs/MONEY.md) passes.
  # setsid: Ctrl-C goes to the terminal's process group; the databases must outlive the gateway's
  # graceful shutdown (it flushes queued writes), so they get their own session and cleanup stops them.
  setsid redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" --appendonly yes --appendfsync always --save "" \
    --logfile "$redis_dir/redis.log" --daemonize no >/dev/null &
  redis_pid=$!
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ] && break
    kill -0 "$redis_pid" 2>/dev/null || { say "redis-server did not start (see $redis_dir/redis.log)"; exit 1; }
    sleep 0.1
  done
  [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ] || { say "redis-server not answering on $redis_port"; exit 1; }
  export REDIS_URL="redis://127.0.0.1:$redis_port"
  local_redis=1
  say "Redis (local) at $REDIS_URL, data in $redis_dir"
fi

local_mongo=0
if [ -z "${MONGO_URL:-}" ]; then
  bash scripts/deps.sh ferretdb
  ferret_dir="$data_root/ferretdb"
  mkdir -p "$ferret_dir"
  fifo=$(mktemp -u); mkfifo "$fifo"
  setsid .tools/bin/ferretdb -listen 127.0.0.1:0 -data "$ferret_dir" >"$fifo" &
  ferret_pid=$!
  read -r ready url <"$fifo"; rm -f "$fifo"
  [ "$ready" = "ready" ] || { say "FerretDB did not start"; exit 1; }
  export MONGO_URL="$url"
  local_mongo=1
  say "FerretDB (local database) at $MONGO_URL, data in $ferret_dir"
fi

if [ $local_mongo -eq 1 ]; then
  node dist/src/tools/seed.js >&2
else
  node dist/src/tools/seed.js --if-empty >&2
fi

# What is running, in one line (the URLs of outside services may carry passwords: not printed).
say "running: gateway + $([ $local_redis -eq 1 ] && echo 'local Redis' || echo 'REDIS_URL') + $([ $local_mongo -eq 1 ] && echo 'local FerretDB' || echo 'MONGO_URL')"

# PORT=0 ("any free port") is resolved here, so the URLs can be printed once the port answers.
[ "${PORT:-8080}" = "0" ] && PORT=$(free_port) && export PORT
port="${PORT:-8080}" host="${HOST:-0.0.0.0}"
case "$host" in 0.0.0.0 | "::") probe=127.0.0.1 shown=localhost ;; *) probe=$host shown=$host ;; esac

node dist/src/main.js &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw; code=$?; cleanup; exit $code' INT TERM
(
  until (exec 3<>"/dev/tcp/$probe/$port") 2>/dev/null; do kill -0 "$gw" 2>/dev/null || exit 0; sleep 0.2; done
  demo=""
  on "$DEMO" && demo="demo: http://$shown:$port/demo/  "
  say "ready. ${demo}API: http://$shown:$port/openapi.json  metrics: http://$shown:$port/metrics"
) &
wait $gw
