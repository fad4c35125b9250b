"""Refunds: `X-Refund-Idempotency`, partial refunds, processed or failed after a delay."""

from __future__ import annotations

import asyncio
import json
import secrets
import string

from canteen_sandbox.entities import (
    IDEMPOTENCY_KEY,
    JsonDict,
    RefundPlan,
    SandboxError,
    check_notes,
    invalid,
    json_body,
    new_id,
    now,
    update_refund_status,
)
from canteen_sandbox.webhooks import WebhookDelivery


class Refunds(WebhookDelivery):
    """Creates refunds on captured payments and settles them in the background."""

    def create_refund(self, payment_id: str, raw_body: bytes, key: str | None) -> JsonDict:
        if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
            raise SandboxError(
                400,
                "The idempotency key must be at least 10 characters of letters, digits, "
                "'_' or '-'.",  # sandbox wording
                field="X-Refund-Idempotency",
            )
        body = json_body(raw_body)
        # What makes two requests "the same": the payment and the parsed body.
        fingerprint = json.dumps([payment_id, body], sort_keys=True)
        with self._lock:
            if key is not None and key in self._idempotency:
                refund_id = self._idempotency[key]
                if self._refund_plans[refund_id].fingerprint != fingerprint:
                    raise SandboxError(
                        409,
                        "Different request with the same idempotency key has already "
                        "been processed.",
                    )
                return self._refund_out(self._refunds[refund_id])
            payment = self._get(self._payments, payment_id)
            refund = self._new_refund(payment, body)
            failing = self._faults.fail_refund > 0
            if failing:
                self._faults.fail_refund -= 1
            self._refunds[refund["id"]] = refund
            self._refund_plans[refund["id"]] = RefundPlan(
                outcome="failed" if failing else "processed", fingerprint=fingerprint
            )
            if key is not None:
                self._idempotency[key] = refund["id"]
            payment["amount_refunded"] += refund["amount"]
            update_refund_status(payment)
            events = [
                self._event(
                    "refund.created",
                    refund=self._refund_out(refund),
                    payment=self._payment_out(payment),
                )
            ]
            result = self._refund_out(refund)
            self._outstanding += 1  # released by _process_refund
        self._publish(events)
        self._spawn(self._process_refund(refund["id"]))
        return result

    def _new_refund(self, payment: JsonDict, body: object) -> JsonDict:
        """Check a refund request against the payment (lock held); the refund, not stored."""
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object")
        remaining = payment["amount"] - payment["amount_refunded"]
        amount = body.get("amount", remaining)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise invalid("The amount must be an integer.", "amount")
        speed = body.get("speed", "normal")
        if speed not in ("normal", "optimum"):
            raise invalid("The selected speed is invalid.", "speed")
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise invalid("The receipt may not be greater than 40 characters.", "receipt")
        notes = check_notes(body.get("notes"))
        if payment["status"] not in ("captured", "refunded"):
            raise SandboxError(  # sandbox wording
                400, f"Only captured payments can be refunded; this one is {payment['status']}."
            )
        if remaining <= 0:
            raise SandboxError(400, "The payment has been fully refunded already.")
        if amount < 100:
            raise invalid("The amount must be at least INR 1.00", "amount")
        if amount > remaining:
            raise invalid(  # sandbox wording
                "The refund amount provided is greater than amount not refunded.", "amount"
            )
        refund: JsonDict = {
            "id": new_id("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "payment_id": payment["id"],
            "notes": notes,
            "receipt": receipt,
            "acquirer_data": {"arn": None},
            "created_at": now(),
            "batch_id": None,
            "status": "pending",
            "speed_processed": "normal",
            "speed_requested": speed,
        }
        return refund

    async def _process_refund(self, refund_id: str) -> None:
        try:
            await asyncio.sleep(self.refund_processing_delay)
            with self._lock:
                refund = self._refunds[refund_id]
                payment = self._payments[refund["payment_id"]]
                if self._refund_plans[refund_id].outcome == "processed":
                    refund["status"] = "processed"
                    refund["acquirer_data"] = {
                        "arn": "".join(secrets.choice(string.digits) for _ in range(23))
                    }
                    name = "refund.processed"
                else:
                    refund["status"] = "failed"
                    payment["amount_refunded"] -= refund["amount"]
                    update_refund_status(payment)
                    name = "refund.failed"
                events = [
                    self._event(
                        name, refund=self._refund_out(refund), payment=self._payment_out(payment)
                    )
                ]
            self._publish(events)
        finally:
            with self._lock:
                self._outstanding -= 1

    # -- webhook delivery ----------------------------------------------------------------
