# One image for the API (`canteen serve`), the Celery workers (`canteen worker`) and beat
# (`canteen beat`), with the kitchen portal built in (served at /portal/).
# Cannot be built on the development machines (no Docker engine there): `make test` lints
# this file with hadolint and runs the same commands through scripts/prod-like.sh instead.
#   docker build -t canteen:$(git describe --always) .

# ---- the kitchen portal ---------------------------------------------------------------
FROM node:20.19-bookworm-slim AS portal
WORKDIR /src/portal
COPY portal/package.json portal/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY portal/ ./
# No backend in this stage: the build uses the checked-in openapi.json (kept current by
# the contract tests).
RUN npm run build

# ---- Python packages, exactly as uv.lock pins them -----------------------------------
FROM python:3.11.11-slim-bookworm AS python
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/canteen
WORKDIR /src
# Dependencies first (a layer that changes only with the lock), then our code.
COPY pyproject.toml uv.lock ./
COPY backend/pyproject.toml backend/
COPY client/pyproject.toml client/
COPY app/pyproject.toml app/
# The dev tools' manifests only, so uv sees the whole workspace; `--package canteen
# --no-dev` installs neither the Razorpay sandbox nor the test kit (not in the product).
COPY tools/razorpay-sandbox/pyproject.toml tools/razorpay-sandbox/
COPY tools/testkit/pyproject.toml tools/testkit/
RUN uv sync --frozen --no-dev --package canteen --no-install-workspace
COPY backend/ backend/
RUN uv sync --frozen --no-dev --package canteen --no-editable

# ---- the runtime image ---------------------------------------------------------------
FROM python:3.11.11-slim-bookworm
RUN groupadd --system --gid 10001 canteen \
 && useradd --system --uid 10001 --gid canteen --home-dir /var/lib/canteen --no-create-home canteen \
 && mkdir -p /var/lib/canteen /tmp/canteen-metrics \
 && chown canteen:canteen /var/lib/canteen /tmp/canteen-metrics
COPY --from=python /opt/canteen /opt/canteen
COPY --from=portal /src/portal/dist /opt/canteen-portal
ENV PATH=/opt/canteen/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CANTEEN_ENV=production \
    CANTEEN_HOST=0.0.0.0 \
    CANTEEN_PORT=8000 \
    CANTEEN_DATA_DIR=/var/lib/canteen \
    CANTEEN_PORTAL_DIST=/opt/canteen-portal
WORKDIR /var/lib/canteen
USER 10001:10001
EXPOSE 8000
# Liveness of the API process; the worker and beat services override it (compose, k8s).
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["canteen"]
CMD ["serve"]
