"""A placed order's rows written without the ORM's unit of work (issue 20).

The lines are inserted before the placement takes the kitchen window's row and the day's
counter row, which every other placement waits for; once it holds them, one INSERT writes
the order complete with its number and window and one records `order.created`, then the
commit. The lines' reference to the order is checked at commit (migration 0018), so the
order's row is written once: no provisional row made final by an UPDATE. All are Core
statements compiled once and, on PostgreSQL, sent straight to asyncpg
(`canteen.core.direct`; an ORM flush of the same rows cost several milliseconds of
CPU); the ORM objects the rest of the request uses (the answer, the UPI checkout) are
attached to the session as already persistent, so nothing is written twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from canteen.core.direct import Loaded, WholeRowInsert
from canteen.events.service import insert_event
from canteen.events.types import EventType
from canteen.orders.models import Order, OrderItem

_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_LINES: Table = OrderItem.__table__  # type: ignore[assignment]
_INSERT_ORDER = WholeRowInsert(_ORDERS)
_INSERT_LINES = WholeRowInsert(_LINES)
_LOADED_ORDER = Loaded.of_table(Order)
_LOADED_LINE = Loaded.of_table(OrderItem)


def order_values(**values: Any) -> dict[str, Any]:
    """The order's row: the given columns, every other one None."""
    return _INSERT_ORDER.row(**values)


def line_values(**values: Any) -> dict[str, Any]:
    return _INSERT_LINES.row(**values)


async def insert_lines(session: AsyncSession, lines: list[dict[str, Any]]) -> None:
    """Insert the order's lines, before the placement takes the rows every other placement
    waits for; their order follows once it has its number and window."""
    await _INSERT_LINES.execute_many(session, lines)


async def finish_order(
    session: AsyncSession,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    event_data: dict[str, Any],
    actor_id: uuid.UUID,
) -> Order:
    """Insert the order, complete, and record `order.created` (two statements); return
    the order as a persistent object of the session."""
    await _INSERT_ORDER.execute(session, row)
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
    # As loaded: no pending INSERT, nothing expired, each line's order set.
    items = [_LOADED_LINE.from_mapping(line) for line in lines]
    order = _LOADED_ORDER.from_mapping(row, items=items)
    for item in items:
        set_committed_value(item, "order", order)
    session.add(order)
    return order
