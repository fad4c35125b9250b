"""Razorpay adapter over the official SDK (razorpay 2.0.1, blocking; run in worker threads)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

import razorpay
import razorpay.errors
import requests

from canteen.payments.gateway import (
    GatewayBadRequest,
    GatewayError,
    GatewayOrder,
    GatewayPayment,
    GatewayRefund,
    payment_signature,
    signatures_match,
    webhook_signature,
)

_T = TypeVar("_T")

# The SDK formats ids straight into the URL path. Payment ids reach us from clients
# (checkout callbacks), so refuse anything that could steer the request elsewhere.
_ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _check_id(kind: str, value: str) -> str:
    if not _ID.fullmatch(value):
        raise GatewayBadRequest(f"razorpay: invalid {kind} id {value!r}", code=None)
    return value


def _timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _order(data: Mapping[str, Any]) -> GatewayOrder:
    return GatewayOrder(
        id=str(data["id"]),
        amount=int(data["amount"]),
        currency=str(data["currency"]),
        receipt=data.get("receipt"),
        status=str(data["status"]),
        amount_paid=int(data.get("amount_paid") or 0),
        attempts=int(data.get("attempts") or 0),
        created_at=_timestamp(data["created_at"]),
    )


def _payment(data: Mapping[str, Any]) -> GatewayPayment:
    return GatewayPayment(
        id=str(data["id"]),
        order_id=data.get("order_id"),
        amount=int(data["amount"]),
        currency=str(data["currency"]),
        status=str(data["status"]),
        method=data.get("method"),
        captured=bool(data.get("captured")),
        error_code=data.get("error_code"),
        error_description=data.get("error_description"),
        created_at=_timestamp(data["created_at"]),
        amount_refunded=int(data.get("amount_refunded") or 0),
    )


def _refund(data: Mapping[str, Any]) -> GatewayRefund:
    return GatewayRefund(
        id=str(data["id"]),
        payment_id=str(data["payment_id"]),
        amount=int(data["amount"]),
        status=str(data["status"]),
        created_at=_timestamp(data["created_at"]),
    )


class _SdkClient(razorpay.Client):  # type: ignore[misc]
    """The SDK's client with its own version read once. The SDK reads it from the package's
    metadata on disk (a listing of site-packages and a file read) for the User-Agent of
    every request: about 1 ms of CPU per gateway call (issue 20). Same header."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._version: str = super()._get_version()

    def _get_version(self) -> str:
        return self._version


