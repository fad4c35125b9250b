#!/usr/bin/env bash
# Sets everything up and runs the whole system on the embedded default: the API and the
# kitchen portal on :8000 (SQLite under ./var, in-process event bus and jobs, console SMS
# whose codes print here and at /api/v1/dev/outbox, the payment sandbox, the demo canteen),
# and the consumer app in web mode on :8550.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

API_PORT=${CANTEEN_PORT:-8000}
APP_PORT=${CANTEEN_APP_PORT:-8550}
.venv/bin/canteen serve --port "$API_PORT" "$@" &
api=$!
trap 'kill $api ${app:-} 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 120); do
  curl -fs "http://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$api" 2>/dev/null || exit 1
  sleep 0.5
done
.venv/bin/canteen-app --web --port "$APP_PORT" --api "http://127.0.0.1:$API_PORT/api/v1" &
app=$!
cat <<MSG

  Canteen is running
    API and docs     http://127.0.0.1:$API_PORT/docs
    Kitchen portal   http://127.0.0.1:$API_PORT/portal/   (admin +919000000001 / canteen-admin)
    Student app      http://127.0.0.1:$APP_PORT/          (sign in with any phone; the code prints here)

  Log lines below: time, level, request id, message (CANTEEN_LOG_FORMAT=json for JSON lines)

MSG
wait -n "$api" "$app"
