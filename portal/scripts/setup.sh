#!/usr/bin/env bash
# Sets up the kitchen portal: Debian's Chromium for the browser tests (when missing), the npm
# packages pinned in package-lock.json, and the production build in portal/dist, which the
# backend serves at /portal/. Safe to run again: it reinstalls only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

# (a) Chromium for Playwright: the test tool's own browser download does not work here.
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    say "installing Debian's chromium (sudo)"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and this user cannot install it;" \
      "the browser tests need it (apt-get install chromium, or set CHROMIUM_PATH)" >&2
  fi
fi

# (b) npm packages, exactly as locked; from the local cache when it has them.
command -v node >/dev/null 2>&1 || { echo "error: Node.js 20.19 or newer is required" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { echo "error: Node.js $(node --version) is too old; 20.19 or newer is required" >&2; exit 1; }
stamp=node_modules/.canteen-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm packages (package-lock.json)"
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# (c) The build: OpenAPI contract → types → tsc → vite build (portal/dist).
say "building the portal (portal/dist)"
npm run --silent build
