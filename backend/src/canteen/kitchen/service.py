"""The windows the app shows before ordering, and the admin's capacity setting."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import NotFound, field_error
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.kitchen import capacity, eta
from canteen.kitchen.models import SlotCapacity
from canteen.kitchen.schemas import (
    CapacityOut,
    CapacityUpdate,
    SlotCapacityOut,
    WindowOut,
    WindowsOut,
)
from canteen.menu.models import MenuItem, TimeSlot
from canteen.menu.slots import current_slot, list_slots, slot_by_code


async def windows(
    session: AsyncSession,
    code: str | None,
    *,
    now: datetime,
    tz: ZoneInfo,
    cart: list[uuid.UUID] | None = None,
) -> WindowsOut:
    """The slot's upcoming windows with room, each with when an order would be ready
    there; `code` None: the slot being served now, else the next to open. With `cart` (one
    menu item id per portion) the room and the times are the cart's own: a window is
    offered only if the cart fits in it, as placing the order would find."""
    slot = await _slot(session, code, now, tz)
    cart_lines = await _cart_lines(session, cart or [])
    if cart_lines:
        # The placement's own read: the slot's capacity and the dishes' measured times.
        minutes, measured = await eta.capacity_and_stage_seconds(
            session, slot.code, (item for item, _, _ in cart_lines)
        )
        own = timedelta(
            seconds=eta.own_seconds(((item, prep) for item, prep, _ in cart_lines), measured)
        )
        cost = capacity.order_cost([(prep, qty) for _, prep, qty in cart_lines], minutes)
    else:
        minutes = await capacity.capacity_minutes(session, slot.code)
        own = timedelta(seconds=await eta.typical_seconds(session))
        cost = capacity.SHOWN_ROOM
    upcoming = [w for w in capacity.slot_windows(slot, now, tz) if w.end > now + own]
    used = await capacity.used_minutes(session, slot.code, upcoming)
    shown: list[WindowOut] = []
    for w in upcoming:
        taken = used.get(w.start, 0)
        if minutes - taken < cost:
            continue
        through = capacity.WINDOW * (min(minutes, taken + own.total_seconds() / 60) / minutes)
        shown.append(
            WindowOut(
                window=w.label(tz),
                start=w.start,
                end=w.end,
                room_minutes=minutes - taken,
                ready_around=max(now + own, w.start + through),
            )
        )
    first = shown[0] if shown else None
    return WindowsOut(
        time_slot=slot.code,
        minutes_per_window=minutes,
        cart_minutes=cost if cart_lines else None,
        kitchen_busy=first is None or first.start > now + own,
        ready_around=first.ready_around if first else None,
        windows=shown,
    )


async def _cart_lines(
    session: AsyncSession, cart: list[uuid.UUID]
) -> list[tuple[uuid.UUID, int, int]]:
    """(item, prep minutes, portions) of the cart's dishes on the menu; others are left out
    (placing the order names them)."""
    if not cart:
        return []
    portions = Counter(cart)
    rows = await session.execute(
        select(MenuItem.id, MenuItem.prep_minutes).where(MenuItem.id.in_(portions))
    )
    return [(item, prep, portions[item]) for item, prep in rows.tuples()]


async def _slot(session: AsyncSession, code: str | None, now: datetime, tz: ZoneInfo) -> TimeSlot:
    if code is not None:
        slot = await slot_by_code(session, code)
        if slot is None or not slot.is_active:
            raise NotFound(
                f"No active time slot called {code!r}",
                details=[field_error("time_slot", "unknown_slot", f"No active time slot {code!r}")],
            )
        return slot
    active = await list_slots(session, active_only=True)
    chosen = current_slot(active, now, tz) or _next_to_open(active, now, tz)
    if chosen is None:
        raise NotFound(
            "The canteen has no active time slot",
            details=[field_error("time_slot", "none_active", "No time slot is active")],
        )
    return chosen


def _next_to_open(slots: list[TimeSlot], now: datetime, tz: ZoneInfo) -> TimeSlot | None:
    """Outside serving hours: the slot whose next window comes first (later today, else
    tomorrow's first), the one a student ordering now would pre-order for."""
    upcoming = [(capacity.slot_windows(s, now, tz), s) for s in slots]
    dated = [(windows[0].start, s.sort_order, s) for windows, s in upcoming if windows]
    return min(dated, key=lambda d: (d[0], d[1]))[2] if dated else None


async def capacity_settings(session: AsyncSession) -> CapacityOut:
    default = await capacity.default_minutes(session)
    rows = {r.slot_code: r.minutes_per_window for r in await session.scalars(_ALL_CAPACITY)}
    slots = await list_slots(session)
    return CapacityOut(
        default_minutes_per_window=default,
        slots=[
            SlotCapacityOut(
                time_slot=s.code,
                minutes_per_window=rows.get(s.code, default),
                is_default=s.code not in rows,
            )
            for s in slots
        ],
    )


async def set_capacity(
    session: AsyncSession, body: CapacityUpdate, *, actor_id: uuid.UUID
) -> CapacityOut:
    """An admin sets a slot's kitchen minutes per window (null: the staff default)."""
    if await slot_by_code(session, body.time_slot) is None:
        raise NotFound(
            f"No time slot called {body.time_slot!r}",
            details=[field_error("time_slot", "unknown_slot", "No time slot with this code")],
        )
    await session.execute(delete(SlotCapacity).where(SlotCapacity.slot_code == body.time_slot))
    if body.minutes_per_window is not None:
        session.add(
            SlotCapacity(slot_code=body.time_slot, minutes_per_window=body.minutes_per_window)
        )
    await session.flush()
    await record_event(
        session,
        EventType.config_updated,
        data={
            "section": "kitchen_capacity",
            "changes": {body.time_slot: body.minutes_per_window},
        },
        actor_id=actor_id,
    )
    return await capacity_settings(session)


_ALL_CAPACITY = select(SlotCapacity)
