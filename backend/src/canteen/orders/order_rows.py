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
from datetime import date
from typing import Any

from sqlalchemy import Date, Insert, String, Table, bindparam, case, cast, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from canteen.core.direct import (
    DirectStatement,
    Loaded,
    OneToMany,
    WholeRowInsert,
    adopt,
    upsert,
    writes_in_one_with,
)
from canteen.events.models import Event
from canteen.events.service import event_values, insert_event_row, note_inserted
from canteen.events.types import EventType
from canteen.orders.models import Order, OrderDayCounter, OrderItem
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


def order_number(business_date: date, seq: int) -> str:
    """`ORD-20261207-007`: the day and its sequence, three digits at least."""
    return f"{_number_prefix(business_date)}{seq:03d}"


def _number_prefix(business_date: date) -> str:
    return f"ORD-{business_date:%Y%m%d}-"


_COUNTERS: Table = OrderDayCounter.__table__  # type: ignore[assignment]


def _next_seq(dialect: str) -> Insert:
    """The day's next number: one atomic upsert, so parallel placements never collide."""
    return (
        upsert(dialect, _COUNTERS)
        .values(business_date=bindparam("day", type_=Date()), last_seq=1)
        .on_conflict_do_update(
            index_elements=[_COUNTERS.c.business_date],
            set_={"last_seq": _COUNTERS.c.last_seq + 1},
        )
        .returning(_COUNTERS.c.last_seq)
    )


# SQLite's: its placement runs the counter, the order and the event in turn.
_NEXT_SEQ = DirectStatement(_next_seq("sqlite"))
_NUMBERED = ("daily_seq", "number")
_EVENT_KEYS = tuple(c.key for c in _EVENTS.columns if c.key not in ("seq", "order_number"))


def _numbered_order_and_event() -> DirectStatement:
    """PostgreSQL's one round trip for the three writes a placement makes under the day's
    counter row: the counter moved, the order written with the number it gives, the
    `order.created` event with that number; it returns the order's seq and number. Data-
    modifying WITH is PostgreSQL's (SQLite runs the three in turn, in-process). The number
    is `order_number`'s: the prefix is given, the seq padded to three digits at least."""
    counter = _next_seq("postgresql").cte("counter")
    seq = counter.c.last_seq
    digits = cast(seq, String)
    number = bindparam("number_prefix", type_=String()) + case(
        (seq < 1000, func.lpad(digits, 3, "0")), else_=digits
    )
    order_keys = [c.key for c in _ORDERS.columns if c.key not in _NUMBERED]
    placed = (
        insert(_ORDERS)
        .from_select(
            [*order_keys, *_NUMBERED],
            select(
                *(bindparam(f"order_{key}", type_=_ORDERS.c[key].type) for key in order_keys),
                seq,
                number,
            ),
        )
        .returning(_ORDERS.c.daily_seq, _ORDERS.c.number)
        .cte("placed")
    )
    created = (
        insert(_EVENTS)
        .from_select(
            [*_EVENT_KEYS, "order_number"],
            select(
                *(bindparam(f"event_{key}", type_=_EVENTS.c[key].type) for key in _EVENT_KEYS),
                placed.c.number,
            ),
        )
        .cte("created")
    )
    return DirectStatement(select(placed.c.daily_seq, placed.c.number).add_cte(created))


_NUMBERED_ORDER_AND_EVENT = _numbered_order_and_event()


async def finish_order(
    session: AsyncSession,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    business_date: date,
    event_data: dict[str, Any],
    actor_id: uuid.UUID,
) -> Order:
    """Number the order from the day's counter, insert it, complete, and record
    `order.created`; return the order as a persistent object of the session. The counter's
    row stays locked to the commit: on PostgreSQL the three are one statement, so the next
    placement waits for one round trip and the commit, not three."""
    event = event_values(
        EventType.order_created,
        data=event_data,
        order_id=row["id"],
        order_number=None,
        status=row["status"],
        payment_status=row["payment_status"],
        actor_id=actor_id,
    )
    if writes_in_one_with(session):
        params = {f"order_{key}": value for key, value in row.items() if key not in _NUMBERED}
        params.update({f"event_{key}": event[key] for key in _EVENT_KEYS})
        params.update(day=business_date, number_prefix=_number_prefix(business_date))
        [(seq, number)] = await _NUMBERED_ORDER_AND_EVENT.rows(session, params)
        row.update(daily_seq=seq, number=number)
        event["order_number"] = number
        note_inserted(session, event)
    else:
        seq = int(await _NEXT_SEQ.scalar(session, {"day": business_date}))
        row.update(daily_seq=seq, number=order_number(business_date, seq))
        event["order_number"] = row["number"]
        await _INSERT_ORDER.execute(session, row)
        await insert_event_row(session, event)
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
