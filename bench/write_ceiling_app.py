"""The write ceiling (engineering.md, performance method): bare FastAPI doing one asyncpg
INSERT per request and answering pre-encoded bytes. `bench/run.py` starts it under the
same uvicorn settings (and worker count) as the real app, against the same database.

  BENCH_DATABASE_URL  postgresql://... (the benchmark's database)
  BENCH_POOL_SIZE     connections per worker (default 10, the app's pool_size)

`POST /insert` stores the request body (JSON) in `bench_ceiling` and answers 201 with a
fixed body; it reads the body, as the app must, but validates nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from starlette.responses import Response

DDL = """
CREATE TABLE IF NOT EXISTS bench_ceiling (
    id uuid PRIMARY KEY,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = "INSERT INTO bench_ceiling (id, body) VALUES ($1, $2::jsonb)"
ANSWER = b'{"data":{"created":true}}'


def create_app() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(url, min_size=size, max_size=size)
        async with pool.acquire() as conn:
            await conn.execute(DDL)
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.post("/insert")
    async def insert(request: Request) -> Response:
        body = await request.body()
        await state["pool"].execute(INSERT, uuid.uuid4(), body.decode())
        return Response(ANSWER, status_code=201, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b"ok")

    return app
