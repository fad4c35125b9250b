"""Honest ready times (issue 16, part 3).

The estimate is built from what the kitchen does, not from the menu's fixed prep minutes
alone:
- per dish, recent averages of the orders that held it, kept incrementally when an order
  turns ready (`record_stage_times`: waiting = confirmed -> preparing, cooking = preparing
  -> ready; exponentially weighted, so a slow or quick spell shows within a few orders);
- the queue ahead: the reserved window's used minutes (capacity's running figure), so the
  order is ready when the kitchen has worked through its window up to it;
- the window itself: never before the window of a pre-order.
No placement reads the event log or sums the queue.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    FromClause,
    Interval,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import UTCDateTime
from canteen.core.direct import DirectStatement
from canteen.kitchen.capacity import SLOT_MINUTES, WINDOW, Reservation
from canteen.kitchen.models import ItemTiming

# Weight of the newest order in a dish's averages.
ALPHA = 0.3
# Without any measurement yet, a typical dish's minutes (the windows endpoint's default).
TYPICAL_MINUTES = 10

_TIMINGS = select(ItemTiming.menu_item_id, ItemTiming.wait_seconds, ItemTiming.cook_seconds).where(
    ItemTiming.menu_item_id.in_(bindparam("ids", expanding=True)), ItemTiming.samples > 0
)


# A placement's two kitchen reads in one round trip: its slot's minutes per window and the
# measured times of its dishes. The one-row source keeps the capacity when no dish has
# been measured yet.
_ONE_ROW = select(literal(1).label("one")).subquery("one")
_CAPACITY_AND_TIMINGS = select(
    SLOT_MINUTES,
    ItemTiming.menu_item_id,
    ItemTiming.wait_seconds,
    ItemTiming.cook_seconds,
).select_from(
    _ONE_ROW.outerjoin(
        ItemTiming,
        and_(ItemTiming.menu_item_id.in_(bindparam("ids", expanding=True)), ItemTiming.samples > 0),
    )
)


async def capacity_and_stage_seconds(
    session: AsyncSession, slot_code: str, item_ids: Iterable[uuid.UUID]
) -> tuple[int, dict[uuid.UUID, tuple[float, float]]]:
    """The slot's kitchen minutes per window (capacity.capacity_minutes) and the measured
    (waiting, cooking) seconds of the dishes that have any (stage_seconds), in one read."""
    rows = (
        await session.execute(
            _CAPACITY_AND_TIMINGS, {"slot": slot_code, "ids": list(set(item_ids))}
        )
    ).all()
    return settle_kitchen_read(rows)


# The same read added to another one-row statement (a placement's opening read), for a
# fixed number of dishes: plain parameters, so the statement compiles once per count.
KITCHEN_READ_WIDTH = 4


def with_kitchen_read(statement: Select[Any], source: FromClause, dishes: int) -> Select[Any]:
    """`statement` (one row from `source`) with the kitchen read's KITCHEN_READ_WIDTH
    columns after its own: `slot`'s minutes per window and, one row per dish among
    `dish0`..`dish{dishes - 1}` that has been measured (else the one row, with NULLs),
    its measured times. Parameters from `kitchen_params`."""
    dish = ItemTiming.menu_item_id.type
    ids = [bindparam(f"dish{i}", type_=dish) for i in range(dishes)]
    return statement.add_columns(
        SLOT_MINUTES, ItemTiming.menu_item_id, ItemTiming.wait_seconds, ItemTiming.cook_seconds
    ).select_from(
        source.outerjoin(ItemTiming, and_(ItemTiming.menu_item_id.in_(ids), ItemTiming.samples > 0))
    )


def kitchen_params(slot_code: str | None, dish_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    return {"slot": slot_code, **{f"dish{i}": dish for i, dish in enumerate(dish_ids)}}


def settle_kitchen_read(
    rows: Sequence[Sequence[Any]],
) -> tuple[int, dict[uuid.UUID, tuple[float, float]]]:
    """The kitchen read's rows (its columns only) as the slot's minutes per window and the
    dishes' measured seconds."""
    measured = {
        item_id: (float(wait), float(cook))
        for _, item_id, wait, cook in rows
        if item_id is not None
    }
    return int(rows[0][0]), measured


async def stage_seconds(
    session: AsyncSession, item_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[float, float]]:
    """The measured (waiting, cooking) seconds of the dishes that have any."""
    ids = list(set(item_ids))
    if not ids:
        return {}
    rows = await session.execute(_TIMINGS, {"ids": ids})
    return {item_id: (float(wait), float(cook)) for item_id, wait, cook in rows.tuples()}


