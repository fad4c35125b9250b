"""One error contract for every route and for the framework itself.

Every failure leaves the API as `{"error": {"code", "message", "details"}}` with the
codes of design §11.2. Domain code raises `AppError` (or a subclass); the handlers
below translate framework errors (404, 405, bad JSON, validation) into the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from canteen.core.responses import ORJSONResponse

log = logging.getLogger("canteen.errors")


class AppError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    message = "The request could not be processed"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details or []
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(AppError):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "The request is not valid"


class TokenExpired(AppError):
    status_code = 401
    code = "TOKEN_EXPIRED"
    message = "The access token has expired"


class InvalidToken(AppError):
    status_code = 401
    code = "INVALID_TOKEN"
    message = "The token is not valid"


class InvalidCredentials(AppError):
    status_code = 401
    code = "INVALID_CREDENTIALS"
    message = "The phone number or password is wrong"


class InsufficientRole(AppError):
    status_code = 403
    code = "INSUFFICIENT_ROLE"
    message = "Your account is not allowed to do this"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Not found"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "The request conflicts with the current state"


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests; try again later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            message or f"Too many requests; try again in {retry_after} seconds",
            details=[{"retry_after": retry_after}],
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "A service the request needs is unavailable"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int = 5,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, details=details, headers={"Retry-After": str(retry_after)})


def field_error(field: str, issue: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    """One entry of an error's `details`: which field, what is wrong with it, and any
    figures the client needs (the current status, the attempts left, the valid windows).

    Every domain builds its field problems with this, so the shape stays the same
    everywhere: `{"field", "issue", "message"?, ...extra}`.
    """
    entry: dict[str, Any] = {"field": field, "issue": issue}
    if message is not None:
        entry["message"] = message
    entry.update(extra)
    return entry


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> ORJSONResponse:
    return ORJSONResponse(error_body(code, message, details), status_code=status, headers=headers)


_HTTP_CODES = {
    400: ("BAD_REQUEST", "The request could not be processed"),
    401: ("INVALID_TOKEN", "Authentication is required"),
    403: ("INSUFFICIENT_ROLE", "Your account is not allowed to do this"),
    404: ("NOT_FOUND", "No such resource"),
    405: ("METHOD_NOT_ALLOWED", "This method is not allowed on this resource"),
    413: ("PAYLOAD_TOO_LARGE", "The request body is too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "The request body has an unsupported media type"),
}


def _field_path(loc: tuple[Any, ...]) -> str:
    # ("body", "items", 0, "quantity") -> "items.0.quantity"; the source stays implicit
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


async def _app_error(_: Request, exc: Exception) -> ORJSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> ORJSONResponse:
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, Any]] = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return error_response(
                400,
                "VALIDATION_ERROR",
                "The request body is not valid JSON",
                [field_error("body", "json_invalid", str(err.get("msg")))],
            )
        details.append(
            field_error(
                _field_path(tuple(err.get("loc", ()))),
                err.get("type", "invalid"),
                err.get("msg", "Invalid value"),
            )
        )
    return error_response(400, "VALIDATION_ERROR", "The request is not valid", details)


# Redis (key-value store, rate limits, idempotency keys) and the job queue on it: while
# they are unreachable the request could not be done, and trying again shortly may work.
# Jobs are published on the same Redis client library (canteen.core.celery_queue).
_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


async def _unavailable(_: Request, exc: Exception) -> ORJSONResponse:
    log.warning("redis unreachable: %s: %s", type(exc).__name__, exc)
    err = ServiceUnavailable(
        "A service this request needs is unreachable; try again in a few seconds",
        details=[{"service": "redis", "issue": "unreachable"}],
    )
    return await _app_error(_, err)


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's 405 names only the first route on the path; the path may have several
    # (GET and PATCH /admin/config are two routes), and Allow must list them all.
    probe = {**request.scope, "method": ""}
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(probe)
        if match != Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> ORJSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "The request failed"))
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
        return error_response(405, code, message, headers=headers)
    return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for exc_type in _UNAVAILABLE:
        app.add_exception_handler(exc_type, _unavailable)
    # Unhandled exceptions are answered by RequestContextMiddleware, inside the request
    # id context, so a 500 still carries X-Request-ID.
