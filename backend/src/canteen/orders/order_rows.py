"""A placed order's rows written without the ORM's unit of work (issue 20).

The order, its lines and its `order.created` event are three precompiled INSERTs; the ORM
objects the rest of the request uses (the answer, the UPI checkout) are then attached to
the session as already persistent, so nothing is flushed twice. A flush of the same three
rows cost several milliseconds of CPU, spent while the placement held the kitchen window's
row and the day's counter row that every other placement waits for.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from canteen.events.service import insert_event
from canteen.events.types import EventType
from canteen.orders.models import Order, OrderItem

_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_LINES: Table = OrderItem.__table__  # type: ignore[assignment]
# Every column given on every insert (None where unset): one statement shape, compiled
# once, and ORM objects with no attribute left to load.
_ORDER_COLUMNS = tuple(c.key for c in _ORDERS.columns)
_LINE_COLUMNS = tuple(c.key for c in _LINES.columns)
_INSERT_ORDER = insert(_ORDERS)
_INSERT_LINES = insert(_LINES)


def order_values(**values: Any) -> dict[str, Any]:
    """The order's row: the given columns, every other one None."""
    unknown = set(values) - set(_ORDER_COLUMNS)
    if unknown:
        raise ValueError(f"not columns of orders: {sorted(unknown)}")
    return {key: values.get(key) for key in _ORDER_COLUMNS}


def line_values(**values: Any) -> dict[str, Any]:
    unknown = set(values) - set(_LINE_COLUMNS)
    if unknown:
        raise ValueError(f"not columns of order_items: {sorted(unknown)}")
    return {key: values.get(key) for key in _LINE_COLUMNS}


async def insert_order(
    session: AsyncSession,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    event_data: dict[str, Any],
    actor_id: uuid.UUID,
) -> Order:
    """Insert the order, its lines and its `order.created` event (three statements, in
    foreign-key order) and return the order as a persistent object of the session."""
    await session.execute(_INSERT_ORDER, row)
    await session.execute(_INSERT_LINES, lines)
    await insert_event(
        session,
        EventType.order_created,
        data=event_data,
        order_id=row["id"],
        order_number=row["number"],
        status=row["status"],
        payment_status=row["payment_status"],
        actor_id=actor_id,
    )
    items = [OrderItem(**line) for line in lines]
    order = Order(**row, items=items)
    for obj in (order, *items):
        make_transient_to_detached(obj)  # as loaded: no pending INSERT, nothing expired
    session.add(order)
    return order
