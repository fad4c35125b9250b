#!/usr/bin/env bash
# Runs the kitchen portal's tests: Vitest (features, API client, live feed), then the
# Playwright end-to-end suite in Debian's Chromium against a real backend that the suite
# starts itself (`canteen serve` on a free port with a fresh data directory).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || { echo "error: run portal/scripts/setup.sh first" >&2; exit 1; }

# The e2e suite tests the build: rebuild when any source is newer than it.
if [ ! -f dist/index.html ] ||
  [ -n "$(find src index.html openapi.json public vite.config.ts -newer dist/index.html -print -quit 2>/dev/null)" ]; then
  echo "==> the build is older than the sources: rebuilding"
  npm run --silent build
fi

echo "==> vitest"
npm test --silent

echo "==> playwright (e2e)"
npm run --silent e2e
