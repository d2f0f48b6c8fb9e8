#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs Redis and builds FerretDB when missing,
# installs npm packages, builds, and runs vitest. The suite itself starts and stops its own
# Redis and FerretDB on free ports (test/support/global-setup.ts) unless REDIS_URL / MONGO_URL
# are given. Extra arguments go to vitest (e.g. scripts/test.sh test/gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci: exactly the lock file (it records every platform's optional packages, so npm 10 and 11
  # accept it on any machine).
  npm ci --no-audit --no-fund
fi
npm run --silent build
npx tsc -p tsconfig.test.json
# Formatter, linter and unused exports (npm run format fixes what can be fixed).
npm run --silent lint
exec npx vitest run "$@"
