"""A local Razorpay stand-in speaking Razorpay's HTTP API, so the official SDK works against it.

Covers what Canteen uses: Orders, Payments (UPI), Refunds with `X-Refund-Idempotency`, a
hosted checkout page for testers, a JSON twin of it for programs, and signed webhooks
delivered at-least-once with retries. State lives in memory. Wire formats, error bodies
and signatures follow docs/design/integrations.md §1; where Razorpay's exact wording is
not documented the sandbox's own wording is marked "sandbox wording".

Not a security boundary: `/checkout/*` and `/sandbox/*` need no credentials, like the
test-mode controls they stand in for. Run it only on development machines.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import html
import json
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from canteen.payments.gateway import payment_signature, webhook_signature

DEFAULT_KEY_ID = "rzp_test_canteensandbox"
DEFAULT_KEY_SECRET = "sandbox_key_secret_change_me"  # public, test-only default
DEFAULT_WEBHOOK_SECRET = "sandbox_webhook_secret_change_me"

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Schemes a callback may not use: they would run script or read local data on redirect.
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})

JsonDict = dict[str, Any]
_PAY_OUTCOMES: frozenset[str] = frozenset({"success", "failure", "pending"})


def _new_id(prefix: str) -> str:
    # Razorpay ids: a prefix and 14 base62 characters, e.g. order_RB58MiP5SPFYyM.
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(14))


def _now() -> int:
    return int(time.time())


def _notes_out(notes: Any) -> Any:
    # Razorpay (PHP) serialises empty notes as [] rather than {}; clients must cope.
    return notes if notes else []


class SandboxError(Exception):
    """A Razorpay-shaped error reply."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        code: str = "BAD_REQUEST_ERROR",
        field: str | None = None,
        source: str = "NA",
        step: str = "NA",
        reason: str = "NA",
    ) -> None:
        super().__init__(description)
        self.status = status
        self.body: JsonDict = {
            "error": {
                "code": code,
                "description": description,
                "source": source,
                "step": step,
                "reason": reason,
                "metadata": {},
                "field": field,
            }
        }


def _invalid(description: str, field: str | None = None) -> SandboxError:
    return SandboxError(
        400,
        description,
        field=field,
        source="business",
        step="payment_initiation",
        reason="input_validation_failed",
    )


def _not_found() -> SandboxError:
    # Razorpay answers unknown ids with 400, not 404.
    return SandboxError(400, "The id provided does not exist")


@dataclass(frozen=True)
class SandboxEvent:
    """A webhook event as emitted: the exact bytes sent on every attempt, and its id."""

    id: str  # the x-razorpay-event-id header, reused on retries
    event: str
    body: bytes
    signature: str
    created_at: int

    @property
    def payload(self) -> JsonDict:
        parsed: JsonDict = json.loads(self.body)
        return parsed


@dataclass(frozen=True)
class WebhookAttempt:
    event_id: str
    event: str
    attempt: int  # 1 for the first delivery, 2+ for retries
    url: str
    body: bytes
    headers: dict[str, str]
    status_code: int | None  # None: no response (timeout, refused connection)
    error: str | None
    duplicate: bool = False  # an extra copy injected by duplicate_next_webhook()

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _Delivery:
    event: SandboxEvent
    url: str


@dataclass
class _RefundPlan:
    outcome: Literal["processed", "failed"]
    fingerprint: str


@dataclass
class _Faults:
    duplicate: int = 0
    reorder: int = 0
    fail_refund: int = 0


