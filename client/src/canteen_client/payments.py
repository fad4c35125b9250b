"""UPI payments (design §8): verify the gateway's checkout result, retry, switch to cash.

The flow: `orders.place(..., payment_method="upi")` returns an order whose `payment`
holds the gateway's `key_id`, `gateway_order_id` and amount (and, with the sandbox or a
hosted checkout, a `checkout_url`). The app opens the gateway's checkout with them; the
checkout hands back `razorpay_order_id`, `razorpay_payment_id` and `razorpay_signature`,
which `verify()` sends to the server; the answer is the confirmed order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from canteen_client.errors import NetworkFailure, ValidationFailure
from canteen_client.models import Order, PaymentInfo

if TYPE_CHECKING:
    from canteen_client.client import CanteenClient


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    """What the gateway's checkout returns to the app after a successful payment."""

    razorpay_order_id: str
    razorpay_payment_id: str
    razorpay_signature: str


class PaymentsAPI:
    def __init__(self, client: CanteenClient) -> None:
        self._client = client

    async def verify(
        self,
        order_id: str | uuid.UUID,
        razorpay_order_id: str,
        razorpay_payment_id: str,
        razorpay_signature: str,
    ) -> Order:
        """Confirm a UPI order with the checkout's result. The server checks the signature
        against its own gateway order id; verifying the same payment again is harmless,
        so this call is retried on 5xx/network errors (design §8.2: "retry 3x").
        A forged or mismatched signature raises `ValidationFailure`
        (PAYMENT_SIGNATURE_INVALID)."""
        data = await self._client.data(
            "POST",
            "/payments/verify",
            json={
                "order_id": str(order_id),
                "razorpay_order_id": razorpay_order_id,
                "razorpay_payment_id": razorpay_payment_id,
                "razorpay_signature": razorpay_signature,
            },
            retry=True,
        )
        return Order.from_json(data)

    async def verify_result(self, order_id: str | uuid.UUID, result: CheckoutResult) -> Order:
        return await self.verify(
            order_id,
            result.razorpay_order_id,
            result.razorpay_payment_id,
            result.razorpay_signature,
        )

    async def retry(self, order_id: str | uuid.UUID) -> Order:
        """Start a new checkout for an unpaid UPI order (after a failed payment)."""
        return Order.from_json(await self._client.data("POST", f"/orders/{order_id}/payment/retry"))

    async def switch_to_cash(self, order_id: str | uuid.UUID) -> Order:
        """Pay an unpaid UPI order in cash at the counter instead."""
        return Order.from_json(
            await self._client.data("POST", f"/orders/{order_id}/payment/switch-to-cash")
        )

    # ---- the local sandbox (development and tests only) --------------------------------

    async def sandbox_pay(
        self,
        payment: PaymentInfo,
        outcome: str = "success",
        *,
        sandbox_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> SandboxOutcome:
        """Pay a sandbox gateway order through the sandbox's JSON checkout
        (`POST {sandbox}/sandbox/pay`), as a tester would on its checkout page.
        `outcome` is `success`, `failure` or `pending`; `sandbox_url` defaults to the
        base of `payment.checkout_url`. The sandbox is another server than the API,
        so this uses its own connection (`transport` for tests). Pass a success's
        `checkout_result` to `verify_result()`."""
        base = sandbox_url or _sandbox_base(payment.checkout_url)
        try:
            async with httpx.AsyncClient(transport=transport, timeout=15.0) as http:
                response = await http.post(
                    f"{base.rstrip('/')}/sandbox/pay",
                    json={"order_id": payment.gateway_order_id, "outcome": outcome},
                )
        except httpx.TransportError as exc:
            raise NetworkFailure(f"The payment sandbox did not answer: {exc!r}", cause=exc) from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            description = error.get("description") if isinstance(error, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            raise ValidationFailure(
                response.status_code,
                str(code or "SANDBOX_ERROR"),
                str(description or f"The sandbox answered {response.status_code}"),
            )
        error = body.get("error")
        status = "failure" if error else str(body.get("status") or "success")
        return SandboxOutcome(
            status=status,
            razorpay_order_id=_opt(body.get("razorpay_order_id")),
            razorpay_payment_id=_opt(body.get("razorpay_payment_id")),
            razorpay_signature=_opt(body.get("razorpay_signature")),
            error=error if isinstance(error, dict) else None,
        )


@dataclass(frozen=True, slots=True)
class SandboxOutcome:
    """What the sandbox checkout returned: `success` (with a signature), `failure`
    (with the gateway's `error`) or `pending` (a UPI collect not acted on yet)."""

    status: str
    razorpay_order_id: str | None
    razorpay_payment_id: str | None
    razorpay_signature: str | None
    error: dict[str, Any] | None

    @property
    def checkout_result(self) -> CheckoutResult:
        if not (self.razorpay_order_id and self.razorpay_payment_id and self.razorpay_signature):
            raise ValueError(f"a {self.status} sandbox payment has no checkout result")
        return CheckoutResult(
            self.razorpay_order_id, self.razorpay_payment_id, self.razorpay_signature
        )


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _sandbox_base(checkout_url: str | None) -> str:
    """`http://host/sandbox/razorpay/checkout/order_X?...` → `http://host/sandbox/razorpay`."""
    if not checkout_url or "/checkout/" not in checkout_url:
        raise ValueError("this payment has no sandbox checkout_url; pass sandbox_url")
    parts = urlsplit(checkout_url)
    path = parts.path[: parts.path.rindex("/checkout/")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
