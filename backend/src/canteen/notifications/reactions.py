"""Notifications' reactions to order events: a push for each customer-facing status and
the "your order is ready" SMS. Registered with the outbox dispatcher by the composition
root."""

from __future__ import annotations

from canteen.events.models import Event
from canteen.events.reactions import Delivery, register_reaction
from canteen.events.types import EventType

# Customer-facing statuses that are worth a push notification (design §9).
PUSH_STATUSES = frozenset(
    {
        "confirmed",
        "preparing",
        "ready",
        "out_for_delivery",
        "completed",
        "cancelled",
        "not_collected",
    }
)


async def push_order_status(event: Event, jobs: Delivery) -> None:
    if event.status in PUSH_STATUSES and event.order_id:
        await jobs.enqueue(
            "push.order_status",
            event_id=str(event.id),
            order_id=str(event.order_id),
            order_number=event.order_number or "",
            status=event.status,
        )


async def text_when_ready(event: Event, jobs: Delivery) -> None:
    if event.status == "ready" and event.order_id:
        # The job itself checks the canteen's "text when ready" switch.
        await jobs.enqueue("sms.order_ready", event_id=str(event.id), order_id=str(event.order_id))


async def push_eta_change(event: Event, jobs: Delivery) -> None:
    # Only a move of more than 5 minutes from what the student was told (kitchen.reestimate).
    if event.order_id and event.data.get("notify"):
        await jobs.enqueue(
            "push.order_eta",
            event_id=str(event.id),
            order_id=str(event.order_id),
            ready_around=str(event.data["to"]),
        )


def register() -> None:
    register_reaction(EventType.order_eta_changed, push_eta_change)
    register_reaction(EventType.order_status_changed, push_order_status)
    register_reaction(EventType.order_status_changed, text_when_ready)
