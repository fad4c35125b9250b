"""Recording events: always inside the caller's transaction (transactional outbox)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.db import after_commit, utcnow
from canteen.events.models import Event

EVENT_LOG_LOCK = 7_200_001  # arbitrary, project-wide advisory lock id for the event log

EVENT_TYPES = frozenset(
    {
        "order.created",
        "order.status_changed",
        "order.payment_updated",
        "order.assigned",
        "menu.updated",
        "config.updated",
    }
)


async def lock_event_log(session: AsyncSession) -> None:
    """Serialise event writers until commit, so `seq` order is commit order: a reader that
    has seen seq N has seen every event below N (SSE replay relies on this).

    Every transaction that records an event holds this lock until it commits, so take it
    as late as possible: work done after it (and before commit) is work no other writer
    can do meanwhile. Taken once per transaction. SQLite needs nothing: its writers are
    serialised already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.sync_session.get_transaction()
    if transaction is None or session.info.get("event_log_locked_by") is transaction:
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_LOG_LOCK})
    session.info["event_log_locked_by"] = transaction


async def record_event(
    session: AsyncSession,
    type: str,
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
    await lock_event_log(session)
    event = Event(
        id=uuid.uuid4(),
        type=type,
        data=data or {},
        order_id=order_id,
        order_number=order_number,
        status=status,
        payment_status=payment_status,
        actor_id=actor_id,
        created_at=utcnow(),
    )
    session.add(event)
    await session.flush()  # assigns seq
    kick = session.info.get("on_event")
    if kick is not None and not session.info.get("kick_scheduled"):
        session.info["kick_scheduled"] = True

        async def wake_dispatcher() -> None:
            kick()

        after_commit(session, wake_dispatcher)
    return event
