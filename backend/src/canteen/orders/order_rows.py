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

The reads every order change and every answer about one order make (the order locked or
not, with its lines in the same statement; its history) take the same path (issue 20,
steps 30-31 and 44); an order the session holds already is read the ORM's way, which
refreshes it (`core.direct.adopt`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from canteen.core.direct import DirectStatement, Loaded, OneToMany, WholeRowInsert, adopt
from canteen.events.models import Event
from canteen.events.service import insert_event
from canteen.events.types import EventType
from canteen.orders.models import Order, OrderItem
from canteen.users.models import User

_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_LINES: Table = OrderItem.__table__  # type: ignore[assignment]
_INSERT_ORDER = WholeRowInsert(_ORDERS)
_INSERT_LINES = WholeRowInsert(_LINES)
_LOADED_ORDER = Loaded.of_table(Order)
_LOADED_LINE = Loaded.of_table(OrderItem)
# An order and its lines in one statement, a row per line (the order's columns, then the
# line's): what `session.get(Order, id)` reads with its lines by selectin, in one round trip
# instead of two. Locked for a change, only the order's row is (`FOR UPDATE OF orders`).
_ORDER_AND_LINES = OneToMany(_ORDERS, _LINES, _LINES.c.order_id == _ORDERS.c.id)
_ORDER_WITH_LINES = _ORDER_AND_LINES.select.where(_ORDERS.c.id == bindparam("order_id")).order_by(
    _LINES.c.position
)
_LOCK_ORDER = DirectStatement(_ORDER_WITH_LINES.with_for_update(of=_ORDERS))
# The plain read may run before the transaction begins (`in_transaction=False`, see
# canteen.core.direct): a request that only reads an order makes no BEGIN and no COMMIT.
_READ_ORDER = DirectStatement(_ORDER_WITH_LINES, in_transaction=False)
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_USERS: Table = User.__table__  # type: ignore[assignment]
# An order's customer with the order's history, in one statement: the customer's row once
# per event (the account's columns, then the event's), in log order.
_CUSTOMER_AND_EVENTS = OneToMany(_USERS, _EVENTS, _EVENTS.c.order_id == bindparam("order_id"))
_CUSTOMER_AND_HISTORY = DirectStatement(
    _CUSTOMER_AND_EVENTS.select.where(_USERS.c.id == bindparam("customer_id")).order_by(
        _EVENTS.c.seq
    )
)
_LOADED_CUSTOMER = Loaded.of_table(User)
_LOADED_EVENT = Loaded.of_table(Event)


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


async def lock_order_row(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """Lock an order and make it, with its lines, the session's objects as a query loads
    them (a kitchen change: the request's first read of it). An order the session held
    already is refreshed, as after the lock only the database's values count. None if
    there is no such order."""
    return await _order(session, order_id, lock=True)


async def read_order_row(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """The order as `session.get` returns it: a customer's read of their order."""
    return await _order(session, order_id, lock=False)


async def _order(session: AsyncSession, order_id: uuid.UUID, *, lock: bool) -> Order | None:
    if identity_key(Order, order_id) in session.identity_map:
        # Held already: the ORM's own read, refreshed after the lock. One statement, or
        # none for a plain read, where the direct path would read the rows first.
        return await session.get(
            Order, order_id, with_for_update=lock or None, populate_existing=lock
        )
    statement = _LOCK_ORDER if lock else _READ_ORDER
    rows = await statement.rows(session, {"order_id": order_id})
    if not rows:
        return None
    order_values, line_rows = _ORDER_AND_LINES.split(rows)
    lines = [_LOADED_LINE.one(row) for row in line_rows]
    order = _LOADED_ORDER.one(order_values, items=lines)
    for line in lines:
        set_committed_value(line, "order", order)
    return await adopt(session, order, related=lines, fresh=lock)


async def customer_and_history(
    session: AsyncSession, order: Order
) -> tuple[User | None, list[Event]]:
    """The order's customer, as the session's object, and its history in log order, to
    show: events as loaded, outside the session (it needs none of them; the session's own
    copy of an event it recorded stays its own). Reads in the transaction, so this
    request's own events are there."""
    rows = await _CUSTOMER_AND_HISTORY.rows(
        session, {"customer_id": order.customer_id, "order_id": order.id}
    )
    if not rows:
        return None, []
    customer_values, event_rows = _CUSTOMER_AND_EVENTS.split(rows)
    customer = await _LOADED_CUSTOMER.attach(session, customer_values)
    return customer, [_LOADED_EVENT.one(row) for row in event_rows]
