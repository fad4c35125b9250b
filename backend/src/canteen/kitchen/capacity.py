"""Kitchen capacity per 15-minute window (issue 16, part 2).

Each slot has kitchen minutes per window (an admin setting; by default 15 minutes per
active kitchen staff member). An order costs the prep minutes of its lines (prep x
quantity, at most one whole window) and takes the earliest window with room, or the one
the student picked, with one conditional upsert on the window's row: the reservation and
the queue's running figure in one statement, in the placement's transaction (so it rolls
back with the stock if anything later fails, and two orders never both take the last room).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Interval,
    String,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.clock import iso_z
from canteen.core.db import UTCDateTime
from canteen.core.direct import DirectStatement
from canteen.core.errors import ValidationFailed, field_error
from canteen.kitchen.errors import SlotFull
from canteen.kitchen.models import KitchenWindow, SlotCapacity
from canteen.users.models import Role, User

WINDOW = timedelta(minutes=15)
MINUTES_PER_STAFF = 15
# A window is "with room" for the app when at least this many kitchen minutes are left.
SHOWN_ROOM = 1
NEXT_WINDOWS_SHOWN = 4


class Slot(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def start_time(self) -> time: ...
    @property
    def end_time(self) -> time: ...


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime  # UTC
    end: datetime

    def label(self, tz: ZoneInfo) -> str:
        return f"{self.start.astimezone(tz):%H:%M}"


@dataclass(frozen=True, slots=True)
class Reservation:
    window: Window
    capacity: int  # the slot's kitchen minutes per window
    cost: int  # minutes this order took
    used_after: int  # the window's used minutes with this order: the queue ahead and itself


def slot_windows(slot: Slot, now: datetime, tz: ZoneInfo) -> list[Window]:
    """The slot's windows not yet over, on its next occurrence: today while the slot is
    still open or ahead, else tomorrow (a pre-order for a slot that has ended today)."""
    local_now = now.astimezone(tz)
    day = local_now.date()
    if local_now.time().replace(tzinfo=None) >= slot.end_time:
        day += timedelta(days=1)
    return [w for w in _day_windows(slot, day, tz) if w.end > now]


def _day_windows(slot: Slot, day: date, tz: ZoneInfo) -> list[Window]:
    start = datetime.combine(day, slot.start_time, tzinfo=tz)
    end = datetime.combine(day, slot.end_time, tzinfo=tz)
    windows: list[Window] = []
    while start < end:
        windows.append(Window(start.astimezone(UTC), min(start + WINDOW, end).astimezone(UTC)))
        start += WINDOW
    return windows


# Without a row of its own, a slot has 15 kitchen minutes per window for each active
# kitchen staff member (at least one). Expressions, so a placement's kitchen read computes
# them in its own statement (an uncorrelated subquery under COALESCE: the staff are
# counted only for a slot without a row).
_STAFF = func.count()
STAFF_DEFAULT_MINUTES = (
    select(case((_STAFF < 1, 1), else_=_STAFF) * MINUTES_PER_STAFF)
    .where(User.role == Role.kitchen, User.is_active.is_(True))
    .scalar_subquery()
)
# The slot's (`:slot`) kitchen minutes per window: its own, else the staff default.
SLOT_MINUTES = func.coalesce(
    select(SlotCapacity.minutes_per_window)
    .where(SlotCapacity.slot_code == bindparam("slot"))
    .scalar_subquery(),
    STAFF_DEFAULT_MINUTES,
)
_DEFAULT_MINUTES = select(STAFF_DEFAULT_MINUTES)
_CAPACITY_MINUTES = select(SLOT_MINUTES)


async def default_minutes(session: AsyncSession) -> int:
    minutes = await session.scalar(_DEFAULT_MINUTES)
    assert minutes is not None  # a count always has its row
    return int(minutes)


async def capacity_minutes(session: AsyncSession, slot_code: str) -> int:
    return int(await session.scalar(_CAPACITY_MINUTES, {"slot": slot_code}))


def order_cost(lines: list[tuple[int, int]], capacity: int) -> int:
    """Kitchen minutes of (prep_minutes, quantity) lines: each portion is the kitchen's
    time. An order larger than a window takes a whole (empty) window, so it can be placed."""
    return max(1, min(capacity, sum(prep * quantity for prep, quantity in lines)))


_ADD_WHILE_IT_FITS = (
    "ON CONFLICT (slot_code, window_start) DO UPDATE "
    "SET used_minutes = kitchen_windows.used_minutes + excluded.used_minutes "
    "WHERE kitchen_windows.used_minutes + excluded.used_minutes <= :cap"
)

_USED = select(KitchenWindow.window_start, KitchenWindow.used_minutes).where(
    KitchenWindow.slot_code == bindparam("slot"),
    KitchenWindow.window_start >= bindparam("first", type_=UTCDateTime()),
    KitchenWindow.window_start <= bindparam("last", type_=UTCDateTime()),
)

# The reservation: create the row with this order's minutes, or add them while they fit.
# The same SQL on PostgreSQL and SQLite; no row comes back when the window is full.
_RESERVE = DirectStatement(
    text(
        "INSERT INTO kitchen_windows (slot_code, window_start, used_minutes) "  # noqa: S608 (constant SQL)
        "VALUES (:slot, :start, :cost) "
        f"{_ADD_WHILE_IT_FITS} RETURNING used_minutes"
    ).bindparams(bindparam("start", type_=UTCDateTime()))
)
# PostgreSQL's reservation of the first of several windows with room, the first part of a
# common placement's one statement (orders.order_rows): the windows' starts in order, as
# an array. The room is read as the rows stood when the statement began, and checked again
# under the row's lock by the same conditional upsert: a window filled meanwhile leaves no
# row, as a full one does, and is never overfilled.
RESERVE_FIRST_WITH_ROOM_SQL = text(
    "INSERT INTO kitchen_windows (slot_code, window_start, used_minutes) "  # noqa: S608 (constant SQL)
    "SELECT :slot, w.start, :cost FROM unnest(:starts) WITH ORDINALITY AS w (start, n) "
    "WHERE COALESCE((SELECT k.used_minutes FROM kitchen_windows AS k "
    "WHERE k.slot_code = :slot AND k.window_start = w.start), 0) + :cost <= :cap "
    f"ORDER BY w.n LIMIT 1 {_ADD_WHILE_IT_FITS} "
    "RETURNING window_start, used_minutes"
).bindparams(
    bindparam("slot", type_=String()),
    bindparam("starts", type_=ARRAY(UTCDateTime())),
    bindparam("cost", type_=Integer()),
    bindparam("cap", type_=Integer()),
)


def window_end_sql(
    start: ColumnElement[datetime], slot_ends_at: ColumnElement[datetime]
) -> ColumnElement[datetime]:
    """A window's end (`Window.end`) from its start: a whole window, or the slot's end."""
    whole = literal_column(f"INTERVAL '{WINDOW // timedelta(seconds=1)} seconds'", Interval())
    return func.least(start + whole, slot_ends_at)


_RELEASE = text(
    "UPDATE kitchen_windows SET used_minutes = CASE WHEN used_minutes > :cost "
    "THEN used_minutes - :cost ELSE 0 END "
    "WHERE slot_code = :slot AND window_start = :start"
).bindparams(bindparam("start", type_=UTCDateTime()))


async def used_minutes(
    session: AsyncSession, slot_code: str, windows: list[Window]
) -> dict[datetime, int]:
    if not windows:
        return {}
    rows = await session.execute(
        _USED, {"slot": slot_code, "first": windows[0].start, "last": windows[-1].start}
    )
    return {start: used for start, used in rows.tuples()}


def windows_for(
    slot: Slot, *, now: datetime, tz: ZoneInfo, ready_from: datetime, picked: time | None
) -> list[Window]:
    """The windows an order may take, earliest first: those of the slot's next occurrence
    that end after `ready_from` (the soonest the food can be ready), or the picked one.
    Raises SlotFull when the slot ends too soon, and a validation error for a picked time
    that is not one of them."""
    upcoming = slot_windows(slot, now, tz)
    windows = [w for w in upcoming if w.end > ready_from]
    if upcoming and not windows:  # not full: the slot ends before the food could be ready
        raise _ends_too_soon(slot, upcoming[-1].end, ready_from, tz)
    if picked is None:
        return windows
    chosen = [w for w in windows if w.start.astimezone(tz).time() == picked]
    if not chosen:
        raise ValidationFailed(
            details=[
                field_error(
                    "pickup_window",
                    "not_available",
                    f"{picked:%H:%M} is not an upcoming window of this slot",
                    time_slot=slot.code,
                    windows=[w.label(tz) for w in windows[:NEXT_WINDOWS_SHOWN]],
                )
            ]
        )
    return chosen


async def reserve(
    session: AsyncSession,
    slot: Slot,
    windows: list[Window],
    *,
    now: datetime,
    tz: ZoneInfo,
    ready_from: datetime,
    cost: int,
    capacity: int,
    found_full: bool = False,
) -> Reservation:
    """Take the first of `windows` (`windows_for`) with room for `cost` of the slot's
    `capacity` minutes per window. Raises SlotFull with the next windows with room.
    `found_full`: a moment ago none had room (a common placement's one statement tried
    them), so their room is read before any is tried."""
    taken = None
    rest = windows
    if not found_full:
        # The first window usually has room: try it before reading the others.
        taken = await _take(session, slot.code, windows[:1], cost, capacity)
        rest = windows[1:]
    if taken is None and rest:
        used = await used_minutes(session, slot.code, rest)
        free = [w for w in rest if used.get(w.start, 0) + cost <= capacity]
        taken = await _take(session, slot.code, free, cost, capacity)
    if taken is None:
        raise SlotFull(details=await _next_with_room(session, slot, now, tz, ready_from, cost))
    window, after = taken
    return Reservation(window, capacity, cost, after)


def _ends_too_soon(slot: Slot, ends: datetime, ready_from: datetime, tz: ZoneInfo) -> SlotFull:
    closing = f"{ends.astimezone(tz):%H:%M}"
    return SlotFull(
        f"This slot ends at {closing}, before this order could be ready; choose another slot",
        details=[
            field_error(
                "time_slot",
                "ends_too_soon",
                f"The slot ends at {closing}",
                time_slot=slot.code,
                ends_at=iso_z(ends),
                ready_from=iso_z(ready_from),
            )
        ],
    )


async def _take(
    session: AsyncSession, slot_code: str, windows: list[Window], cost: int, capacity: int
) -> tuple[Window, int] | None:
    """The first of `windows` whose conditional upsert succeeds, with its used minutes."""
    for window in windows:
        after = await _RESERVE.scalar(
            session, {"slot": slot_code, "start": window.start, "cost": cost, "cap": capacity}
        )
        if after is not None:  # None: full, or another order took the room since the read
            return window, int(after)
    return None


async def _next_with_room(
    session: AsyncSession,
    slot: Slot,
    now: datetime,
    tz: ZoneInfo,
    ready_from: datetime,
    cost: int,
) -> list[dict[str, Any]]:
    capacity = await capacity_minutes(session, slot.code)
    windows = [w for w in slot_windows(slot, now, tz) if w.end > ready_from]
    used = await used_minutes(session, slot.code, windows)
    free = [w for w in windows if used.get(w.start, 0) + cost <= capacity]
    return [
        field_error(
            "pickup_window",
            "next_with_room",
            f"Room at {w.label(tz)}",
            time_slot=slot.code,
            window=w.label(tz),
            start=iso_z(w.start),
            end=iso_z(w.end),
            room_minutes=capacity - used.get(w.start, 0),
        )
        for w in free[:NEXT_WINDOWS_SHOWN]
    ]


async def release(
    session: AsyncSession, slot_code: str | None, start: datetime | None, cost: int
) -> None:
    """A cancelled order gives its minutes back to its window."""
    if slot_code is None or start is None or cost <= 0:
        return
    await session.execute(_RELEASE, {"slot": slot_code, "start": start, "cost": cost})


_RETAKE = text(
    "UPDATE kitchen_windows SET used_minutes = used_minutes + :cost "
    "WHERE slot_code = :slot AND window_start = :start"
).bindparams(bindparam("start", type_=UTCDateTime()))


async def retake(
    session: AsyncSession, slot_code: str | None, start: datetime | None, cost: int
) -> None:
    """A cancel recalled by the kitchen (within minutes): the order's minutes are its
    window's again, even if the room was taken since (the kitchen undoes its own mistake;
    the window is then over its capacity by this order, and refuses new ones until it
    frees up)."""
    if slot_code is None or start is None or cost <= 0:
        return
    await session.execute(_RETAKE, {"slot": slot_code, "start": start, "cost": cost})
