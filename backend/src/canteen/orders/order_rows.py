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

On PostgreSQL the common placement (no counted stock) is all one statement instead
(`place_in_one`, step 52): the window taken, the number, the order, its lines and its event,
sent alone, with no BEGIN and no COMMIT.

The reads every order change and every answer about one order make (the order locked or
not, with its lines in the same statement; its history) take the same path (issue 20,
steps 30-31 and 44); an order the session holds already is read the ORM's way, which
refreshes it (`core.direct.adopt`).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Insert,
    Integer,
    String,
    Table,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from canteen.core.clock import iso_z
from canteen.core.db import UTCDateTime
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
from canteen.kitchen import capacity, eta
from canteen.kitchen.capacity import Window
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


def _next_seq(dialect: str, *, after: Any = None) -> Insert:
    """The day's next number: one atomic upsert, so parallel placements never collide.
    `after`: a CTE whose one row it waits for (none: no number taken)."""
    day = bindparam("day", type_=Date())
    counter = upsert(dialect, _COUNTERS)
    counter = (
        counter.values(business_date=day, last_seq=1)
        if after is None
        else counter.from_select(["business_date", "last_seq"], select(day, 1).select_from(after))
    )
    return counter.on_conflict_do_update(
        index_elements=[_COUNTERS.c.business_date],
        set_={"last_seq": _COUNTERS.c.last_seq + 1},
    ).returning(_COUNTERS.c.last_seq)


# SQLite's: its placement runs the counter, the order and the event in turn.
_NEXT_SEQ = DirectStatement(_next_seq("sqlite"))
_NUMBERED = ("daily_seq", "number")
# What the whole placement's statement forms from the window it takes, in this order.
_FROM_THE_WINDOW = (
    "estimated_ready_at",
    "promised_ready_at",
    "pickup_window_start",
    "pickup_window_end",
)
_RETURNED = (*_NUMBERED, *_FROM_THE_WINDOW)
_EVENT_KEYS = tuple(c.key for c in _EVENTS.columns if c.key not in ("seq", "order_number"))
_EVENT_KEYS_BUT_DATA = tuple(key for key in _EVENT_KEYS if key != "data")
_LINE_KEYS = tuple(c.key for c in _LINES.columns)
# The `order.created` data's last key, filled by the statement that knows the estimate;
# serialized as the JSON column's bind processor does (the engine's default, json.dumps).
_ESTIMATE_LAST = '"estimated_ready_at": null}'
_JSON_TEXT = json.dumps


def _numbered_writes(lines: int | None) -> DirectStatement:
    """PostgreSQL's one round trip for the writes a placement makes under the day's
    counter row: the counter moved, the order written with the number it gives, the
    `order.created` event with that number; it returns the order's seq, number and
    estimate. Data-modifying WITH is PostgreSQL's (SQLite runs them in turn). The number
    is `order_number`'s: the prefix is given, the seq padded to three digits at least.

    With `lines` (their count), the statement is the whole placement (`place_in_one`):
    it first takes the first of the order's windows with room
    (`capacity.RESERVE_FIRST_WITH_ROOM_SQL`), and the rest follows only if that left a
    row; the window's bounds and the estimate are formed from it
    (`eta.placement_estimate_sql`), and the lines are written with the order."""
    taken = None
    if lines is not None:
        taken = capacity.RESERVE_FIRST_WITH_ROOM_SQL.columns(
            column("window_start", UTCDateTime()), column("used_minutes", Integer())
        ).cte("taken")
    counter = _next_seq("postgresql", after=taken).cte("counter")
    seq = counter.c.last_seq
    digits = cast(seq, String)
    number = bindparam("number_prefix", type_=String()) + case(
        (seq < 1000, func.lpad(digits, 3, "0")), else_=digits
    )
    computed = _NUMBERED if taken is None else (*_NUMBERED, *_FROM_THE_WINDOW)
    order_keys = [c.key for c in _ORDERS.columns if c.key not in computed]
    values: list[Any] = [seq, number]
    source: Any = counter
    if taken is not None:
        start = taken.c.window_start
        at = eta.placement_estimate_sql(
            bindparam("ready_from", type_=UTCDateTime()),
            start,
            taken.c.used_minutes,
            bindparam("cap", type_=Integer()),
        )
        end = capacity.window_end_sql(start, bindparam("slot_ends_at", type_=UTCDateTime()))
        values += [at, at, start, end]
        source = counter.join(taken, true())
    placed = (
        insert(_ORDERS)
        .from_select(
            [*order_keys, *computed],
            select(
                *(bindparam(f"order_{key}", type_=_ORDERS.c[key].type) for key in order_keys),
                *values,
            ).select_from(source),
        )
        .returning(*(_ORDERS.c[key] for key in _RETURNED))
        .cte("placed")
    )
    event_keys = _EVENT_KEYS if taken is None else _EVENT_KEYS_BUT_DATA
    event_values_: list[Any] = [
        bindparam(f"event_{key}", type_=_EVENTS.c[key].type) for key in event_keys
    ]
    if taken is not None:
        # The data as serialized up to its last key, and the estimate's text (`iso_z`).
        head = bindparam("event_data_head", type_=String())
        event_values_.append(cast(head + '"' + _iso_sql(placed.c.estimated_ready_at) + '"}', JSON))
    created = (
        insert(_EVENTS)
        .from_select(
            [*event_keys, *([] if taken is None else ["data"]), "order_number"],
            select(*event_values_, placed.c.number),
        )
        .cte("created")
    )
    result = select(*(placed.c[key] for key in _RETURNED)).add_cte(created)
    if lines is not None:
        each = [
            select(
                *(bindparam(f"line{i}_{key}", type_=_LINES.c[key].type) for key in _LINE_KEYS)
            ).select_from(placed)
            for i in range(lines)
        ]
        written = insert(_LINES).from_select(list(_LINE_KEYS), union_all(*each)).cte("lines")
        result = result.add_cte(written)
    # Alone: one statement is atomic, so outside a begun transaction it commits as it runs.
    return DirectStatement(result, in_transaction=lines is None)


