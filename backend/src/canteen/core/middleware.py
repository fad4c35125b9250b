"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers bodies and breaks streaming)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canteen.core.errors import error_body
from canteen.core.logging import redact, request_id_var

log = logging.getLogger("canteen.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestContextMiddleware:
    """Request id (echoed or generated), access log, rate-limit headers, last-resort 500.

    Catching unhandled exceptions here, inside the request id context, means even an
    INTERNAL_ERROR response carries `X-Request-ID` and the error contract.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or str(uuid.uuid4())
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": None}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                rate = scope.get("state", {}).get("ratelimit")
                if rate is not None:
                    headers.append((b"x-ratelimit-remaining", str(rate[0]).encode()))
                    headers.append((b"x-ratelimit-reset", str(rate[1]).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error")
            if scope["type"] == "http" and status_holder["status"] is None:
                body = orjson.dumps(
                    error_body("INTERNAL_ERROR", "Something went wrong on our side")
                )
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send_wrapper({"type": "http.response.body", "body": body})
                status_holder["status"] = 500
        finally:
            if scope["type"] == "http":
                query = scope.get("query_string", b"").decode("latin-1")
                path = scope.get("path", "") + (f"?{query}" if query else "")
                log.info(
                    "%s %s %s",
                    scope.get("method"),
                    redact(path),
                    status_holder["status"],
                    extra={
                        "fields": {
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "status": status_holder["status"],
                        }
                    },
                )
            request_id_var.reset(token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            # Echo client ids as long as they are safe to put in headers and logs.
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None
