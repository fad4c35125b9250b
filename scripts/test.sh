#!/usr/bin/env bash
# Runs every check and test: lint, types, then the suite on both backends.
#   embedded   SQLite, in-process key-value store, jobs and event bus
#   postgres   PostgreSQL + Redis + a real Celery worker (mandatory; never skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

PG_URL=${CANTEEN_TEST_PG:-postgresql://postgres@127.0.0.1:5432}
REDIS_URL=${CANTEEN_TEST_REDIS:-redis://127.0.0.1:6379}
.venv/bin/python - "$PG_URL" "$REDIS_URL" <<'PY'
import sys
import psycopg, redis
pg, rd = sys.argv[1], sys.argv[2]
try:
    psycopg.connect(pg + "/postgres", connect_timeout=5).close()
except Exception as exc:
    sys.exit(f"PostgreSQL is not reachable at {pg}: {exc}\nThe PostgreSQL run is mandatory; start it (see README) and run again.")
try:
    redis.Redis.from_url(rd, socket_connect_timeout=5).ping()
except Exception as exc:
    sys.exit(f"Redis is not reachable at {rd}: {exc}\nThe Redis run is mandatory; start it (see README) and run again.")
PY

echo "==> ruff"
.venv/bin/ruff check backend client app bench tools
.venv/bin/ruff format --check backend client app bench tools
echo "==> mypy"
.venv/bin/mypy backend/src client/src app/src tools/razorpay-sandbox/src tools/testkit/src bench
echo "==> import-linter (the backend's layers: [tool.importlinter] in pyproject.toml)"
.venv/bin/lint-imports
echo "==> deployment files (Dockerfile, compose, k8s, monitoring)"
deploy/lint.sh
echo "==> schema check of the GitHub workflow, Dependabot and issue forms (bundled schemas, offline)"
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/ci.yml
.venv/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
.venv/bin/check-jsonschema --builtin-schema vendor.github-issue-forms .github/ISSUE_TEMPLATE/bug_report.yml .github/ISSUE_TEMPLATE/feature_request.yml

echo "==> tests on the embedded default (SQLite, in-process)"
CANTEEN_TEST_BACKEND=embedded .venv/bin/pytest -p no:cacheprovider backend/tests client/tests "$@"
echo "==> tests on PostgreSQL + Redis + Celery"
CANTEEN_TEST_BACKEND=postgres .venv/bin/pytest -p no:cacheprovider backend/tests client/tests "$@"
echo "==> consumer app: state, SDK and Playwright end to end (starts its own backend)"
.venv/bin/pytest -p no:cacheprovider app/tests "$@"
echo "==> kitchen portal: vitest and Playwright end to end"
portal/scripts/test.sh
