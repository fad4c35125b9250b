"""What happens after an event, beyond telling the sockets: the domains' reactions.

The outbox dispatcher delivers each committed event to the bus and then calls the
reactions registered for its type, in registration order. The dispatcher decides
nothing itself: payments registers the refund, notifications the push and the ready SMS
(`canteen.bootstrap.register_reactions`). A reaction enqueues jobs and must be cheap;
like delivery it runs at least once per event, so the jobs it enqueues are idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from canteen.core.jobs import JobRunner
from canteen.events.models import Event
from canteen.events.types import EventType

Reaction = Callable[[Event, JobRunner], Awaitable[None]]

_REACTIONS: dict[EventType, list[Reaction]] = {}


def register_reaction(event_type: EventType, reaction: Reaction) -> Reaction:
    """Call `reaction(event, jobs)` for every delivered event of `event_type` (once,
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
