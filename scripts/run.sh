#!/usr/bin/env bash
# Sets everything up and runs the whole system on the embedded default: SQLite file under
# ./var, in-process event bus and jobs, console SMS (codes are printed in this terminal and
# listed at /api/v1/dev/outbox), the local payment sandbox, and the demo canteen.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/canteen serve "$@"