class RazorpaySandbox:
    """In-memory Razorpay state, webhook delivery and test helpers (`app.state.sandbox`).

    State changes run on the server's event loop; reads and test helpers may be called
    from any thread.
    """

    def __init__(
        self,
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
    ) -> None:
        if webhook_max_attempts < 1:
            raise ValueError("webhook_max_attempts must be at least 1")
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url  # may be changed at any time; applies to new events
        self.public_url = public_url.rstrip("/")
        self.account_id = account_id or _new_id("acc_")
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay = webhook_retry_delay  # doubles per retry, capped at 60 s
        self.webhook_timeout = webhook_timeout  # Razorpay gives receivers 5 s
        self.refund_processing_delay = refund_processing_delay

        self._lock = threading.RLock()
        self._orders: dict[str, JsonDict] = {}
        self._payments: dict[str, JsonDict] = {}
        self._order_payments: dict[str, list[str]] = {}
        self._refunds: dict[str, JsonDict] = {}
        self._refund_plans: dict[str, _RefundPlan] = {}
        self._idempotency: dict[str, str] = {}  # key -> refund id
        self._events: list[SandboxEvent] = []
        self._attempts: list[WebhookAttempt] = []
        self._faults = _Faults()
        # Background work not finished yet: webhook deliveries (with their retries) and
        # refunds waiting to be processed. drain() waits for this to reach zero.
        self._outstanding = 0

        self._queue: asyncio.Queue[_Delivery] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    # -- test helpers (any thread) -------------------------------------------------------

    @property
    def events(self) -> list[SandboxEvent]:
        """Every webhook event emitted, in emission order (also when no webhook_url is set)."""
        with self._lock:
            return list(self._events)

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """Every delivery attempt, in the order they finished."""
        with self._lock:
            return list(self._attempts)

    @property
    def delivered_webhooks(self) -> list[WebhookAttempt]:
        """Attempts the receiver acknowledged with a 2xx."""
        return [a for a in self.webhook_attempts if a.ok]

    def duplicate_next_webhook(self) -> None:
        """Deliver the next event twice (same id, same bytes), as at-least-once allows."""
        with self._lock:
            self._faults.duplicate += 1

    def reorder_next_webhooks(self) -> None:
        """Hold the next event back and deliver it after the one that follows it."""
        with self._lock:
            self._faults.reorder += 1

    def fail_next_refund(self) -> None:
        """The next refund created ends `failed` (firing refund.failed) instead of processed."""
        with self._lock:
            self._faults.fail_refund += 1

    def order(self, order_id: str) -> JsonDict | None:
        with self._lock:
            entity = self._orders.get(order_id)
            return self._order_out(entity) if entity else None

    def payment(self, payment_id: str) -> JsonDict | None:
        with self._lock:
            entity = self._payments.get(payment_id)
            return self._payment_out(entity) if entity else None

    def checkout_url(self, order_id: str, callback_url: str | None = None) -> str:
        url = f"{self.public_url}/checkout/{quote(order_id, safe='')}"
        return f"{url}?{urlencode({'callback_url': callback_url})}" if callback_url else url

    async def drain(self, max_wait: float = 10.0) -> None:
        """Wait until every webhook delivery (retries included) and pending refund is done.

        Polls, so it works from any event loop, not just the server's.
        """
        deadline = time.monotonic() + max_wait
        while True:
            with self._lock:
                outstanding = self._outstanding
            if outstanding == 0:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"sandbox: {outstanding} background jobs still pending")
            await asyncio.sleep(0.01)

    # -- entities (call with the lock held) ----------------------------------------------

    def _order_out(self, order: JsonDict) -> JsonDict:
        out = copy.deepcopy(order)
        out["amount_due"] = out["amount"] - out["amount_paid"]
        out["notes"] = _notes_out(out["notes"])
        return out

    def _payment_out(self, payment: JsonDict) -> JsonDict:
        out = copy.deepcopy(payment)
        out["notes"] = _notes_out(out["notes"])
        return out

    def _refund_out(self, refund: JsonDict) -> JsonDict:
        out = copy.deepcopy(refund)
        out["notes"] = _notes_out(out["notes"])
        return out

    def _get(self, table: dict[str, JsonDict], entity_id: str) -> JsonDict:
        entity = table.get(entity_id)
        if entity is None:
            raise _not_found()
        return entity

    def _event(self, name: str, **entities: JsonDict) -> SandboxEvent:
        now = _now()
        envelope = {
            "entity": "event",
            "account_id": self.account_id,
            "event": name,
            "contains": list(entities),
            "payload": {kind: {"entity": entity} for kind, entity in entities.items()},
            "created_at": now,
        }
        # Serialised once: every attempt sends these bytes with this signature, so
        # retries stay byte-identical (and signed with the secret of the day).
        body = json.dumps(envelope, separators=(",", ":")).encode()
        return SandboxEvent(
            id=_new_id("evt_"),
            event=name,
            body=body,
            signature=webhook_signature(self.webhook_secret, body),
            created_at=now,
        )

    # -- API operations (on the server's loop) -------------------------------------------

    def create_order(self, body: Any) -> JsonDict:
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object")
        amount = body.get("amount")
        if amount is None:
            raise _invalid("The amount field is required.", "amount")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise _invalid("The amount must be an integer.", "amount")
        if amount < 100:
            raise _invalid("The amount must be at least INR 1.00", "amount")
        currency = body.get("currency")
        if currency is None:
            raise _invalid("The currency field is required.", "currency")
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise _invalid("The currency must be 3 letters.", "currency")  # sandbox wording
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise _invalid("The receipt may not be greater than 40 characters.", "receipt")
        notes = _check_notes(body.get("notes"))
        order: JsonDict = {
            "id": _new_id("order_"),
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
            "created_at": _now(),
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
        if outcome not in _PAY_OUTCOMES:
            raise _invalid("outcome must be one of success, failure, pending", "outcome")
        events: list[SandboxEvent] = []
        with self._lock:
            order = self._get(self._orders, order_id)
            if order["status"] == "paid":
                raise SandboxError(400, "This order has already been paid.")  # sandbox wording
            vpa = "failure@razorpay" if outcome == "failure" else "success@razorpay"
            payment: JsonDict = {
                "id": _new_id("pay_"),
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
                "created_at": _now(),
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
                result = {"error": _checkout_error(payment)}
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
                raise _invalid("outcome must be captured or failed", "outcome")
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

    def create_refund(self, payment_id: str, raw_body: bytes, key: str | None) -> JsonDict:
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            raise SandboxError(
                400,
                "The idempotency key must be at least 10 characters of letters, digits, "
                "'_' or '-'.",  # sandbox wording
                field="X-Refund-Idempotency",
            )
        body = _json_body(raw_body)
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
            if not isinstance(body, dict):
                raise _invalid("The request body must be a JSON object")
            remaining = payment["amount"] - payment["amount_refunded"]
            amount = body.get("amount", remaining)
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise _invalid("The amount must be an integer.", "amount")
            speed = body.get("speed", "normal")
            if speed not in ("normal", "optimum"):
                raise _invalid("The selected speed is invalid.", "speed")
            receipt = body.get("receipt")
            if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
                raise _invalid("The receipt may not be greater than 40 characters.", "receipt")
            notes = _check_notes(body.get("notes"))
            if payment["status"] not in ("captured", "refunded"):
                raise SandboxError(  # sandbox wording
                    400, f"Only captured payments can be refunded; this one is {payment['status']}."
                )
            if remaining <= 0:
                raise SandboxError(400, "The payment has been fully refunded already.")
            if amount < 100:
                raise _invalid("The amount must be at least INR 1.00", "amount")
            if amount > remaining:
                raise _invalid(  # sandbox wording
                    "The refund amount provided is greater than amount not refunded.", "amount"
                )
            refund: JsonDict = {
                "id": _new_id("rfnd_"),
                "entity": "refund",
                "amount": amount,
                "currency": payment["currency"],
                "payment_id": payment_id,
                "notes": notes,
                "receipt": receipt,
                "acquirer_data": {"arn": None},
                "created_at": _now(),
                "batch_id": None,
                "status": "pending",
                "speed_processed": "normal",
                "speed_requested": speed,
            }
            failing = self._faults.fail_refund > 0
            if failing:
                self._faults.fail_refund -= 1
            self._refunds[refund["id"]] = refund
            self._refund_plans[refund["id"]] = _RefundPlan(
                outcome="failed" if failing else "processed", fingerprint=fingerprint
            )
            if key is not None:
                self._idempotency[key] = refund["id"]
            payment["amount_refunded"] += amount
            _update_refund_status(payment)
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
                    _update_refund_status(payment)
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

    def _publish(self, events: Sequence[SandboxEvent]) -> None:
        if not events:
            return
        with self._lock:
            self._events.extend(events)
            url = self.webhook_url
            if url is None:
                return
            self._outstanding += len(events)
        queue = self._ensure_worker()
        for event in events:
            queue.put_nowait(_Delivery(event, url))

    def _ensure_worker(self) -> asyncio.Queue[_Delivery]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._deliver_in_order())
        return self._queue

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take_fault(self, name: Literal["duplicate", "reorder"]) -> bool:
        with self._lock:
            if getattr(self._faults, name) > 0:
                setattr(self._faults, name, getattr(self._faults, name) - 1)
                return True
            return False

    async def _deliver_in_order(self) -> None:
        # One worker makes every first attempt in emission order, so a healthy receiver
        # sees authorized -> captured -> order.paid. Retries run on their own schedule,
        # so a failing event can arrive after later ones, as with Razorpay.
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            if self._take_fault("reorder"):
                # Events of one change are queued together; otherwise wait briefly.
                with contextlib.suppress(TimeoutError):
                    batch.insert(0, await asyncio.wait_for(queue.get(), timeout=1.0))
            for delivery in batch:
                duplicate = self._take_fault("duplicate")
                ok = await self._send(delivery, attempt=1)
                if duplicate:
                    await self._send(delivery, attempt=1, duplicate=True)
                if ok:
                    self._done()
                else:
                    self._spawn(self._retry(delivery))

    async def _retry(self, delivery: _Delivery) -> None:
        try:
            delay = self.webhook_retry_delay
            for attempt in range(2, self.webhook_max_attempts + 1):
                await asyncio.sleep(delay)
                if await self._send(delivery, attempt=attempt):
                    return
                delay = min(delay * 2, 60.0)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._outstanding -= 1

    async def _send(self, delivery: _Delivery, *, attempt: int, duplicate: bool = False) -> bool:
        event = delivery.event
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Razorpay-Webhook/v1",
            "X-Razorpay-Signature": event.signature,
            "x-razorpay-event-id": event.id,
        }
        if self._http is None:
            # trust_env=False: proxy variables must not swallow localhost deliveries.
            self._http = httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False)
        status: int | None = None
        error: str | None = None
        try:
            response = await self._http.post(delivery.url, content=event.body, headers=headers)
            status = response.status_code
        except Exception as exc:
            # Any failure (timeout, refused, even a malformed URL) is a failed attempt; the
            # delivery worker itself must survive it.
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._attempts.append(
                WebhookAttempt(
                    event_id=event.id,
                    event=event.event,
                    attempt=attempt,
                    url=delivery.url,
                    body=event.body,
                    headers=headers,
                    status_code=status,
                    error=error,
                    duplicate=duplicate,
                )
            )
        return status is not None and 200 <= status < 300

    async def aclose(self) -> None:
        tasks = [*self._tasks, *([self._worker] if self._worker else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._worker = None
        self._queue = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        with self._lock:
            self._outstanding = 0  # nothing will finish now; do not leave drain() hanging


def _check_notes(notes: Any) -> JsonDict:
    if notes is None or notes == []:
        return {}
    if not isinstance(notes, dict):
        raise _invalid("The notes field must be an object.", "notes")  # sandbox wording
    if len(notes) > 15:
        raise _invalid("Number of fields in notes should be less than or equal to 15", "notes")
    for key, value in notes.items():
        if not isinstance(value, str | int | float) or len(str(value)) > 256:
            raise _invalid(  # sandbox wording
                f"The notes value for {key!r} must be text of at most 256 characters.", "notes"
            )
    return dict(notes)


def _update_refund_status(payment: JsonDict) -> None:
    refunded = payment["amount_refunded"]
    if refunded <= 0:
        payment["refund_status"] = None
        payment["status"] = "captured"
    elif refunded < payment["amount"]:
        payment["refund_status"] = "partial"
        payment["status"] = "captured"
    else:
        payment["refund_status"] = "full"
        payment["status"] = "refunded"


def _checkout_error(payment: JsonDict) -> JsonDict:
    return {
        "code": payment["error_code"],
        "description": payment["error_description"],
        "source": payment["error_source"],
        "step": payment["error_step"],
        "reason": payment["error_reason"],
        "metadata": {"order_id": payment["order_id"], "payment_id": payment["id"]},
    }


def _json_body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise _invalid("The request body is not valid JSON.") from None  # sandbox wording


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _safe_callback(url: str | None) -> str | None:
    """Validate a callback URL (http(s) or an app deep link); raises SandboxError."""
    if not url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if (
        not scheme
        or scheme in _UNSAFE_SCHEMES
        or (scheme in ("http", "https") and not parts.netloc)
    ):
        raise _invalid("callback_url must be an absolute http(s) or app URL", "callback_url")
    return url


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _redirect_params(result: JsonDict) -> list[tuple[str, str]]:
    if "error" in result:
        error = result["error"]
        return [
            ("error[code]", error["code"]),
            ("error[description]", error["description"]),
            ("error[source]", error["source"]),
            ("error[step]", error["step"]),
            ("error[reason]", error["reason"]),
            ("error[metadata][order_id]", error["metadata"]["order_id"]),
            ("error[metadata][payment_id]", error["metadata"]["payment_id"]),
        ]
    if result.get("status") == "pending":
        return [("status", "pending"), ("razorpay_order_id", result["razorpay_order_id"])]
    return [
        ("razorpay_payment_id", result["razorpay_payment_id"]),
        ("razorpay_order_id", result["razorpay_order_id"]),
        ("razorpay_signature", result["razorpay_signature"]),
    ]


# -- HTML (hosted checkout for testers) ---------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fb;color:#111}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px}
.note{color:#444}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;word-break:break-all}
fieldset{border:0;padding:0;margin:1.5rem 0 0;display:grid;gap:.75rem}
legend{font-weight:600;margin-bottom:.5rem}
button{font:inherit;font-size:1.1rem;padding:.8rem;border-radius:6px;border:2px solid #1b3a8a;
background:#fff;color:#1b3a8a;cursor:pointer}
button[value=success]{background:#1b3a8a;color:#fff}
button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
"""


def _page(title: str, content: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status)


def _money(amount: int, currency: str) -> str:
    major = f"{amount // 100}.{amount % 100:02d}"
    return f"₹{major}" if currency == "INR" else f"{major} {currency}"


def _checkout_page(order: JsonDict, callback_url: str | None) -> HTMLResponse:
    e = html.escape
    details = (
        "<dl>"
        f"<dt>Amount</dt><dd>{e(_money(order['amount'], order['currency']))}</dd>"
        f"<dt>Receipt</dt><dd>{e(order['receipt'] or '—')}</dd>"
        f"<dt>Order</dt><dd>{e(order['id'])}</dd>"
        "</dl>"
    )
    intro = (
        "<h1>Razorpay sandbox checkout</h1>"
        '<p class="note">A local test stand-in for Razorpay. No money moves.</p>'
    )
    if order["status"] == "paid":
        return _page(
            "Order already paid",
            f'{intro}{details}<p role="status">This order has already been paid.</p>',
        )
    hidden = (
        f'<input type="hidden" name="callback_url" value="{e(callback_url)}">'
        if callback_url
        else ""
    )
    # Relative action: works however the tester reached this page (emulator, LAN IP).
    form = (
        f'<form method="post" action="{e(quote(order["id"], safe=""))}/complete">{hidden}'
        "<fieldset><legend>Choose how this payment ends</legend>"
        '<button type="submit" name="outcome" value="success">Pay successfully</button>'
        '<button type="submit" name="outcome" value="failure">Fail payment</button>'
        '<button type="submit" name="outcome" value="pending">Leave pending</button>'
        "</fieldset></form>"
    )
    return _page(f"Pay {_money(order['amount'], order['currency'])}", intro + details + form)


def _result_page(result: JsonDict) -> HTMLResponse:
    rows = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in _redirect_params(result)
    )
    return _page(
        "Payment result",
        f'<h1>Payment result</h1><p role="status">No callback URL was given.</p><dl>{rows}</dl>',
    )


# -- the app --------------------------------------------------------------------------------


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

    def authenticate(request: Request) -> None:
        auth = _basic_auth(request.headers.get("authorization"))
        if auth is None or not (
            secrets.compare_digest(auth[0].encode(), key_id.encode())
            and secrets.compare_digest(auth[1].encode(), key_secret.encode())
        ):
            raise SandboxError(401, "Authentication failed")

    @app.get("/")
    async def index() -> JsonDict:
        return {
            "service": "razorpay-sandbox",
            "key_id": key_id,
            "public_url": sandbox.public_url,
            "webhook_url": sandbox.webhook_url,
        }

    # Razorpay API (Basic auth) -------------------------------------------------------

    @app.post("/v1/orders")
    async def create_order(request: Request) -> JsonDict:
        authenticate(request)
        return sandbox.create_order(_json_body(await request.body()))

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

    # Hosted checkout (testers) ------------------------------------------------------------

    @app.get("/checkout/{order_id}")
    async def checkout(order_id: str, callback_url: str | None = None) -> HTMLResponse:
        order = sandbox.order(order_id)
        if order is None:
            return _page("Unknown order", "<h1>Unknown order</h1><p>No such order.</p>", 404)
        try:
            callback = _safe_callback(callback_url)
        except SandboxError as exc:
            return _page("Bad callback URL", f"<h1>Bad callback URL</h1><p>{exc}</p>", 400)
        return _checkout_page(order, callback)

    @app.post("/checkout/{order_id}/complete")
    async def complete(order_id: str, request: Request) -> Response:
        form = await request.form()
        outcome = form.get("outcome")
        callback_field = form.get("callback_url")
        try:
            callback = _safe_callback(callback_field if isinstance(callback_field, str) else None)
            result = sandbox.pay(order_id, outcome if isinstance(outcome, str) else "")
        except SandboxError as exc:
            message = html.escape(str(exc))
            return _page(
                "Payment not possible", f"<h1>Payment not possible</h1><p>{message}</p>", 400
            )
        if callback is None:
            return _result_page(result)
        return RedirectResponse(_with_query(callback, _redirect_params(result)), status_code=303)

    # JSON twin of the checkout, and late settlement (programs, tests) ---------------------

    @app.post("/sandbox/pay")
    async def sandbox_pay(request: Request) -> JsonDict:
        body = _json_body(await request.body())
        if not isinstance(body, dict) or not isinstance(body.get("order_id"), str):
            raise _invalid("order_id is required", "order_id")
        return sandbox.pay(body["order_id"], str(body.get("outcome")))

    @app.post("/sandbox/payments/{payment_id}/settle")
    async def sandbox_settle(payment_id: str, request: Request) -> JsonDict:
        body = _json_body(await request.body())
        outcome = body.get("outcome") if isinstance(body, dict) else None
        return sandbox.settle(payment_id, str(outcome))

    return app


# -- running it in a thread (tests, scripts) ------------------------------------------------


class SandboxServer:
    """The sandbox in uvicorn on 127.0.0.1 (random port by default) in a background thread.

    with SandboxServer(webhook_url=...) as server:
        gateway = RazorpayGateway(server.key_id, server.key_secret, server.webhook_secret,
                                  base_url=server.base_url, checkout_base_url=server.base_url)
    """

    def __init__(
        self,
        *,
        key_id: str = DEFAULT_KEY_ID,
        key_secret: str = DEFAULT_KEY_SECRET,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self._webhook_url = webhook_url
        self._host = host
        self._port = port
        self._options = options
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.app: FastAPI | None = None

    @property
    def sandbox(self) -> RazorpaySandbox:
        if self.app is None:
            raise RuntimeError("sandbox server is not running")
        state: RazorpaySandbox = self.app.state.sandbox
        return state

    def start(self) -> Self:
        if self._server is not None:
            return self
        # Bind first, so the URL (and the app's public_url) is known before serving.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        host, port = sock.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        self.app = create_sandbox_app(
            key_id=self.key_id,
            key_secret=self.key_secret,
            webhook_secret=self.webhook_secret,
            webhook_url=self._webhook_url,
            public_url=self.base_url,
            **self._options,
        )
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on",
            loop="asyncio",
            ws="none",  # not needed; avoids loading the websockets stack
            access_log=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="razorpay-sandbox", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("razorpay sandbox failed to start")
            time.sleep(0.01)
        self._socket, self._server, self._thread = sock, server, thread
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._socket = self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = [
    "DEFAULT_KEY_ID",
    "DEFAULT_KEY_SECRET",
    "DEFAULT_WEBHOOK_SECRET",
    "RazorpaySandbox",
    "SandboxError",
    "SandboxEvent",
    "SandboxServer",
    "WebhookAttempt",
    "create_sandbox_app",
]
