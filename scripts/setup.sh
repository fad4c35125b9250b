#!/usr/bin/env bash
# Installs everything the project needs into the repository: .tools (uv), .venv (Python
# packages from uv.lock). Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ ! -x .tools/bin/uv ] || ! .tools/bin/uv --version | grep -q "$UV_VERSION"; then
  echo "==> installing uv $UV_VERSION into .tools"
  "$PYTHON" -m venv .tools
  .tools/bin/pip install --quiet "uv==$UV_VERSION"
fi

echo "==> installing Python packages into .venv (uv.lock)"
# Never download an interpreter: use the machine's Python 3.11.
# Bytecode compiled now, not at each start: with PYTHONDONTWRITEBYTECODE set (these
# machines, most container images) no process ever writes it, so every API, worker and
# test process compiled fastapi, sqlalchemy, pydantic, alembic and celery from source
# (~7 of a cold start's 9 s on a busy 2-core machine; docs/architecture.md, "Cold start").
UV_PYTHON_DOWNLOADS=never .tools/bin/uv sync --frozen --python "$PYTHON" --quiet --compile-bytecode
# Our own packages (the workspace members, the dev tools in tools/ included: uv sync
# installs them with the dev group) are editable, outside site-packages: compile them too.
.venv/bin/python -m compileall -q -j 0 backend/src client/src app/src tools/*/src >/dev/null

# nginx (the load balancer of scripts/prod-like.sh and its test) and openssl (its
# certificate), from Debian, only when missing.
missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> installing Debian's$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "==> installing Debian's$missing (sudo)"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "warning:$missing missing and this user cannot install it; scripts/prod-like.sh" \
      "and its test need it (apt-get install$missing)" >&2
  fi
fi

echo "==> kitchen portal (npm packages, Chromium for its browser tests, build)"
portal/scripts/setup.sh
