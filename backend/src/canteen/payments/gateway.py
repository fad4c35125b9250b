"""Provider-neutral payment gateway types and signature helpers.

Amounts are integers in the currency's smallest unit (paise for INR), as gateways use.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class GatewayOrder:
    id: str
    amount: int
    currency: str
    receipt: str | None
    status: str  # created | attempted | paid (stays paid after a refund)
    amount_paid: int
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GatewayPayment:
    id: str
    order_id: str | None
    amount: int
    currency: str
    status: str  # created | authorized | captured | refunded | failed
    method: str | None
    captured: bool
    error_code: str | None
    error_description: str | None
    created_at: datetime
    # Not in the minimal contract, but refund logic needs what is left to refund.
    amount_refunded: int = 0


@dataclass(frozen=True, slots=True)
class GatewayRefund:
    id: str
    payment_id: str
    amount: int
    status: str  # pending | processed | failed
    created_at: datetime


class GatewayError(Exception):
    """A failed gateway call.

    `retryable` tells the caller whether the same call may succeed later: timeouts,
    connection failures and gateway/server errors are retryable; requests the gateway
    rejected (validation, authentication, unknown ids) are not. `code` is the gateway's
    error code when it sent one (Razorpay: BAD_REQUEST_ERROR, GATEWAY_ERROR, SERVER_ERROR).
    """

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, retryable={self.retryable!r}, "
            f"code={self.code!r})"
        )


class GatewayBadRequest(GatewayError):
    """The gateway rejected the request itself; sending it again will not help."""

    def __init__(self, message: str, *, code: str | None = "BAD_REQUEST_ERROR") -> None:
        super().__init__(message, retryable=False, code=code)


class PaymentGateway(Protocol):
    name: str
    key_id: str  # public; the client's checkout needs it

    async def create_order(
        self, *, amount: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> GatewayOrder: ...

    async def fetch_order(self, order_id: str) -> GatewayOrder: ...

    async def order_payments(self, order_id: str) -> list[GatewayPayment]: ...

    async def fetch_payment(self, payment_id: str) -> GatewayPayment: ...

    async def refund(
        self,
        payment_id: str,
        *,
        amount: int | None,
        idempotency_key: str,
        notes: dict[str, str] | None = None,
    ) -> GatewayRefund: ...

    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool:
        """Checkout's signature; `order_id` must be the one stored server-side."""
        ...

    def verify_webhook_signature(self, raw_body: bytes, signature: str) -> bool:
        """Webhook signature over the exact request bytes (never re-serialised JSON)."""
        ...

    def checkout_url(self, gateway_order_id: str, callback_url: str) -> str | None:
        """A hosted checkout page, or None when the client must use the gateway's own SDK."""
        ...


# -- signatures (shared by the adapter and the sandbox, so both sides agree by construction) --


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def payment_signature(key_secret: str, order_id: str, payment_id: str) -> str:
    """Razorpay Checkout: hex HMAC-SHA256(key_secret, "<order_id>|<payment_id>")."""
    return hmac_sha256_hex(key_secret, f"{order_id}|{payment_id}".encode())


def webhook_signature(webhook_secret: str, raw_body: bytes) -> str:
    """Razorpay webhooks: hex HMAC-SHA256(webhook_secret, raw body bytes)."""
    return hmac_sha256_hex(webhook_secret, raw_body)


def signatures_match(expected: str, given: str) -> bool:
    # Compare bytes: compare_digest raises TypeError on non-ASCII str, and `given` comes
    # from the client. "replace" cannot create a match, since `expected` is plain hex.
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))
