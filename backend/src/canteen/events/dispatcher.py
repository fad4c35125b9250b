"""Outbox dispatcher: delivers committed events to the bus and to the domains' reactions.

Events are rows written in the same transaction as their change. After a commit the
request kicks the dispatcher; a periodic sweep also picks up anything a crashed process
left behind. Delivery is at least once: a batch is marked dispatched in the transaction
that publishes it, so a failed publish rolls the mark back; consumers de-duplicate by
event id. On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several processes share the work.
What follows an event (a refund, a push, an SMS) is decided by the domain that owns it,
in the reactions it registers (`canteen.events.reactions`); the dispatcher only calls them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, select, update

from canteen.core.db import UTCDateTime, utcnow
from canteen.core.direct import DirectStatement, Loaded, PerDialect
from canteen.events.models import Event
from canteen.events.reactions import Delivery, reactions_for

if TYPE_CHECKING:
    from canteen.core.container import Container

log = logging.getLogger("canteen.dispatcher")

BATCH = 200
SWEEP_SECONDS = 1.0
# Woken, the dispatcher waits this long before it claims, so the commits of that moment
# share one batch: one unit of work and three round trips for all of them, where under
# load each order had nearly a batch of its own (1.6 events a batch at 190 orders/s; issue
# 20). Every event reaches its listeners up to this much later.
GATHER_SECONDS = 0.01

# The batch is claimed and marked by one statement: the oldest undispatched events,
# marked dispatched and returned. Marking first is safe: the publish and the reactions run
# before the commit, and if either fails the transaction rolls back, so the events stay
# undispatched for the next try (still publish, then mark, as far as anyone outside sees).
# A Core statement sent straight to the driver, its rows made `Event`s as a query loads
# them (issue 20: the ORM's UPDATE ... RETURNING cost more CPU than the rest of a batch).
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_PENDING = (
    select(_EVENTS.c.seq)
    .where(_EVENTS.c.dispatched_at.is_(None))
    .order_by(_EVENTS.c.seq)
    .limit(BATCH)
)


def _claim(dialect: str) -> DirectStatement:
    pending = _PENDING.with_for_update(skip_locked=True) if dialect == "postgresql" else _PENDING
    return DirectStatement(
        update(_EVENTS)
        .where(_EVENTS.c.seq.in_(pending))
        .values(dispatched_at=bindparam("at", type_=UTCDateTime()))
        .returning(*_EVENTS.columns)
    )


_CLAIM = PerDialect(_claim)
_LOADED = Loaded(Event, _CLAIM.columns)


class Dispatcher:
    def __init__(self, container: Container, *, gather_seconds: float = GATHER_SECONDS) -> None:
        self.c = container
        self._gather_seconds = gather_seconds
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False

    def kick(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task is None:
            return
        # Let the loop finish its batch: cancelling inside a transaction could leave a
        # connection holding a lock.
        self._stopping = True
        self._wakeup.set()
        try:
            await asyncio.wait_for(self._task, 10)
        except (TimeoutError, asyncio.CancelledError, Exception):
            log.warning("dispatcher did not stop in time")
        self._task = None
        try:
            await self.dispatch_pending()  # hand over what was committed before shutdown
        except Exception:
            log.exception("could not dispatch the last events; the next process will")

    async def _run(self) -> None:
        while not self._stopping:
            kicked = False
            with contextlib.suppress(TimeoutError):
                kicked = await asyncio.wait_for(self._wakeup.wait(), SWEEP_SECONDS)
            if kicked and not self._stopping:  # the sweep has nothing to gather
                await asyncio.sleep(self._gather_seconds)
            # Cleared after the wait: a kick while gathering is for this batch.
            self._wakeup.clear()
            if self._stopping:
                return
            try:
                while await self.dispatch_pending() == BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatching events failed; will retry")
                await asyncio.sleep(1)

    async def dispatch_pending(self) -> int:
        """Deliver one batch of undispatched events in log order; returns how many."""
        async with self._lock, self.c.sessionmaker() as session, session.begin():
            rows = await _CLAIM.of(session).rows(session, {"at": utcnow()})
            # RETURNING keeps no order. The events stay out of the session: nothing here
            # changes them.
            events = sorted((_LOADED.one(row) for row in rows), key=lambda e: e.seq)
            delivery = Delivery(self.c.jobs, session, events)
            for event in events:
                await self.c.bus.publish(event.to_message())
                for react in reactions_for(event.type):
                    await react(event, delivery)
            return len(events)
