"""The kitchen feed (SSE, design §7.2) and the mechanism its filters share.

`open_kitchen_stream` decides everything before the first byte (who is asking, their
role, where they resume, the station), so every refusal is an ordinary error answer,
not a broken stream. `stream_log` is the one generator behind the kitchen stream, its
station filter (realtime.station_filter) and the display's (realtime.display_stream).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager
from functools import partial

import orjson
from fastapi import Request
from sqlalchemy import select

from canteen.core.container import Container
from canteen.core.errors import NotFound, field_error
from canteen.events.models import Event
from canteen.events.service import latest_seq
from canteen.realtime.hub import KITCHEN_TYPES
from canteen.realtime.sse import bearer_token, resume_seq, stream_account, wait_disconnect
from canteen.realtime.station_filter import station_reader
from canteen.stations.models import Station
from canteen.users.models import Role

SSE_HEARTBEAT_SECONDS = 15.0
SSE_LIFETIME_SECONDS = 30 * 60.0
SSE_RETRY_MS = 2000
KITCHEN_ROLES = (Role.admin, Role.kitchen)

# What a stream reads from the log after a seq (at most 500 events, in seq order), and
# how it writes one event: the kitchen's, or a filter of it (realtime.display_stream).
LogReader = Callable[[Container, int], Awaitable[list[Event]]]
Framer = Callable[[Event], bytes]
# Keeps watching the client's credentials while the stream is open; calls `end(reason)`.
Watch = Callable[[Callable[[str], None]], AbstractContextManager[None]]


async def open_kitchen_stream(
    request: Request,
    token: str | None,
    authorization: str | None,
    last_event_id: str | None,
    last_event_id_query: str | None,
    station: uuid.UUID | None,
) -> AsyncIterator[bytes]:
    """The kitchen's stream, or one station's, checked in this order: a token (401),
    kitchen or admin (403), the resume position (400), the station (404)."""
    c: Container = request.app.state.container
    account = await stream_account(c, bearer_token(token, authorization), KITCHEN_ROLES)
    resume = resume_seq(last_event_id, last_event_id_query)
    async with c.sessionmaker() as session:
        after = resume if resume is not None else await latest_seq(session)
        if station is not None and await session.get(Station, station) is None:
            raise NotFound("No such station", details=[field_error("station", "unknown")])
    return stream_log(
        c,
        request,
        after,
        partial(c.hub.accounts.watch, *account),
        replay=resume is not None,
        read=None if station is None else station_reader(station),
    )


def _frame(event: Event) -> bytes:
    data = orjson.dumps(event.to_message())
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.type.encode(), data)


async def stream_log(
    c: Container,
    request: Request,
    after: int,
    watch: Watch,
    *,
    replay: bool,
    read: LogReader | None = None,
    frame: Framer = _frame,
) -> AsyncIterator[bytes]:
    """Read the event log after `after`, in order, each time the hub says something happened.

    The log is the source, not the bus message: a reconnecting portal resumes from its
    Last-Event-ID and nothing is missed or repeated. The stream ends, sending nothing
    more, when its account is deactivated or changes role (realtime.accounts); the
    portal's reconnect is then refused or authorised under the new role. The one
    mechanism behind the kitchen stream and its filters: `read` picks the events (the
    kitchen's by default), `frame` what each one says, `watch` who may keep listening.
    """
    read = read or _kitchen_events
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SSE_LIFETIME_SECONDS
    # Notice a closed connection at once, not at the next heartbeat write: otherwise a
    # dropped tablet keeps its stream (and the server's shutdown) waiting.
    disconnected = asyncio.create_task(wait_disconnect(request))
    try:
        with c.hub.kitchen_subscription() as sub, watch(sub.end):
            yield b"retry: %d\nid: %d\nevent: hello\ndata: %s\n\n" % (
                SSE_RETRY_MS,
                after,
                orjson.dumps({"last_event_id": after, "replay": replay}),
            )
            last = after
            while loop.time() < deadline and not disconnected.done():
                if sub.ended is not None:
                    yield b": account changed (%s), stream closed\n\n" % sub.ended.encode()
                    return
                sub.wakeup.clear()
                # Shielded: a client leaving cancels this generator, and a read cancelled
                # half-way left its connection unclosed - on SQLite holding the database
                # lock, so every write then failed (found by schemathesis, issue 13).
                events = await asyncio.shield(asyncio.ensure_future(read(c, last)))
                for event in events:
                    if sub.ended is not None:
                        break
                    last = event.seq
                    yield frame(event)
                if len(events) == 500:
                    continue
                woken = asyncio.create_task(sub.wakeup.wait())
                timeout = min(SSE_HEARTBEAT_SECONDS, max(0.1, deadline - loop.time()))
                done, _ = await asyncio.wait(
                    {woken, disconnected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                woken.cancel()
                if disconnected in done:
                    return
                if not done:
                    yield b": heartbeat\n\n"
    finally:
        disconnected.cancel()
    # Lifetime cap: ask the client to come back (it resumes from its last id).
    yield b"retry: %d\n: lifetime reached, reconnect\n\n" % SSE_RETRY_MS


async def _kitchen_events(c: Container, after: int) -> list[Event]:
    async with c.sessionmaker() as session:
        return list(
            await session.scalars(
                select(Event)
                .where(Event.seq > after, Event.type.in_(KITCHEN_TYPES))
                .order_by(Event.seq)
                .limit(500)
            )
        )
