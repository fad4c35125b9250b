"""The sandbox's in-memory state, its test helpers and the shape of what it returns.

The operations are added by the classes above this one: webhook delivery
(`webhooks.py`), refunds (`refunds.py`), then orders and payments (`sandbox.py`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from urllib.parse import quote, urlencode

import httpx

from canteen.payments.gateway import webhook_signature
from canteen_sandbox.entities import (
    Delivery,
    Faults,
    JsonDict,
    RefundPlan,
    SandboxEvent,
    WebhookAttempt,
    new_id,
    not_found,
    notes_out,
    now,
)


class SandboxState:
    """In-memory Razorpay state and test helpers; `RazorpaySandbox` adds the operations.

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
        self.account_id = account_id or new_id("acc_")
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay = webhook_retry_delay  # doubles per retry, capped at 60 s
        self.webhook_timeout = webhook_timeout  # Razorpay gives receivers 5 s
        self.refund_processing_delay = refund_processing_delay

        self._lock = threading.RLock()
        self._orders: dict[str, JsonDict] = {}
        self._payments: dict[str, JsonDict] = {}
        self._order_payments: dict[str, list[str]] = {}
        self._refunds: dict[str, JsonDict] = {}
        self._refund_plans: dict[str, RefundPlan] = {}
        self._idempotency: dict[str, str] = {}  # key -> refund id
        self._events: list[SandboxEvent] = []
        self._attempts: list[WebhookAttempt] = []
        self._faults = Faults()
        # Background work not finished yet: webhook deliveries (with their retries) and
        # refunds waiting to be processed. drain() waits for this to reach zero.
        self._outstanding = 0

        self._queue: asyncio.Queue[Delivery] | None = None
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
        out["notes"] = notes_out(out["notes"])
        return out

    def _payment_out(self, payment: JsonDict) -> JsonDict:
        out = copy.deepcopy(payment)
        out["notes"] = notes_out(out["notes"])
        return out

    def _refund_out(self, refund: JsonDict) -> JsonDict:
        out = copy.deepcopy(refund)
        out["notes"] = notes_out(out["notes"])
        return out

    def _get(self, table: dict[str, JsonDict], entity_id: str) -> JsonDict:
        entity = table.get(entity_id)
        if entity is None:
            raise not_found()
        return entity

    def _event(self, name: str, **entities: JsonDict) -> SandboxEvent:
        created = now()
        envelope = {
            "entity": "event",
            "account_id": self.account_id,
            "event": name,
            "contains": list(entities),
            "payload": {kind: {"entity": entity} for kind, entity in entities.items()},
            "created_at": created,
        }
        # Serialised once: every attempt sends these bytes with this signature, so
        # retries stay byte-identical (and signed with the secret of the day).
        body = json.dumps(envelope, separators=(",", ":")).encode()
        return SandboxEvent(
            id=new_id("evt_"),
            event=name,
            body=body,
            signature=webhook_signature(self.webhook_secret, body),
            created_at=created,
        )
