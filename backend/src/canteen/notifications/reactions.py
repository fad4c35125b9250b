"""Notifications' reactions to order events: a push for each customer-facing status and
the "your order is ready" SMS. Registered with the outbox dispatcher by the composition
root.

A job that would find nothing to do is not enqueued (issue 20: in the lunch rush each
was a Celery job on the servers' core): no push for a customer with no device, no ready
text while texts are off. Each is one read per dispatcher batch, and the sweeps agree:
`push.redrive` skips a customer who had no device when the event was recorded, and
`sms.redrive_ready` texts only while texts are on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.direct import DirectStatement
from canteen.core.one_of import one_of
from canteen.events.models import Event
from canteen.events.reactions import Delivery, register_reaction
from canteen.events.types import EventType
from canteen.menu.config import CONFIG_ID
from canteen.menu.models import CanteenConfig
from canteen.orders.models import Order
from canteen.users.models import DeviceToken

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


# The batch's reads (`Delivery.read_once` keys).
DEVICES_READ = "notifications.orders_with_devices"
TEXTS_READ = "notifications.texts_on"
# Read on the direct path (issue 20: the ORM's query cost more than the row); no row, no texts.
_CONFIG: Table = CanteenConfig.__table__  # type: ignore[assignment]
_TEXTS_ON = DirectStatement(select(_CONFIG.c.ready_sms_enabled).where(_CONFIG.c.id == CONFIG_ID))


async def _texts_on(session: AsyncSession) -> bool:
    return bool(await _TEXTS_ON.scalar(session, {}))


_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_DEVICES: Table = DeviceToken.__table__  # type: ignore[assignment]
# One question for the whole batch, on the direct path (issue 20: the ORM's query with its
# IN list cost a kitchen change half a millisecond).
_WITH_DEVICE = DirectStatement(
    select(_ORDERS.c.id)
    .distinct()
    .join(_DEVICES, _DEVICES.c.user_id == _ORDERS.c.customer_id)
    .where(one_of(_ORDERS.c.id, "order_ids"))
)


async def _orders_with_devices(session: AsyncSession, events: Sequence[Event]) -> set[uuid.UUID]:
    """Of the batch's orders, those whose customer has a device to push to."""
    order_ids = {e.order_id for e in events if e.order_id is not None}
    if not order_ids:
        return set()
    rows = await _WITH_DEVICE.rows(session, {"order_ids": list(order_ids)})
    return {order_id for (order_id,) in rows}


async def _has_device(event: Event, delivery: Delivery) -> bool:
    with_devices = await delivery.read_once(
        DEVICES_READ, lambda s: _orders_with_devices(s, delivery.events or [event])
    )
    return event.order_id in with_devices


async def push_order_status(event: Event, delivery: Delivery) -> None:
    if event.status in PUSH_STATUSES and event.order_id and await _has_device(event, delivery):
        await delivery.enqueue(
            "push.order_status",
            event_id=str(event.id),
            order_id=str(event.order_id),
            order_number=event.order_number or "",
            status=event.status,
        )


async def text_when_ready(event: Event, delivery: Delivery) -> None:
    if (
        event.status == "ready"
        and event.order_id
        and await delivery.read_once(TEXTS_READ, _texts_on)
    ):
        # The job checks the switch again when it runs.
        await delivery.enqueue(
            "sms.order_ready", event_id=str(event.id), order_id=str(event.order_id)
        )


async def push_eta_change(event: Event, delivery: Delivery) -> None:
    # Only a move of more than 5 minutes from what the student was told (kitchen.reestimate).
    if event.order_id and event.data.get("notify") and await _has_device(event, delivery):
        await delivery.enqueue(
            "push.order_eta",
            event_id=str(event.id),
            order_id=str(event.order_id),
            ready_around=str(event.data["to"]),
        )


def register() -> None:
    register_reaction(EventType.order_eta_changed, push_eta_change)
    register_reaction(EventType.order_status_changed, push_order_status)
    register_reaction(EventType.order_status_changed, text_when_ready)
