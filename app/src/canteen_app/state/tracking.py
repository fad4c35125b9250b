"""The tracking screen's state: a stepper driven by the SDK's `OrderTracker`
(WebSocket first, polling as a fallback), the pickup code and the estimated ready time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from canteen_client import (
    CanteenClient,
    CanteenError,
    Order,
    OrderAction,
    OrderState,
    OrderTracker,
)

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
    "not_collected": "Not collected",
}
PAYMENT_TEXT = {
    "pending": "Waiting for your UPI payment",
    "captured": "Paid by UPI",
    "failed": "UPI payment failed",
    "refunded": "Refunded",
    "cash_due": "Pay in cash at the counter",
    "paid": "Paid in cash",
}
REFUND_TEXT = {
    "requested": "Refund of {amount} requested",
    "pending": "Refund of {amount} on its way to your UPI account",
    "processed": "Refunded {amount} to your UPI account",
    "failed": "The refund of {amount} failed; the canteen will pay it back at the counter",
}
# Reasons the server writes itself (tokens), in words; a reason staff typed is shown as is.
CANCEL_REASONS = {
    "payment_timeout": "The UPI payment did not arrive in time.",
    "payment arrived after the order was closed": "The payment came after the order closed.",
}
# What a customer's own cancel records: the server's default, and what older versions of
# this app sent.
CUSTOMER_CANCEL_REASONS = frozenset({"cancelled by customer", "changed my mind"})
CANCELLED_BY_TEXT = {
    "customer": "You cancelled this order",
    "kitchen": "The canteen cancelled this order",
    "admin": "The canteen cancelled this order",
    "system": "Cancelled automatically",
}


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    state: str  # done | current | todo | cancelled


def steps_for(order_type: str) -> list[tuple[str, str]]:
    return DELIVERY_STEPS if order_type == "delivery" else PICKUP_STEPS


def stepper(order_type: str, status: str, seen: Sequence[str] = ()) -> list[Step]:
    """The stepper for `status`. A cancelled order has no steps "to come": it shows the
    steps it reached (`seen`: statuses seen live; at least "Placed") and then the
    cancellation."""
    steps = steps_for(order_type)
    keys = [k for k, _ in steps]
    if status == "completed":
        return [Step(k, label, "done") for k, label in steps]
    if status == "cancelled":
        reached = max((keys.index(s) for s in seen if s in keys), default=0)
        done = [Step(k, label, "done") for k, label in steps[: reached + 1]]
        return [*done, Step("cancelled", "Cancelled", "cancelled")]
    if status == "not_collected":
        # Made and ready, never picked up (the canteen's collection window passed).
        done = [Step(k, label, "done") for k, label in steps if k != "completed"]
        return [*done, Step("not_collected", "Not collected", "cancelled")]
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


def recall_text(recalled_from: str | None, status: str | None) -> str | None:
    """What the screen says when the kitchen put back a move it made by mistake (issue
    17, part 6: order.recalled); None when nothing was recalled."""
    if recalled_from == "completed":
        if status == "out_for_delivery":
            return "Marked delivered by mistake: your order is on its way again"
        return "Handed over by mistake: your order is ready again"
    if recalled_from == "cancelled":
        return "Cancelled by mistake: the kitchen has your order again"
    if recalled_from == "ready":
        return "Not ready after all: the kitchen is still preparing it"
    return None


def code_texts(order: Order) -> tuple[str, str]:
    """(the code's heading, what to do with it): a delivery order's code goes to the
    delivery person, not the counter."""
    if order.order_type == "delivery":
        return "Delivery code", "Give this code to the delivery person"
    return "Pickup code", "Show this code at the counter"


def payment_text(order: Order, payment_status: str | None = None) -> str | None:
    """The payment line of an order in words; None when there is nothing to say (a
    cancelled order owes nothing, and its refund has its own line)."""
    status = payment_status or order.payment_status
    if order.status == "cancelled":
        if status in ("captured", "refunded") or order.refund is not None:
            return None
        return "Nothing to pay" if order.payment_method == "cash" else "You were not charged"
    if status == "cash_due" and order.order_type == "delivery":
        return "Pay cash on delivery"
    return PAYMENT_TEXT.get(status, "")


def cash_instructions(order: Order) -> str:
    if order.order_type == "delivery":
        return "Pay cash on delivery"
    return "Pay in cash at the counter"


def cancelled_by(order: Order, live_actor: str | None = None) -> str | None:
    """Who cancelled: the API's `cancelled_by` when it says, else the actor of the live
    cancellation event, else what the reason tells (a customer's cancel records a fixed
    reason, the payment timeout its own; staff must type a reason)."""
    actor = order.cancelled_by or live_actor
    if actor:
        return actor
    reason = (order.cancel_reason or "").strip().lower()
    if reason in CUSTOMER_CANCEL_REASONS:
        return "customer"
    if reason in CANCEL_REASONS:
        return "system"
    return "kitchen" if reason else None


def cancellation_lines(order: Order, live_actor: str | None = None) -> list[str]:
    """What a cancelled order says: by whom, why, and the refund if it was paid."""
    if order.status != "cancelled":
        return []
    who = cancelled_by(order, live_actor)
    lines = [CANCELLED_BY_TEXT.get(who or "", "This order was cancelled")]
    reason = (order.cancel_reason or "").strip()
    if reason and reason.lower() not in CUSTOMER_CANCEL_REASONS:
        lines.append(CANCEL_REASONS.get(reason) or f"Reason: {reason}")
    refund = order.refund
    if refund is not None:
        template = REFUND_TEXT.get(refund.status, "Refund of {amount}: " + refund.status)
        lines.append(template.format(amount=_money(refund.amount)))
    elif order.payment_status == "refunded":
        lines.append(REFUND_TEXT["processed"].format(amount=_money(order.total)))
    elif order.payment_status == "captured":
        lines.append(REFUND_TEXT["requested"].format(amount=_money(order.total)))
    return lines


def refund_settled(order: Order) -> bool:
    """No refund still to hear about (none due, or the gateway's final word is in)."""
    if order.status != "cancelled":
        return True
    if order.refund is not None:
        return order.refund.status in ("processed", "failed")
    return order.payment_status != "captured"


def _money(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"₹{rupees:,}" if rest == 0 else f"₹{rupees:,}.{rest:02d}"


def eta_text(ready_at: datetime | None, local_now: datetime, status: str) -> str | None:
    """ "Ready by 13:05 (about 12 min)" in the canteen's zone; None when not useful."""
    if ready_at is None or status in (
        "ready",
        "out_for_delivery",
        "completed",
        "cancelled",
        "not_collected",
    ):
        return None
    local = ready_at.astimezone(local_now.tzinfo)
    minutes = round((local - local_now).total_seconds() / 60)
    if minutes <= 0:
        return f"Ready by {local:%H:%M} (any minute now)"
    return f"Ready by {local:%H:%M} (about {minutes} min)"


def can_cancel(order: Order) -> bool:
    return order.can(OrderAction.cancel)


class TrackingState:
    """Follows one order; `on_change` is called after each change it applies.

    The order shown is always one that carries its payment: the WebSocket's snapshot
    and events may not (older servers send `payment: null` and events without an
    order), so on any change they do not fully describe, the order is read again with
    `GET /orders/{id}`, which does."""

    def __init__(
        self,
        api: CanteenClient,
        order_id: str,
        on_change: Callable[[], None] = lambda: None,
        *,
        poll_interval: float = 5.0,
        refund_polls: int = 60,
    ) -> None:
        self.api = api
        self.order_id = order_id
        self.on_change = on_change
        self.poll_interval = poll_interval
        self.refund_polls = refund_polls
        self.order: Order | None = None
        self.status: str | None = None
        self.payment_status: str | None = None
        self.history: list[str] = []  # statuses in the order they were seen
        self.error: CanteenError | None = None
        self.mode = "websocket"
        self.tracker: OrderTracker | None = None
        # From live events, where the order payload does not say (yet).
        self.payment_error: str | None = None
        self.cancel_actor: str | None = None
        # The kitchen moved the estimate more than 5 minutes (order.eta_changed, notify).
        self.eta_moved_to: datetime | None = None
        # The status the kitchen's mistaken move had put the order in (order.recalled),
        # until the order moves on.
        self.recalled_from: str | None = None
        self._task: asyncio.Task[None] | None = None

    def apply_order(self, order: Order) -> None:
        self.order = order
        self._see(order.status, order.payment_status)
        if order.payment is not None and order.payment.failure_reason:
            self.payment_error = order.payment.failure_reason

    def _see(self, status: str, payment_status: str | None) -> None:
        if not self.history or self.history[-1] != status:
            self.history.append(status)
        self.status = status
        if payment_status is not None:
            if payment_status != "failed":
                self.payment_error = None
            self.payment_status = payment_status

    def _complete(self, order: Order, state: OrderState) -> bool:
        """Does `order` (from a socket message) say everything the screen shows?"""
        if (order.status, order.payment_status) != (state.status, state.payment_status):
            return False
        waiting_for_upi = order.payment_method == "upi" and order.status == "received"
        return order.payment is not None or not waiting_for_upi

    async def apply(self, state: OrderState) -> None:
        if state.event == "order.payment_updated":
            error = state.data.get("error") or state.data.get("failure_reason")
            if isinstance(error, str) and error:
                self.payment_error = error
        if state.status == "cancelled":
            actor = state.data.get("actor")
            if isinstance(actor, str) and actor:
                self.cancel_actor = actor
        if state.event == "order.eta_changed":
            await self._eta_changed(state)
            return
        if state.event == "order.recalled":
            moved = state.data.get("from")
            self.recalled_from = moved if isinstance(moved, str) else None
            self.cancel_actor = None
        elif state.status != self.status:
            self.recalled_from = None
        order = state.order
        if order is not None and self._complete(order, state):
            self.order = order
        else:
            known = self.order
            if known is None or (known.status, known.payment_status) != (
                state.status,
                state.payment_status,
            ):
                # The message leaves out the order or its payment: read it (ETA, totals,
                # the payment page, the refund).
                with contextlib.suppress(CanteenError):
                    self.order = await self.api.orders.order(self.order_id)
        self._see(state.status, state.payment_status)
        if self.order is not None and self.order.payment is not None:
            reason = self.order.payment.failure_reason
            if reason and self.payment_status == "failed":
                self.payment_error = reason

    async def _eta_changed(self, state: OrderState) -> None:
        """The kitchen re-estimated: read the order (its new estimated_ready_at) and keep
        the new time for the banner when it moved more than 5 minutes."""
        with contextlib.suppress(CanteenError):
            self.order = await self.api.orders.order(self.order_id)
        moved = state.data.get("to")
        if state.data.get("notify") and isinstance(moved, str):
            with contextlib.suppress(ValueError):
                self.eta_moved_to = datetime.fromisoformat(moved.replace("Z", "+00:00"))

    @property
    def recall_text(self) -> str | None:
        return recall_text(self.recalled_from, self.status)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "cancelled", "not_collected")

    @property
    def payment_failed(self) -> bool:
        """A UPI payment was declined and the order still waits for one."""
        return (
            self.status == "received"
            and self.payment_status == "failed"
            and self.order is not None
            and self.order.payment_method == "upi"
        )

    async def load(self) -> Order:
        order = await self.api.orders.order(self.order_id)
        self.apply_order(order)
        self.on_change()
        return order

    async def run(self) -> None:
        """Consume the tracker until the server closes the order's socket (a handover or
        a kitchen cancel may be recalled for 5 minutes, so that is when it is final); then,
        for a cancelled paid order, check the refund until the gateway settles it."""
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
            return
        await self.follow_refund()

    async def follow_refund(self) -> None:
        """The socket closes with the cancellation; the refund settles later."""
        for _ in range(self.refund_polls):
            order = self.order
            if order is None or refund_settled(order):
                return
            await asyncio.sleep(self.poll_interval)
            try:
                fresh = await self.api.orders.order(self.order_id)
            except CanteenError as exc:
                log.info("refund check for %s failed: %s", self.order_id, exc)
                continue
            if fresh.raw != order.raw:
                self.apply_order(fresh)
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
        """The customer cancels. No reason is sent unless the customer gave one, so the
        server records its own "cancelled by customer"."""
        order = await self.api.orders.cancel(self.order_id, reason)
        self.cancel_actor = "customer"
        self.apply_order(order)
        self.on_change()
        return order

    async def retry_payment(self) -> Order:
        order = await self.api.payments.retry(self.order_id)
        self.apply_order(order)
        self.on_change()
        return order

    async def switch_to_cash(self) -> Order:
        order = await self.api.payments.switch_to_cash(self.order_id)
        self.apply_order(order)
        self.on_change()
        return order
