"""Recording events: always inside the caller's transaction (transactional outbox)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import utcnow
from canteen.events.models import Event

EVENT_TYPES = frozenset(
    {
        "order.created",
        "order.status_changed",
        "order.payment_updated",
        "order.assigned",
        "menu.updated",
        "config.updated",
    }
)


async def record_event(
    session: AsyncSession,
    type: str,
    *,
    data: dict[str, Any] | None = None,
    order_id: uuid.UUID | None = None,
    order_number: str | None = None,
    status: str | None = None,
    payment_status: str | None = None,
    actor_id: uuid.UUID | None = None,
) -> Event:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = Event(
        id=uuid.uuid4(),
        type=type,
        data=data or {},
        order_id=order_id,
        order_number=order_number,
        status=status,
        payment_status=payment_status,
        actor_id=actor_id,
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()  # assigns seq
    return event
