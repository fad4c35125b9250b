"""The GET ceiling (engineering.md, performance method): bare FastAPI returning
pre-encoded bytes. `bench/menu.py` starts it under the same uvicorn settings as the
real app, with the body and ETag of the real menu response.

  BENCH_BODY_FILE  file with the exact bytes of the real 200 response
  BENCH_ETAG       the real ETag
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response


def create_app() -> FastAPI:
    body = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()
    etag = os.environ["BENCH_ETAG"]
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/full")
    async def full() -> Response:
        return Response(body, media_type="application/json", headers=headers)

    @app.get("/not-modified")
    async def not_modified() -> Response:
        return Response(status_code=304, headers=headers)

    return app
