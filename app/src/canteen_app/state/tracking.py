"""The tracking screen's state: a stepper driven by the SDK's `OrderTracker`
(WebSocket first, polling as a fallback), the pickup code and the estimated ready time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from canteen_client import CanteenClient, CanteenError, Order, OrderState, OrderTracker

log = logging.getLogger("canteen_app.tracking")

PICKUP_STEPS = [
    ("received", "Placed"),
    ("confirmed", "Confirmed"),
    ("preparing", "Preparing"),
    ("ready", "Ready for pickup"),
    ("completed", "Picked up"),
]
DELIVERY_STEPS = [
    ("received", "Placed"),
    ("confirmed", "Confirmed"),
    ("preparing", "Preparing"),
    ("ready", "Ready"),
    ("out_for_delivery", "Out for delivery"),
    ("completed", "Delivered"),
]
STATUS_TEXT = {
    "received": "Order placed",
    "confirmed": "Confirmed: the kitchen has your order",
    "preparing": "Being prepared",
    "ready": "Ready",
    "out_for_delivery": "On its way",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
PAYMENT_TEXT = {
    "pending": "Waiting for your UPI payment",
    "captured": "Paid by UPI",
    "failed": "UPI payment failed",
    "refunded": "Refunded",
    "cash_due": "Pay in cash at the counter",
    "paid": "Paid in cash",
}
CANCELLABLE = frozenset({"received", "confirmed"})


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    state: str  # done | current | todo


def steps_for(order_type: str) -> list[tuple[str, str]]:
    return DELIVERY_STEPS if order_type == "delivery" else PICKUP_STEPS


def stepper(order_type: str, status: str) -> list[Step]:
    """The stepper for `status`; a cancelled order shows how far it got as done."""
    steps = steps_for(order_type)
    keys = [k for k, _ in steps]
    if status == "completed":
        return [Step(k, label, "done") for k, label in steps]
    index = keys.index(status) if status in keys else -1
    return [
        Step(k, label, "done" if i < index else "current" if i == index else "todo")
        for i, (k, label) in enumerate(steps)
    ]


def current_step_label(order_type: str, status: str) -> str:
    for key, label in steps_for(order_type):
        if key == status:
            return label
    return STATUS_TEXT.get(status, status)


def eta_text(ready_at: datetime | None, local_now: datetime, status: str) -> str | None:
    """ "Ready by 13:05 (about 12 min)" in the canteen's zone; None when not useful."""
    if ready_at is None or status in ("ready", "out_for_delivery", "completed", "cancelled"):
        return None
    local = ready_at.astimezone(local_now.tzinfo)
    minutes = round((local - local_now).total_seconds() / 60)
    if minutes <= 0:
        return f"Ready by {local:%H:%M} (any minute now)"
    return f"Ready by {local:%H:%M} (about {minutes} min)"


def can_cancel(order: Order) -> bool:
    return order.status in CANCELLABLE


class TrackingState:
    """Follows one order; `on_change` is called after each change it applies."""

    def __init__(
        self,
        api: CanteenClient,
        order_id: str,
        on_change: Callable[[], None] = lambda: None,
        *,
        poll_interval: float = 5.0,
    ) -> None:
        self.api = api
        self.order_id = order_id
        self.on_change = on_change
        self.poll_interval = poll_interval
        self.order: Order | None = None
        self.status: str | None = None
        self.payment_status: str | None = None
        self.history: list[str] = []  # statuses in the order they were seen
        self.error: CanteenError | None = None
        self.mode = "websocket"
        self.tracker: OrderTracker | None = None
        self._task: asyncio.Task[None] | None = None

    def apply_order(self, order: Order) -> None:
        self.order = order
        self._see(order.status, order.payment_status)

    def _see(self, status: str, payment_status: str | None) -> None:
        if not self.history or self.history[-1] != status:
            self.history.append(status)
        self.status = status
        if payment_status is not None:
            self.payment_status = payment_status

    async def apply(self, state: OrderState) -> None:
        if state.order is not None:
            self.order = state.order
        elif self.order is None or self.order.status != state.status:
            # Status events carry no order: fetch it for the new ETA, totals, refund.
            with contextlib.suppress(CanteenError):
                self.order = await self.api.orders.order(self.order_id)
        self._see(state.status, state.payment_status)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "cancelled")

    async def load(self) -> Order:
        order = await self.api.orders.order(self.order_id)
        self.apply_order(order)
        self.on_change()
        return order

    async def run(self) -> None:
        """Consume the tracker until the order is completed or cancelled."""
        self.tracker = self.api.track(self.order_id, poll_interval=self.poll_interval)
        try:
            async with self.tracker as tracker:
                async for state in tracker:
                    self.mode = tracker.mode
                    await self.apply(state)
                    self.on_change()
        except CanteenError as exc:
            log.info("tracking %s stopped: %s", self.order_id, exc)
            self.error = exc
            self.on_change()

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=f"track-{self.order_id}")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, CanteenError):
                await task

    async def refresh(self) -> None:
        """Re-read the order (pull to refresh, back from the payment page)."""
        order = await self.api.orders.order(self.order_id)
        self.apply_order(order)
        self.on_change()
        if not self.finished and (self._task is None or self._task.done()):
            self.start()

    async def cancel(self, reason: str | None = None) -> Order:
        order = await self.api.orders.cancel(self.order_id, reason)
        self.apply_order(order)
        self.on_change()
        return order
