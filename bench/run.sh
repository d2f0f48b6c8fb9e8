#!/usr/bin/env bash
# The benchmark command from a fresh clone: redis-server if missing, npm packages, TypeScript build,
# then bench/run.ts (which builds the Go loadgen itself). Arguments go to bench/run.ts (--quick, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh redis
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
exec node dist/bench/run.js "$@"
