"""Time slots: serving windows in the canteen's local time (breakfast, lunch, …)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, time, tzinfo
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.direct import DirectStatement, Loaded
from canteen.core.errors import NotFound, ValidationFailed, field_error
from canteen.events.service import record_event
from canteen.events.types import EventType
from canteen.menu.config import bump_menu_version
from canteen.menu.errors import TimeSlotCodeTaken, TimeSlotInUse
from canteen.menu.models import MenuItem, TimeSlot, menu_item_slots
from canteen.menu.schemas import TimeSlotCreate, TimeSlotUpdate


class SlotLike(Protocol):
    @property
    def start_time(self) -> time: ...
    @property
    def end_time(self) -> time: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def sort_order(self) -> int: ...


S = TypeVar("S", bound=SlotLike)


def current_slot(slots: Iterable[S], now_utc: datetime, tz: tzinfo | str) -> S | None:
    """The active slot whose window holds `now_utc` in the canteen's zone.

    Windows are half-open, [start, end). If windows overlap, the first in serving order
    (sort_order, then start time) wins.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = now_utc.astimezone(zone).time().replace(tzinfo=None)
    for slot in sorted(slots, key=lambda s: (s.sort_order, s.start_time)):
        if slot.is_active and slot.start_time <= local < slot.end_time:
            return slot
    return None


async def slot_by_code(session: AsyncSession, code: str) -> TimeSlot | None:
    slot: TimeSlot | None = await session.scalar(select(TimeSlot).where(TimeSlot.code == code))
    return slot


_SLOTS: Table = TimeSlot.__table__  # type: ignore[assignment]
# The serving order and the active filter, written once: every list of slots, and the
# apps' settings' read of them, show the same rows in the same order.
_SERVING_ORDER = (_SLOTS.c.sort_order, _SLOTS.c.start_time, _SLOTS.c.code)
_ACTIVE = _SLOTS.c.is_active.is_(True)


async def list_slots(session: AsyncSession, *, active_only: bool = False) -> list[TimeSlot]:
    query = select(TimeSlot).order_by(*_SERVING_ORDER)
    if active_only:
        query = query.where(_ACTIVE)
    return list(await session.scalars(query))


# The apps' settings (`/config/public`, read once by every student) list the active slots:
# read on the direct path, as objects outside the session (issue 20).
_ACTIVE_SLOTS = DirectStatement(
    select(_SLOTS).where(_ACTIVE).order_by(*_SERVING_ORDER), in_transaction=False
)
_SHOWN_SLOT = Loaded(TimeSlot, _ACTIVE_SLOTS.columns)


async def active_slots_to_show(session: AsyncSession) -> list[TimeSlot]:
    """`list_slots(session, active_only=True)` for an answer: the same rows in the same
    order, as objects outside the session (nothing changes them)."""
    return [_SHOWN_SLOT.one(row) for row in await _ACTIVE_SLOTS.rows(session, {})]


async def create_slot(
    session: AsyncSession, body: TimeSlotCreate, *, actor_id: uuid.UUID
) -> TimeSlot:
    _check_window(body.start_time, body.end_time)
    await _check_code_free(session, body.code)
    slot = TimeSlot(id=uuid.uuid4(), **body.model_dump())
    await _flush_unique(session, slot, body.code)
    await _announce(session, slot, "created", list(body.model_dump()), actor_id)
    return slot


async def update_slot(
    session: AsyncSession, slot_id: uuid.UUID, body: TimeSlotUpdate, *, actor_id: uuid.UUID
) -> TimeSlot:
    slot = await _get(session, slot_id, lock=True)
    requested = body.model_dump(exclude_unset=True)
    _check_window(
        requested.get("start_time", slot.start_time), requested.get("end_time", slot.end_time)
    )
    changes = {f: v for f, v in requested.items() if getattr(slot, f) != v}
    if not changes:
        return slot
    if "code" in changes:
        await _check_code_free(session, changes["code"])
    for field, value in changes.items():
        setattr(slot, field, value)
    await _flush_unique(session, slot, slot.code)
    await _announce(session, slot, "updated", list(changes), actor_id)
    return slot


async def delete_slot(session: AsyncSession, slot_id: uuid.UUID, *, actor_id: uuid.UUID) -> None:
    slot = await _get(session, slot_id, lock=True)
    used_by = list(
        await session.execute(
            select(MenuItem.id, MenuItem.name)
            .join(menu_item_slots, menu_item_slots.c.item_id == MenuItem.id)
            .where(menu_item_slots.c.slot_id == slot.id)
            .order_by(MenuItem.name)
        )
    )
    if used_by:
        raise TimeSlotInUse(
            f"{len(used_by)} menu item(s) are sold in this slot; take them out of it first, "
            "or deactivate the slot instead",
            details=[{"menu_item_id": str(i), "name": n} for i, n in used_by[:50]],
        )
    await _announce(session, slot, "deleted", [], actor_id)
    await session.delete(slot)
    await session.flush()


async def _get(session: AsyncSession, slot_id: uuid.UUID, *, lock: bool = False) -> TimeSlot:
    slot = await session.get(TimeSlot, slot_id, with_for_update=lock)
    if slot is None:
        raise NotFound("No time slot with this id")
    return slot


def _check_window(start: time, end: time) -> None:
    if end <= start:
        raise ValidationFailed(
            details=[
                field_error(
                    "end_time",
                    "end_not_after_start",
                    f"The slot must end after it starts ({start:%H:%M}); "
                    "slots cannot run past midnight",
                )
            ]
        )


async def _check_code_free(session: AsyncSession, code: str) -> None:
    taken = await session.scalar(select(func.count()).where(TimeSlot.code == code))
    if taken:
        raise _code_taken(code)


async def _flush_unique(session: AsyncSession, slot: TimeSlot, code: str) -> None:
    # The check above gives the friendly answer; the unique index settles races.
    try:
        async with session.begin_nested():
            session.add(slot)
    except IntegrityError as exc:
        raise _code_taken(code) from exc


def _code_taken(code: str) -> TimeSlotCodeTaken:
    return TimeSlotCodeTaken(
        f"A time slot called {code!r} already exists",
        details=[field_error("code", "taken", value=code)],
    )


async def _announce(
    session: AsyncSession, slot: TimeSlot, action: str, fields: list[str], actor_id: uuid.UUID
) -> None:
    """A slot is both menu (items' `time_slots`, `?time_slot=current`) and settings
    (`/config/public` lists the slots): record both events in this transaction."""
    version = await bump_menu_version(session)
    data: dict[str, Any] = {
        "entity": "time_slot",
        "action": action,
        "id": str(slot.id),
        "code": slot.code,
        "changes": fields,
    }
    await record_event(
        session, EventType.menu_updated, data={**data, "menu_version": version}, actor_id=actor_id
    )
    await record_event(
        session, EventType.config_updated, data={**data, "section": "time_slots"}, actor_id=actor_id
    )
