"""Payments' reactions to order events: a paid order that is cancelled gets its money back
(product.md). Registered with the outbox dispatcher by the composition root."""

from __future__ import annotations

from canteen.events.models import Event
from canteen.events.reactions import Delivery, register_reaction
from canteen.events.types import EventType
from canteen.orders.models import OrderStatus, PaymentStatus
from canteen.payments.port import connect


async def refund_cancelled_paid_order(event: Event, delivery: Delivery) -> None:
    if event.status == OrderStatus.cancelled and event.payment_status == PaymentStatus.captured:
        await _refund(event, delivery)


async def refund_when_needed(event: Event, delivery: Delivery) -> None:
    """A payment that arrived for an order already cancelled (the event says so)."""
    if (event.data or {}).get("refund_needed"):
        await _refund(event, delivery)


async def _refund(event: Event, delivery: Delivery) -> None:
    if event.order_id:
        await delivery.enqueue(
            "payments.refund_order",
            order_id=str(event.order_id),
            reason=str((event.data or {}).get("reason") or "order cancelled"),
        )


def register() -> None:
    """Payments joins the other domains: its reactions to order events, and the port
    orders shows and opens an order's payment through (canteen.orders.ports)."""
    register_reaction(EventType.order_status_changed, refund_cancelled_paid_order)
    register_reaction(EventType.order_payment_updated, refund_when_needed)
    connect()
