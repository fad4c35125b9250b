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

from sqlalchemy import bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

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


_USED = select(KitchenWindow.window_start, KitchenWindow.used_minutes).where(
    KitchenWindow.slot_code == bindparam("slot"),
    KitchenWindow.window_start >= bindparam("first", type_=UTCDateTime()),
    KitchenWindow.window_start <= bindparam("last", type_=UTCDateTime()),
)

# The reservation: create the row with this order's minutes, or add them while they fit.
# The same SQL on PostgreSQL and SQLite; no row comes back when the window is full.
_RESERVE = DirectStatement(
    text(
        "INSERT INTO kitchen_windows (slot_code, window_start, used_minutes) "
        "VALUES (:slot, :start, :cost) "
        "ON CONFLICT (slot_code, window_start) DO UPDATE "
        "SET used_minutes = kitchen_windows.used_minutes + excluded.used_minutes "
        "WHERE kitchen_windows.used_minutes + excluded.used_minutes <= :cap "
        "RETURNING used_minutes"
    ).bindparams(bindparam("start", type_=UTCDateTime()))
)

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


async def reserve(
    session: AsyncSession,
    slot: Slot,
    *,
    now: datetime,
    tz: ZoneInfo,
    lines: list[tuple[int, int]],
    ready_from: datetime,
    picked: time | None,
    capacity: int | None = None,
) -> Reservation:
    """Take the earliest window with room that ends after `ready_from` (the soonest the
    food can be ready), or the picked one. Raises SlotFull with the next windows.
    `capacity`: the slot's minutes per window, if the caller has read them already."""
    if capacity is None:
        capacity = await capacity_minutes(session, slot.code)
    cost = order_cost(lines, capacity)
    upcoming = slot_windows(slot, now, tz)
    windows = [w for w in upcoming if w.end > ready_from]
    if upcoming and not windows:  # not full: the slot ends before the food could be ready
        raise _ends_too_soon(slot, upcoming[-1].end, ready_from, tz)
    if picked is not None:
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
        windows = chosen
    # The first window usually has room: try it before reading the others (one round trip).
    taken = await _take(session, slot.code, windows[:1], cost, capacity)
    if taken is None and len(windows) > 1:
        used = await used_minutes(session, slot.code, windows[1:])
        free = [w for w in windows[1:] if used.get(w.start, 0) + cost <= capacity]
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
                ends_at=_iso(ends),
                ready_from=_iso(ready_from),
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
            start=_iso(w.start),
            end=_iso(w.end),
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


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
