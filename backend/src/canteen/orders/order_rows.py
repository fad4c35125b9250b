"""A placed order's rows written without the ORM's unit of work (issue 20).

The order and its lines are inserted before the placement takes the kitchen window's row
and the day's counter row, which every other placement waits for; once it holds them, one
UPDATE gives the order its number and window and one INSERT records `order.created`, then
the commit: from the window's row on, four round trips instead of five (the counter, this
UPDATE, the event, COMMIT), from the counter's on, three instead of four. All are
Core statements compiled once and, on PostgreSQL, sent straight to asyncpg
(`canteen.core.direct`; an ORM flush of the same rows cost several milliseconds of
CPU); the ORM objects the rest of the request uses (the answer, the UPI checkout) are
attached to the session as already persistent, so nothing is written twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from canteen.core.direct import DirectStatement, Loaded
from canteen.events.service import insert_event
from canteen.events.types import EventType
from canteen.orders.models import Order, OrderItem

_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_LINES: Table = OrderItem.__table__  # type: ignore[assignment]
# Every column given on every insert (None where unset): one statement shape, compiled
# once, and ORM objects with no attribute left to load.
_ORDER_COLUMNS = tuple(c.key for c in _ORDERS.columns)
_LINE_COLUMNS = tuple(c.key for c in _LINES.columns)
_INSERT_ORDER = DirectStatement(insert(_ORDERS), column_keys=_ORDER_COLUMNS)
_INSERT_LINES = DirectStatement(insert(_LINES), column_keys=_LINE_COLUMNS)
_LOADED_ORDER = Loaded.of_table(Order)
_LOADED_LINE = Loaded.of_table(OrderItem)
# What the shared rows decide: the day's number and the kitchen window (with the estimate).
FINISHED_COLUMNS = (
    "number",
    "daily_seq",
    "estimated_ready_at",
    "promised_ready_at",
    "pickup_window_start",
    "pickup_window_end",
    "window_minutes",
    # Set to what it was: the column's onupdate would stamp the UPDATE's own time.
    "updated_at",
)


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


# The day's number and the kitchen window are filled in by one UPDATE once their shared rows
# are taken; until then the row carries values no committed order can have (the order's id
# as its number, a negative sequence number), never seen outside this transaction.
_FINISH_ORDER = DirectStatement(
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"))
    .values({key: bindparam(f"new_{key}") for key in FINISHED_COLUMNS})
)


async def insert_provisional(
    session: AsyncSession, row: dict[str, Any], lines: list[dict[str, Any]]
) -> None:
    """Insert the order (with a provisional number and no window yet) and its lines,
    before the placement takes the rows every other placement waits for."""
    order_id: uuid.UUID = row["id"]
    provisional = {
        **row,
        "number": order_id.hex,
        "daily_seq": -1 - order_id.int % 2**31,
        "window_minutes": 0,
    }
    await _INSERT_ORDER.execute(session, provisional)
    await _INSERT_LINES.execute_many(session, lines)


async def finish_order(
    session: AsyncSession,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    event_data: dict[str, Any],
    actor_id: uuid.UUID,
) -> Order:
    """Give the order its number and window and record `order.created` (two statements);
    return the order as a persistent object of the session."""
    await _FINISH_ORDER.execute(
        session, {"order_id": row["id"], **{f"new_{k}": row[k] for k in FINISHED_COLUMNS}}
    )
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
