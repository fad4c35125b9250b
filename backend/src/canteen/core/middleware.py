"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers bodies and breaks streaming)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canteen.core.errors import error_body, error_response, field_error
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


class _BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit; never leaves the middleware."""


class BodySizeLimitMiddleware:
    """Refuse request bodies over a per-route limit with 413, before reading them.

    A declared `Content-Length` over the limit is answered at once, unread. A body that
    declares nothing (chunked) or more than it said is counted as it arrives and cut off
    at the limit: the application's next `receive` raises, and whatever the application
    then tries to answer is replaced by the 413. So no route, framework part or parser
    ever holds more than `limit` bytes of one request.

    `limits` are (path regex, bytes) pairs tried in order; the first match wins, else
    `default`. Matching is on the raw path, before routing, so it costs one regex scan.
    """

    def __init__(
        self, app: ASGIApp, *, default: int, limits: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.default = default
        self.limits = [(re.compile(pattern), size) for pattern, size in limits]

    def limit_for(self, path: str) -> int:
        for pattern, size in self.limits:
            if pattern.match(path):
                return size
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_too_large(send, limit)
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The application answered the cut-off body its own way (FastAPI turns
                # a failed body read into 400): the client gets the 413 instead.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _send_too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # _BodyTooLarge itself, or whatever the cut-off read broke further in.
            if not exceeded:
                raise
        if exceeded and not started:
            await _send_too_large(send, limit)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1").strip())
    return None


def _human_bytes(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


async def _send_too_large(send: Send, limit: int) -> None:
    body = orjson.dumps(
        error_body(
            "PAYLOAD_TOO_LARGE",
            f"The request body is over this route's limit of {_human_bytes(limit)}",
            [field_error("body", "too_large", limit_bytes=limit)],
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                # No "Connection: close": closing under a client that is still sending
                # resets the connection before it reads this answer. The server drops
                # the unread rest of the body (uvicorn discards it without buffering).
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """Headers every HTTP response carries (API, portal, media, docs).

    `frame-ancestors 'none'` is sent as a CSP of its own only where the response has no
    CSP yet: the portal's index.html sets its full policy (canteen.portal), which already
    says `frame-ancestors 'none'`, and a second header would only narrow it further.
    HSTS only in production: on a development machine it would pin http://127.0.0.1 to
    HTTPS in the browser for a year.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", b"frame-ancestors 'none'"),
            (b"referrer-policy", b"same-origin"),
        ]
        if hsts:
            self.headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _EnvelopeCors(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the error contract."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        # Starlette says "Disallowed CORS origin, method, headers".
        failed = bytes(response.body).decode().removeprefix("Disallowed CORS ").split(", ")
        refused = error_response(
            400,
            "CORS_NOT_ALLOWED",
            "This origin may not call the API from a browser with this method and headers",
            [field_error(part, "not_allowed") for part in failed],
        )
        for name, value in response.headers.items():
            if name.startswith("access-control-") or name == "vary":
                refused.headers[name] = value
        return refused


class ApiCorsMiddleware:
    """Starlette's CORSMiddleware (pure ASGI), for paths under `prefix` only.

    The API is called with bearer tokens, never cookies, so credentials stay off; the
    media files and the portal answer for themselves.
    """

    def __init__(self, app: ASGIApp, *, prefix: str, origins: Sequence[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = _EnvelopeCors(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Idempotency-Key",
                "X-Request-ID",
                "If-None-Match",
                "Last-Event-ID",
            ],
            expose_headers=[
                "ETag",
                "Retry-After",
                "X-Request-ID",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
