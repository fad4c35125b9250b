"""Orders and payments: the Razorpay operations the backend and the checkout use."""

from __future__ import annotations

import secrets
import string
from typing import Any

from canteen.payments.gateway import payment_signature
from canteen_sandbox.entities import (
    CURRENCY,
    PAY_OUTCOMES,
    JsonDict,
    SandboxError,
    SandboxEvent,
    check_notes,
    checkout_error,
    invalid,
    new_id,
    now,
)
from canteen_sandbox.refunds import Refunds


class RazorpaySandbox(Refunds):
    """In-memory Razorpay state, webhook delivery and test helpers (`app.state.sandbox`).

    State changes run on the server's event loop; reads and test helpers may be called
    from any thread.
    """

    def create_order(self, body: Any) -> JsonDict:
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object")
        amount = body.get("amount")
        if amount is None:
            raise invalid("The amount field is required.", "amount")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise invalid("The amount must be an integer.", "amount")
        if amount < 100:
            raise invalid("The amount must be at least INR 1.00", "amount")
        currency = body.get("currency")
        if currency is None:
            raise invalid("The currency field is required.", "currency")
        if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
            raise invalid("The currency must be 3 letters.", "currency")  # sandbox wording
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise invalid("The receipt may not be greater than 40 characters.", "receipt")
        notes = check_notes(body.get("notes"))
        order: JsonDict = {
            "id": new_id("order_"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes,
            "created_at": now(),
        }
        with self._lock:
            self._orders[order["id"]] = order
            self._order_payments[order["id"]] = []
            return self._order_out(order)

    def fetch_order(self, order_id: str) -> JsonDict:
        with self._lock:
            return self._order_out(self._get(self._orders, order_id))

    def fetch_order_payments(self, order_id: str) -> JsonDict:
        with self._lock:
            self._get(self._orders, order_id)
            # Newest first, as Razorpay lists collections.
            items = [
                self._payment_out(self._payments[pid])
                for pid in reversed(self._order_payments[order_id])
            ]
        return {"entity": "collection", "count": len(items), "items": items}

    def fetch_payment(self, payment_id: str) -> JsonDict:
        with self._lock:
            return self._payment_out(self._get(self._payments, payment_id))

    def fetch_refund(self, refund_id: str) -> JsonDict:
        with self._lock:
            return self._refund_out(self._get(self._refunds, refund_id))

    def pay(self, order_id: str, outcome: str) -> JsonDict:
        """Run one checkout attempt; returns what Checkout hands the client."""
        if outcome not in PAY_OUTCOMES:
            raise invalid("outcome must be one of success, failure, pending", "outcome")
        events: list[SandboxEvent] = []
        with self._lock:
            order = self._get(self._orders, order_id)
            if order["status"] == "paid":
                raise SandboxError(400, "This order has already been paid.")  # sandbox wording
            vpa = "failure@razorpay" if outcome == "failure" else "success@razorpay"
            payment: JsonDict = {
                "id": new_id("pay_"),
                "entity": "payment",
                "amount": order["amount"],
                "currency": order["currency"],
                "status": "created",
                "order_id": order_id,
                "invoice_id": None,
                "international": False,
                "method": "upi",
                "amount_refunded": 0,
                "refund_status": None,
                "captured": False,
                "description": None,
                "card_id": None,
                "bank": None,
                "wallet": None,
                "vpa": vpa,
                "email": "void@razorpay.com",
                "contact": "+919000090000",
                "notes": {},
                "fee": None,
                "tax": None,
                "error_code": None,
                "error_description": None,
                "error_source": None,
                "error_step": None,
                "error_reason": None,
                "acquirer_data": {"rrn": None},
                "upi": {"payer_account_type": "bank_account", "vpa": vpa, "flow": "collect"},
                "created_at": now(),
            }
            self._payments[payment["id"]] = payment
            self._order_payments[order_id].append(payment["id"])
            order["attempts"] += 1
            if order["status"] == "created":
                order["status"] = "attempted"
            if outcome == "success":
                events = self._capture(payment)
                result: JsonDict = {
                    "razorpay_payment_id": payment["id"],
                    "razorpay_order_id": order_id,
                    "razorpay_signature": payment_signature(
                        self.key_secret, order_id, payment["id"]
                    ),
                }
            elif outcome == "failure":
                events = self._fail(payment)
                result = {"error": checkout_error(payment)}
            else:
                # A UPI collect request the payer has not acted on yet: no webhook.
                result = {
                    "status": "pending",
                    "razorpay_order_id": order_id,
                    "razorpay_payment_id": payment["id"],
                }
        self._publish(events)
        return result

    def settle(self, payment_id: str, outcome: str) -> JsonDict:
        """Finish a pending payment later, or capture a failed one (UPI late authorisation)."""
        with self._lock:
            payment = self._get(self._payments, payment_id)
            status = payment["status"]
            if outcome == "captured" and status in ("created", "failed"):
                events = self._capture(payment)
            elif outcome == "failed" and status == "created":
                events = self._fail(payment)
            elif outcome in ("captured", "failed"):
                raise SandboxError(
                    400,
                    f"A {status} payment cannot become {outcome}.",  # sandbox wording
                )
            else:
                raise invalid("outcome must be captured or failed", "outcome")
            result = self._payment_out(payment)
        self._publish(events)
        return result

    def _capture(self, payment: JsonDict) -> list[SandboxEvent]:
        # Auto-capture (Razorpay's default): authorized, then captured straight away.
        order = self._orders[payment["order_id"]]
        for key in (
            "error_code",
            "error_description",
            "error_source",
            "error_step",
            "error_reason",
        ):
            payment[key] = None  # a late authorisation clears the earlier failure
        payment["status"] = "authorized"
        payment["acquirer_data"] = {
            "rrn": "".join(secrets.choice(string.digits) for _ in range(12))
        }
        events = [self._event("payment.authorized", payment=self._payment_out(payment))]
        # Plausible numbers only: 2 % fee plus 18 % GST on it, fee including the tax.
        fee = max(1, payment["amount"] * 2 // 100)
        tax = fee * 18 // 100
        payment.update(status="captured", captured=True, fee=fee + tax, tax=tax)
        events.append(self._event("payment.captured", payment=self._payment_out(payment)))
        if order["status"] != "paid":
            # A second payment captured on a paid order (UPI double pay) leaves it as it is.
            order.update(status="paid", amount_paid=order["amount"])
            events.append(
                self._event(
                    "order.paid",
                    payment=self._payment_out(payment),
                    order=self._order_out(order),
                )
            )
        return events

    def _fail(self, payment: JsonDict) -> list[SandboxEvent]:
        payment.update(
            status="failed",
            error_code="BAD_REQUEST_ERROR",
            error_description="Payment failed",
            error_source="issuer",
            error_step="payment_authorization",
            error_reason="payment_failed",
        )
        return [self._event("payment.failed", payment=self._payment_out(payment))]