class RazorpayGateway:
    name = "razorpay"

    def __init__(
        self,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        checkout_base_url: str | None = None,
    ) -> None:
        if not key_id or not key_secret or not webhook_secret:
            raise ValueError("key_id, key_secret and webhook_secret are required")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.key_id = key_id
        self._key_secret = key_secret
        self._webhook_secret = webhook_secret
        # The SDK has no default timeout: a hung request would pin a worker thread forever.
        self._timeout = timeout
        self._checkout_base_url = checkout_base_url.rstrip("/") if checkout_base_url else None
        options: dict[str, Any] = {}
        if base_url:
            # Passing base_url=None would make the SDK use None as its base URL.
            options["base_url"] = base_url.rstrip("/")
        # SDK retries stay off (the default): retrying a POST on timeout can create
        # duplicates; callers decide using GatewayError.retryable.
        self._client: Any = _SdkClient(auth=(key_id, key_secret), **options)
        # requests would read the proxy settings from the environment on every call (a
        # walk of os.environ, ~0.2 ms of CPU per gateway call): read once, here, with the
        # same rules (NO_PROXY included). Nothing else of the environment applies to these
        # calls: the SDK gives its own CA bundle and its own credentials.
        session = self._client.session
        session.proxies.update(requests.utils.get_environ_proxies(self._client.base_url))
        session.trust_env = False

    # -- API calls ----------------------------------------------------------------------

    async def _call(self, what: str, fn: Callable[[], _T]) -> _T:
        try:
            # The SDK is blocking (requests); keep it off the event loop.
            return await asyncio.to_thread(fn)
        except razorpay.errors.BadRequestError as exc:
            message = str(exc)
            if "still in progress" in message:
                # 409 for an idempotency key whose first request is in flight: the
                # same request will get the stored answer once that one finishes.
                raise GatewayError(
                    f"razorpay: {what}: {message}", retryable=True, code="BAD_REQUEST_ERROR"
                ) from exc
            raise GatewayBadRequest(f"razorpay: {what}: {message}") from exc
        except (razorpay.errors.GatewayError, razorpay.errors.ServerError) as exc:
            # The SDK keeps only the description, not the HTTP status.
            code = (
                "GATEWAY_ERROR" if isinstance(exc, razorpay.errors.GatewayError) else "SERVER_ERROR"
            )
            raise GatewayError(f"razorpay: {what}: {exc}", retryable=True, code=code) from exc
        except requests.exceptions.JSONDecodeError as exc:
            # A non-JSON body: a proxy's error page or a truncated reply. Retrying is safe:
            # a duplicate unpaid order is harmless and refunds carry an idempotency key.
            raise GatewayError(
                f"razorpay: {what}: unexpected response: {exc}", retryable=True
            ) from exc
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            raise GatewayError(f"razorpay: {what}: network error: {exc}", retryable=True) from exc
        except requests.exceptions.RequestException as exc:
            # Invalid URL, too many redirects and the like: configuration, not weather.
            raise GatewayError(f"razorpay: {what}: {exc}", retryable=False) from exc

    @staticmethod
    def _parse(what: str, parse: Callable[[Any], _T], data: Any) -> _T:
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayError(
                f"razorpay: {what}: unexpected response shape: {exc!r}", retryable=False
            ) from exc

    async def create_order(
        self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> GatewayOrder:
        body = {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes}
        data = await self._call(
            "create order", lambda: self._client.order.create(body, timeout=self._timeout)
        )
        return self._parse("create order", _order, data)

    async def fetch_order(self, order_id: str) -> GatewayOrder:
        _check_id("order", order_id)
        data = await self._call(
            "fetch order", lambda: self._client.order.fetch(order_id, timeout=self._timeout)
        )
        return self._parse("fetch order", _order, data)

    async def order_payments(self, order_id: str) -> list[GatewayPayment]:
        _check_id("order", order_id)
        data = await self._call(
            "order payments",
            lambda: self._client.order.payments(order_id, timeout=self._timeout),
        )
        return self._parse(
            "order payments", lambda d: [_payment(item) for item in d["items"]], data
        )

    async def fetch_payment(self, payment_id: str) -> GatewayPayment:
        _check_id("payment", payment_id)
        data = await self._call(
            "fetch payment",
            lambda: self._client.payment.fetch(payment_id, timeout=self._timeout),
        )
        return self._parse("fetch payment", _payment, data)

    async def refund(
        self,
        payment_id: str,
        *,
        amount: int | None,
        idempotency_key: str,
        notes: dict[str, str] | None = None,
    ) -> GatewayRefund:
        _check_id("payment", payment_id)
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount  # omitted: Razorpay refunds the full remaining amount
        if notes:
            body["notes"] = notes

        def call() -> Any:
            # A fresh headers dict per call: the SDK mutates it (User-Agent, Content-type).
            return self._client.payment.refund(
                payment_id,
                body,
                timeout=self._timeout,
                headers={"X-Refund-Idempotency": idempotency_key},
            )

        data = await self._call("refund", call)
        return self._parse("refund", _refund, data)

    # -- signatures and checkout ----------------------------------------------------------

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool:
        expected = payment_signature(self._key_secret, order_id, payment_id)
        return signatures_match(expected, signature)

    def verify_webhook_signature(self, raw_body: bytes, signature: str) -> bool:
        # Not the SDK's verify_webhook_signature: on 2.0.1 it raises TypeError for bytes
        # (razorpay-python#121), and decoding first invites re-serialisation mistakes.
        return signatures_match(webhook_signature(self._webhook_secret, raw_body), signature)

    def checkout_url(self, gateway_order_id: str, callback_url: str) -> str | None:
        if self._checkout_base_url is None:
            return None  # real Razorpay: the client opens its JS/native Standard Checkout
        return (
            f"{self._checkout_base_url}/checkout/{quote(gateway_order_id, safe='')}"
            f"?{urlencode({'callback_url': callback_url})}"
        )


if TYPE_CHECKING:
    from canteen.payments.gateway import PaymentGateway

    _conforms: type[PaymentGateway] = RazorpayGateway