def _iso_sql(at: Any) -> Any:
    """`core.clock.iso_z` in PostgreSQL: `2026-12-07T12:30:00Z`, with `.ffffff` when the
    microseconds are not zero."""
    utc = func.timezone("UTC", at)
    micro = func.to_char(utc, "US")
    return (
        func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
        + case((micro == "000000", ""), else_="." + micro)
        + "Z"
    )


_NUMBERED_ORDER_AND_EVENT = _numbered_writes(None)
# The whole placement in one statement, by count of lines: compiled on first use.
_PLACED_IN_ONE: dict[int, DirectStatement] = {}


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
    event = _created(row, event_data, actor_id)
    if writes_in_one_with(session):
        params = _numbered_params(row, event, business_date)
        [(seq, number, *_)] = await _NUMBERED_ORDER_AND_EVENT.rows(session, params)
        row.update(daily_seq=seq, number=number)
        event["order_number"] = number
        note_inserted(session, event)
    else:
        seq = int(await _NEXT_SEQ.scalar(session, {"day": business_date}))
        row.update(daily_seq=seq, number=order_number(business_date, seq))
        event["order_number"] = row["number"]
        await _INSERT_ORDER.execute(session, row)
        await insert_event_row(session, event)
    return _as_loaded(session, row, lines)


async def place_in_one(
    session: AsyncSession,
    row: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    slot_code: str,
    windows: list[Window],
    capacity_minutes: int,
    ready_from: datetime,
    business_date: date,
    event_data: dict[str, Any],
    actor_id: uuid.UUID,
) -> Order | None:
    """The common placement (no counted stock) in one statement on PostgreSQL: take the
    first of `windows` (one slot's, earliest first) with room for `row["window_minutes"]`,
    then number the order, write it with its window and estimate, its lines and
    `order.created`. Before any other write it runs alone (no BEGIN, no COMMIT). None,
    with nothing written, if no window had room."""
    statement = _PLACED_IN_ONE.get(len(lines))
    if statement is None:
        statement = _PLACED_IN_ONE[len(lines)] = _numbered_writes(len(lines))
    event = _created(row, event_data, actor_id)
    params = _numbered_params(
        row, event, business_date, computed=_RETURNED, event_keys=_EVENT_KEYS_BUT_DATA
    )
    serialized = _JSON_TEXT(event.pop("data"))
    if not serialized.endswith(_ESTIMATE_LAST):
        raise ValueError("order.created's data must end with its estimate")
    params["event_data_head"] = serialized[: -len("null}")]
    params.update(
        slot=slot_code,
        starts=[window.start for window in windows],
        slot_ends_at=windows[-1].end,
        cost=row["window_minutes"],
        cap=capacity_minutes,
        ready_from=ready_from,
    )
    for i, line in enumerate(lines):
        params.update({f"line{i}_{key}": line[key] for key in _LINE_KEYS})
    rows = await statement.rows(session, params)
    if not rows:
        return None
    [returned] = rows
    row.update(zip(_RETURNED, returned, strict=True))
    event.update(
        order_number=row["number"],
        data={**event_data, "estimated_ready_at": iso_z(row["estimated_ready_at"])},
    )
    note_inserted(session, event)
    return _as_loaded(session, row, lines)


def _created(row: dict[str, Any], data: dict[str, Any], actor_id: uuid.UUID) -> dict[str, Any]:
    return event_values(
        EventType.order_created,
        data=data,
        order_id=row["id"],
        order_number=None,
        status=row["status"],
        payment_status=row["payment_status"],
        actor_id=actor_id,
    )


def _numbered_params(
    row: dict[str, Any],
    event: dict[str, Any],
    business_date: date,
    *,
    computed: tuple[str, ...] = _NUMBERED,
    event_keys: tuple[str, ...] = _EVENT_KEYS,
) -> dict[str, Any]:
    """The statement's parameters: the order's and the event's given columns (not those
    `computed` by the statement), the day and the number's prefix."""
    params = {f"order_{key}": value for key, value in row.items() if key not in computed}
    params.update({f"event_{key}": event[key] for key in event_keys})
    params.update(day=business_date, number_prefix=_number_prefix(business_date))
    return params


def _as_loaded(session: AsyncSession, row: dict[str, Any], lines: list[dict[str, Any]]) -> Order:
    """The written order and lines as the session's objects, as loaded: no pending INSERT,
    nothing expired, each line's order set."""
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