def own_seconds(
    lines: Iterable[tuple[uuid.UUID, int]],
    measured: dict[uuid.UUID, tuple[float, float]],
    *,
    waiting: bool = True,
) -> float:
    """The order's time in the kitchen: its slowest dish (dishes cook side by side), the
    measured wait before the kitchen starts (unless it has started: `waiting` False) and
    cooking time where the kitchen has made the dish before, else the menu's prep minutes."""

    def dish(item_id: uuid.UUID, prep: int) -> float:
        if item_id not in measured:
            return prep * 60.0
        wait, cook = measured[item_id]
        return wait + cook if waiting else cook

    return max((dish(item_id, prep) for item_id, prep in lines), default=0.0)


def placement_estimate(ready_from: datetime, reservation: Reservation) -> datetime:
    """Ready when the kitchen has worked through its window up to this order (the used
    minutes ahead of it and its own, at the window's capacity), never sooner than
    `ready_from`, its own cooking time from now. In whole microseconds, rounded down, as
    `placement_estimate_sql` computes it where a statement takes the window."""
    through = _WINDOW_MICROSECONDS * reservation.used_after // reservation.capacity
    return max(ready_from, reservation.window.start + timedelta(microseconds=through))


_WINDOW_MICROSECONDS = WINDOW // timedelta(microseconds=1)


def placement_estimate_sql(
    ready_from: ColumnElement[datetime],
    window_start: ColumnElement[datetime],
    used_after: ColumnElement[int],
    capacity: ColumnElement[int],
) -> ColumnElement[datetime]:
    """`placement_estimate` in PostgreSQL, for a placement that takes its window and writes
    the order in one statement: the same integer arithmetic, so the same instant."""
    through = literal(_WINDOW_MICROSECONDS, BigInteger()) * used_after // capacity
    microseconds = cast(through, Float()) * literal_column("INTERVAL '1 microsecond'", Interval())
    return func.greatest(ready_from, window_start + microseconds)


_MEASURED = select(ItemTiming.wait_seconds + ItemTiming.cook_seconds).where(ItemTiming.samples > 0)


async def typical_seconds(session: AsyncSession) -> float:
    """A typical dish's measured time in the kitchen, waiting and cooking (the mean over
    dishes), for the windows the app shows before anything is in the cart."""
    rows = list(await session.scalars(_MEASURED))
    if not rows:
        return TYPICAL_MINUTES * 60.0
    return sum(rows) / len(rows)


# Sent straight to the driver, every dish of the order in one round trip (issue 20).
_RECORD = DirectStatement(
    text(
        "INSERT INTO kitchen_item_timings (menu_item_id, wait_seconds, cook_seconds, samples, "
        "updated_at) VALUES (:item, :wait, :cook, 1, :now) "
        "ON CONFLICT (menu_item_id) DO UPDATE SET "
        "wait_seconds = kitchen_item_timings.wait_seconds * (1 - :alpha) "
        "+ excluded.wait_seconds * :alpha, "
        "cook_seconds = kitchen_item_timings.cook_seconds * (1 - :alpha) "
        "+ excluded.cook_seconds * :alpha, "
        "samples = kitchen_item_timings.samples + 1, updated_at = excluded.updated_at"
    ).bindparams(
        bindparam("now", type_=UTCDateTime()),
        bindparam("item", type_=ItemTiming.menu_item_id.type),
    )
)


async def record_stage_times(
    session: AsyncSession,
    item_ids: Iterable[uuid.UUID],
    *,
    confirmed_at: datetime | None,
    preparing_at: datetime | None,
    ready_at: datetime,
) -> None:
    """An order turned ready: fold its stage times into each of its dishes' averages
    (one upsert per dish, all sent at once, in id order so two orders never deadlock)."""
    if preparing_at is None:
        return  # not measured: the order skipped the preparing stage
    cook = max(0.0, (ready_at - preparing_at).total_seconds())
    wait = max(0.0, (preparing_at - confirmed_at).total_seconds()) if confirmed_at else 0.0
    rows = [
        {"item": item_id, "wait": wait, "cook": cook, "now": ready_at, "alpha": ALPHA}
        for item_id in sorted(set(item_ids))
    ]
    if rows:
        await _RECORD.execute_many(session, rows)
