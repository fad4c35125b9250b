"""The windows the app shows before ordering, and the admin's capacity setting."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.errors import ValidationFailed, field_error
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
from canteen.menu.models import TimeSlot
from canteen.menu.slots import current_slot, list_slots, slot_by_code


async def windows(
    session: AsyncSession, code: str | None, *, now: datetime, tz: ZoneInfo
) -> WindowsOut:
    """The slot's upcoming windows with room, each with when a typical order would be
    ready there; `code` None: the slot being served now."""
    slot = await _slot(session, code, now, tz)
    minutes = await capacity.capacity_minutes(session, slot.code)
    typical = timedelta(seconds=await eta.typical_seconds(session))
    upcoming = [w for w in capacity.slot_windows(slot, now, tz) if w.end > now + typical]
    used = await capacity.used_minutes(session, slot.code, upcoming)
    shown: list[WindowOut] = []
    for w in upcoming:
        taken = used.get(w.start, 0)
        if minutes - taken < capacity.SHOWN_ROOM:
            continue
        through = capacity.WINDOW * (min(minutes, taken + typical.total_seconds() / 60) / minutes)
        shown.append(
            WindowOut(
                window=w.label(tz),
                start=w.start,
                end=w.end,
                room_minutes=minutes - taken,
                ready_around=max(now + typical, w.start + through),
            )
        )
    first = shown[0] if shown else None
    return WindowsOut(
        time_slot=slot.code,
        minutes_per_window=minutes,
        kitchen_busy=first is None or first.start > now + typical,
        ready_around=first.ready_around if first else None,
        windows=shown,
    )


async def _slot(session: AsyncSession, code: str | None, now: datetime, tz: ZoneInfo) -> TimeSlot:
    if code is not None:
        slot = await slot_by_code(session, code)
        if slot is None or not slot.is_active:
            raise ValidationFailed(
                details=[
                    field_error("time_slot", "unknown_slot", f"No active time slot called {code!r}")
                ]
            )
        return slot
    current = current_slot(await list_slots(session, active_only=True), now, tz)
    if current is None:
        raise ValidationFailed(
            details=[
                field_error("time_slot", "required", "No time slot is being served now; choose one")
            ]
        )
    return current


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
        raise ValidationFailed(
            details=[
                field_error("time_slot", "unknown_slot", f"No time slot called {body.time_slot!r}")
            ]
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
