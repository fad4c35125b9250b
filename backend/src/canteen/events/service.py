"""Recording events: always inside the caller's transaction (transactional outbox)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import after_commit, utcnow
from canteen.core.direct import DirectStatement
from canteen.core.direct_flush import flush_changes
from canteen.events.models import Event
from canteen.events.types import EVENT_TYPES, EventType

__all__ = [
    "EVENT_TYPES",
    "INSERTED_EVENTS",
    "EventFacts",
    "EventType",
    "event_values",
    "flush_then_insert_event_row",
    "insert_event_row",
    "latest_seq",
    "note_inserted",
    "record_event",
]

# Where insert_event_row notes what it wrote, in the session's info: no Event object is made, so
# what counts flushed events after a commit (observability.metrics) reads these too.
INSERTED_EVENTS = "events_inserted"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What an event inserted by insert_event_row said (the fields its counters read)."""

    type: str
    data: dict[str, Any]
    status: str | None
    payment_status: str | None


# On PostgreSQL an event's final `seq` is given while its transaction commits, under this
# advisory lock (migration 0007's trigger), so `seq` order is commit order: a reader that
# has seen seq N has seen every event below N (SSE replay relies on it). The lock lasts
# only the commit. SQLite's writers are serialised already.
EVENT_LOG_LOCK = 7_200_001


async def record_event(
    session: AsyncSession,
    type: EventType,
    *,
    data: dict[str, Any] | None = None,
    order_id: uuid.UUID | None = None,
    order_number: str | None = None,
    status: str | None = None,
    payment_status: str | None = None,
    actor_id: uuid.UUID | None = None,
) -> Event:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = Event(
        id=uuid.uuid4(),
        type=EventType(type).value,  # the plain wire name
        data=data or {},
        order_id=order_id,
        order_number=order_number,
        status=status,
        payment_status=payment_status,
        actor_id=actor_id,
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()  # a provisional seq; the final one is given at commit
    _wake_dispatcher_after_commit(session)
    return event


_EVENTS: Table = Event.__table__  # type: ignore[assignment]
# Every column but seq (the database gives it), in one statement shape compiled once.
_INSERT_EVENT = DirectStatement(
    insert(_EVENTS), column_keys=[c.key for c in _EVENTS.columns if c.key != "seq"]
)


async def insert_event_row(session: AsyncSession, row: dict[str, Any]) -> None:
    """record_event as one Core INSERT of the row `event_values` made, for the hot paths:
    nothing is flushed first (the caller has written its own rows) and no Event object is
    made."""
    await _INSERT_EVENT.execute(session, row)
    note_inserted(session, row)


async def flush_then_insert_event_row(session: AsyncSession, row: dict[str, Any]) -> None:
    """The session's changes flushed (`flush_changes`), then `insert_event_row`: on
    PostgreSQL, when the changes are one row's UPDATE, both in one statement."""
    await flush_changes(session, then_insert=(_INSERT_EVENT, row))
    note_inserted(session, row)


def event_values(
    type: EventType,
    *,
    data: dict[str, Any],
    order_id: uuid.UUID | None,
    order_number: str | None,
    status: str | None,
    payment_status: str | None,
    actor_id: uuid.UUID | None,
) -> dict[str, Any]:
    """An event's row, every column but seq: for a statement that writes it with others
    (`note_inserted` once it has run)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    return {
        "id": uuid.uuid4(),
        "type": EventType(type).value,
        "data": data,
        "order_id": order_id,
        "order_number": order_number,
        "status": status,
        "payment_status": payment_status,
        "actor_id": actor_id,
        "created_at": utcnow(),
        "dispatched_at": None,
    }


def note_inserted(session: AsyncSession, row: dict[str, Any]) -> None:
    """What follows an event row written without an Event object: its facts noted for the
    counters read after the commit, and the dispatcher woken by the commit."""
    facts = EventFacts(row["type"], row["data"], row["status"], row["payment_status"])
    session.info.setdefault(INSERTED_EVENTS, []).append(facts)
    _wake_dispatcher_after_commit(session)


def _wake_dispatcher_after_commit(session: AsyncSession) -> None:
    kick = session.info.get("on_event")
    if kick is not None and not session.info.get("kick_scheduled"):
        session.info["kick_scheduled"] = True

        async def wake_dispatcher() -> None:
            kick()

        after_commit(session, wake_dispatcher)


async def latest_seq(session: AsyncSession, *, order_id: uuid.UUID | None = None) -> int:
    """The log's highest seq (or one order's), 0 while there is none: where a stream or
    socket starts, and what a resume position is compared with."""
    if order_id is None:
        return int(await _LATEST_SEQ.scalar(session, {}) or 0)
    return int(await _LATEST_SEQ_OF_ORDER.scalar(session, {"order_id": order_id}) or 0)


# Plain reads, run alone when nothing has begun the transaction (the order socket opens
# with reads only: canteen.core.direct).
_MAX_SEQ = select(func.coalesce(func.max(_EVENTS.c.seq), 0))
_LATEST_SEQ = DirectStatement(_MAX_SEQ, in_transaction=False)
_LATEST_SEQ_OF_ORDER = DirectStatement(
    _MAX_SEQ.where(_EVENTS.c.order_id == bindparam("order_id")), in_transaction=False
)
