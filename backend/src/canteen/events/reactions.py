"""What happens after an event, beyond telling the sockets: the domains' reactions.

The outbox dispatcher delivers each committed event to the bus and then calls the
reactions registered for its type, in registration order. The dispatcher decides
nothing itself: payments registers the refund, notifications the push and the ready SMS
(`canteen.bootstrap.register_reactions`). A reaction enqueues jobs and must be cheap;
like delivery it runs at least once per event, so the jobs it enqueues are idempotent.
A reaction may skip a job that would do nothing (printing when printing is off) by a
read shared by every event of the dispatcher's batch (`Delivery.read_once`), provided
the job's own sweep re-drives whatever that read could have missed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.jobs import JobRunner
from canteen.events.models import Event
from canteen.events.types import EventType

T = TypeVar("T")


class Delivery:
    """What a reaction gets with each event: the job runner, and the dispatcher's
    transaction for reads made once per batch of events, not once per event."""

    def __init__(
        self, jobs: JobRunner, session: AsyncSession, events: Sequence[Event] = ()
    ) -> None:
        self.jobs = jobs
        self.session = session
        self.events = events  # the whole batch, for a read that covers all of it
        self._read: dict[str, Any] = {}

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        await self.jobs.enqueue(name, **kwargs)

    async def read_once(self, key: str, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`read(session)`, made on the batch's first call with this key."""
        if key not in self._read:
            self._read[key] = await read(self.session)
        value: T = self._read[key]
        return value


Reaction = Callable[[Event, Delivery], Awaitable[None]]

_REACTIONS: dict[EventType, list[Reaction]] = {}


def register_reaction(event_type: EventType, reaction: Reaction) -> Reaction:
    """Call `reaction(event, delivery)` for every delivered event of `event_type` (once,
    however often it is registered)."""
    registered = _REACTIONS.setdefault(event_type, [])
    if reaction not in registered:
        registered.append(reaction)
    return reaction


def reactions_for(event_type: str) -> tuple[Reaction, ...]:
    try:
        return tuple(_REACTIONS.get(EventType(event_type), ()))
    except ValueError:
        return ()
