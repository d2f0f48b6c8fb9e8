#!/usr/bin/env bash
# The benchmark command from a fresh clone: redis-server if missing, npm packages, TypeScript build,
# then bench/run.ts (which builds the Go loadgen itself). Arguments go to bench/run.ts (--quick, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh redis ferretdb
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The lock file lacks entries for other platforms' optional packages, which npm ci refuses;
  # npm install resolves them (and leaves the lock file as it finds it on this platform).
  npm ci --no-audit --no-fund || { echo "bench: npm ci refused the lock file; using npm install" >&2; npm install --no-audit --no-fund; }
fi
npm run --silent build
exec node dist/bench/run.js "$@"
