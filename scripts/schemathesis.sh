#!/usr/bin/env bash
# Property-based API test of the HTTP layer: schemathesis reads /openapi.json from a live
# gateway and fires generated requests at every operation with every check on (no 5xx,
# responses match their schemas, status codes and content types documented, auth enforced,
# invalid input rejected, 405 for undocumented methods, stateful sequences).
#
# It starts its own FerretDB (temp dir), its own Redis (the money-backed routes - gifts, PK battles,
# live shopping - need it) and one gateway on free ports, mints an admin token
# (admins pass user and admin routes) plus a service API key, runs
#
#   st run http://127.0.0.1:$PORT/openapi.json --checks all -H "Authorization: Bearer $TOKEN" -H "X-API-Key: $KEY"
#
# and stops everything on exit. Extra arguments go to `st run` (e.g. --max-examples 50 --seed 1).
# schemathesis is installed from PyPI into .venv-st/ on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
if [ ! -x .venv-st/bin/st ]; then
  python3 -m venv .venv-st
  .venv-st/bin/pip install --quiet "schemathesis==$ST_VERSION"
fi
[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build
bash scripts/deps.sh ferretdb redis

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkfifo "$work/ferret.fifo"
.tools/bin/ferretdb -listen 127.0.0.1:0 -data "$work/ferretdb" >"$work/ferret.fifo" 2>"$work/ferretdb.log" &
pids+=($!)
read -r ready mongo_url <"$work/ferret.fifo"
[ "$ready" = "ready" ] || { echo "schemathesis.sh: FerretDB did not start" >&2; exit 1; }

redis_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || { echo "schemathesis.sh: Redis did not start" >&2; cat "$work/redis.log" >&2; exit 1; }

export JWT_SECRET="schemathesis-secret-0123456789abcdef0123"
SERVICE_KEY="schemathesis-service-key"
PORT=0 HOST=127.0.0.1 NODE_ID=schemathesis MONGO_URL="$mongo_url" MONGO_DB=schemathesis REDIS_URL="redis://127.0.0.1:$redis_port" \
  SERVICE_API_KEYS="$SERVICE_KEY" DEV_PAYMENTS=true HTTP_RATE_LIMIT_PER_SEC=100000 HTTP_RATE_LIMIT_BURST=100000 LOG_LEVEL=info \
  node dist/src/main.js >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  port=$(node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) { try { const j = JSON.parse(l); if (j.msg === "listening") { console.log(j.port); break; } } catch {} }' "$work/gateway.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "schemathesis.sh: gateway did not start" >&2; cat "$work/gateway.log" >&2; exit 1; }
TOKEN=$(node --input-type=module -e '
import { SignJWT } from "jose";
const key = new TextEncoder().encode(process.env.JWT_SECRET);
console.log(await new SignJWT({ role: "admin" }).setProtectedHeader({ alg: "HS256" }).setSubject("schemathesis-admin").setExpirationTime("2h").sign(key));')

set +e
.venv-st/bin/st run "http://127.0.0.1:$port/openapi.json" --checks all \
  -H "Authorization: Bearer $TOKEN" -H "X-API-Key: $SERVICE_KEY" \
  --max-examples 25 --seed 20261122 --request-timeout 10 "$@"
status=$?
set -e
if grep -q '"level":50' "$work/gateway.log"; then
  echo "schemathesis.sh: the gateway logged errors:" >&2
  grep '"level":50' "$work/gateway.log" | head -20 >&2
  status=1
fi
exit $status
