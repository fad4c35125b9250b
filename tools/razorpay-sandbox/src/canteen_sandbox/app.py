"""The sandbox as an ASGI app: Razorpay's API (Basic auth), the hosted checkout and the
JSON twin of it for programs and tests.

Not a security boundary: `/checkout/*` and `/sandbox/*` need no credentials, like the
test-mode controls they stand in for. Run it only on development machines.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from canteen_sandbox.entities import JsonDict, SandboxError, invalid, json_body
from canteen_sandbox.pages import (
    checkout_page,
    page,
    redirect_params,
    result_page,
    safe_callback,
    with_query,
)
from canteen_sandbox.sandbox import RazorpaySandbox

Authenticate = Callable[[Request], None]


def create_sandbox_app(
    *,
    key_id: str,
    key_secret: str,
    webhook_secret: str,
    webhook_url: str | None,
    public_url: str,
    account_id: str | None = None,
    webhook_max_attempts: int = 6,
    webhook_retry_delay: float = 1.0,
    webhook_timeout: float = 5.0,
    refund_processing_delay: float = 0.5,
) -> FastAPI:
    sandbox = RazorpaySandbox(
        key_id=key_id,
        key_secret=key_secret,
        webhook_secret=webhook_secret,
        webhook_url=webhook_url,
        public_url=public_url,
        account_id=account_id,
        webhook_max_attempts=webhook_max_attempts,
        webhook_retry_delay=webhook_retry_delay,
        webhook_timeout=webhook_timeout,
        refund_processing_delay=refund_processing_delay,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    app = FastAPI(
        title="Razorpay sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox

    @app.exception_handler(SandboxError)
    async def sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Razorpay answers unknown URLs with its own error body (sandbox: 400 for all).
        error = SandboxError(400, "The requested URL was not found on the server.")
        return JSONResponse(error.body, status_code=error.status)

    @app.get("/")
    async def index() -> JsonDict:
        return {
            "service": "razorpay-sandbox",
            "key_id": key_id,
            "public_url": sandbox.public_url,
            "webhook_url": sandbox.webhook_url,
        }

    _api_routes(app, sandbox, _authenticator(key_id, key_secret))
    _checkout_routes(app, sandbox)
    _test_routes(app, sandbox)
    return app


def basic_auth(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _authenticator(key_id: str, key_secret: str) -> Authenticate:
    def authenticate(request: Request) -> None:
        auth = basic_auth(request.headers.get("authorization"))
        if auth is None or not (
            secrets.compare_digest(auth[0].encode(), key_id.encode())
            and secrets.compare_digest(auth[1].encode(), key_secret.encode())
        ):
            raise SandboxError(401, "Authentication failed")

    return authenticate


def _api_routes(app: FastAPI, sandbox: RazorpaySandbox, authenticate: Authenticate) -> None:
    """Razorpay's API, as the official SDK calls it (Basic auth)."""

    @app.post("/v1/orders")
    async def create_order(request: Request) -> JsonDict:
        authenticate(request)
        return sandbox.create_order(json_body(await request.body()))

    @app.get("/v1/orders/{order_id}")
    async def fetch_order(order_id: str, request: Request) -> JsonDict:
        authenticate(request)
        return sandbox.fetch_order(order_id)

    @app.get("/v1/orders/{order_id}/payments")
    async def order_payments(order_id: str, request: Request) -> JsonDict:
        authenticate(request)
        return sandbox.fetch_order_payments(order_id)

    @app.get("/v1/payments/{payment_id}")
    async def fetch_payment(payment_id: str, request: Request) -> JsonDict:
        authenticate(request)
        return sandbox.fetch_payment(payment_id)

    @app.post("/v1/payments/{payment_id}/refund")
    async def refund(payment_id: str, request: Request) -> JsonDict:
        authenticate(request)
        key = request.headers.get("x-refund-idempotency")
        return sandbox.create_refund(payment_id, await request.body(), key)

    @app.get("/v1/refunds/{refund_id}")
    async def fetch_refund(refund_id: str, request: Request) -> JsonDict:
        authenticate(request)
        return sandbox.fetch_refund(refund_id)


def _checkout_routes(app: FastAPI, sandbox: RazorpaySandbox) -> None:
    """The hosted checkout page testers pay on."""

    @app.get("/checkout/{order_id}")
    async def checkout(order_id: str, callback_url: str | None = None) -> HTMLResponse:
        order = sandbox.order(order_id)
        if order is None:
            return page("Unknown order", "<h1>Unknown order</h1><p>No such order.</p>", 404)
        try:
            callback = safe_callback(callback_url)
        except SandboxError as exc:
            return page("Bad callback URL", f"<h1>Bad callback URL</h1><p>{exc}</p>", 400)
        return checkout_page(order, callback)

    @app.post("/checkout/{order_id}/complete")
    async def complete(order_id: str, request: Request) -> Response:
        form = await request.form()
        outcome = form.get("outcome")
        callback_field = form.get("callback_url")
        try:
            callback = safe_callback(callback_field if isinstance(callback_field, str) else None)
            result = sandbox.pay(order_id, outcome if isinstance(outcome, str) else "")
        except SandboxError as exc:
            message = html.escape(str(exc))
            return page(
                "Payment not possible", f"<h1>Payment not possible</h1><p>{message}</p>", 400
            )
        if callback is None:
            return result_page(result)
        return RedirectResponse(with_query(callback, redirect_params(result)), status_code=303)


def _test_routes(app: FastAPI, sandbox: RazorpaySandbox) -> None:
    """The JSON twin of the checkout, and late settlement (programs, tests)."""

    @app.post("/sandbox/pay")
    async def sandbox_pay(request: Request) -> JsonDict:
        body = json_body(await request.body())
        if not isinstance(body, dict) or not isinstance(body.get("order_id"), str):
            raise invalid("order_id is required", "order_id")
        return sandbox.pay(body["order_id"], str(body.get("outcome")))

    @app.post("/sandbox/payments/{payment_id}/settle")
    async def sandbox_settle(payment_id: str, request: Request) -> JsonDict:
        body = json_body(await request.body())
        outcome = body.get("outcome") if isinstance(body, dict) else None
        return sandbox.settle(payment_id, str(outcome))
