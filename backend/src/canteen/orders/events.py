"""Order events: every order event carries the order's id, number and current statuses."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.events.models import Event
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.orders.models import Order


async def record_order_event(
    session: AsyncSession,
    type: EventType,
    order: Order,
    *,
    data: dict[str, Any],
    actor_id: uuid.UUID | None = None,
) -> Event:
    """Record `type` for `order` in the caller's transaction (flushes pending changes)."""
    return await record_event(
        session,
        type,
        order_id=order.id,
        order_number=order.number,
        status=order.status,
        payment_status=order.payment_status,
        actor_id=actor_id,
        data=data,
    )
