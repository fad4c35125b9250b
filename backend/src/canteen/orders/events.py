"""Order events: every order event carries the order's id, number and current statuses."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.events.service import event_values, flush_then_insert_event_row
from canteen.events.types import EventType
from canteen.orders.models import Order


async def record_order_event(
    session: AsyncSession,
    type: EventType,
    order: Order,
    *,
    data: dict[str, Any],
    actor_id: uuid.UUID | None = None,
) -> None:
    """Record `type` for `order` in the caller's transaction, after flushing its pending
    changes (the order's own first; its changed columns as one direct UPDATE where that
    is all there is, `flush_changes`). One Core INSERT, as the placement's (issue 20): an
    Event object flushed by the ORM cost more than the row it writes. On PostgreSQL a
    change of the order's row alone and its event are one statement."""
    row = event_values(
        type,
        order_id=order.id,
        order_number=order.number,
        status=order.status,
        payment_status=order.payment_status,
        actor_id=actor_id,
        data=data,
    )
    await flush_then_insert_event_row(session, row)
