"""The students' live menu channel (SSE): menu and settings changes as they happen.

A student's open menu, cart or checkout must not wait for the 5-minute config poll to
learn that a dish sold out, a price moved or the canteen paused orders. Every message
here means "re-read the menu and settings" (ETags make that cheap); its `data` says
what changed so the app can react before the re-read lands (a sold-out dish in the cart
is flagged at once).

Live messages come from the process's hub (one bus subscription per process, fanned out
in memory: 1,000 students cost no database reads per change); a reconnect with
`Last-Event-ID` replays what was missed from the event log, or asks for a full re-read
(`menu.resync`) when too much was missed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from canteen.core.container import Container
from canteen.events.models import Event
from canteen.events.service import latest_seq
from canteen.realtime.hub import MENU_TYPES
from canteen.realtime.sse import (
    HEADERS,
    Account,
    bearer_token,
    resume_seq,
    stream_account,
    wait_disconnect,
)

router = APIRouter(tags=["realtime"])

HEARTBEAT_SECONDS = 15.0
LIFETIME_SECONDS = 30 * 60.0
RETRY_MS = 2000
REPLAY_LIMIT = 200  # more missed than this: one resync message instead
MAX_PENDING = 100  # a client this far behind gets a resync instead of a backlog


@router.get(
    "/menu/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="Live menu and settings changes for students (SSE)",
)
async def menu_stream(
    request: Request,
    token: str | None = None,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Events: `hello` (the position), `menu.updated`, `config.updated`, `menu.resync`.
    Signed in like the order socket (any role); resume with `Last-Event-ID`."""
    stream = await open_menu_stream(
        request, token, authorization, last_event_id, last_event_id_query
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=HEADERS)


async def open_menu_stream(
    request: Request,
    token: str | None,
    authorization: str | None,
    last_event_id: str | None,
    last_event_id_query: str | None,
) -> AsyncIterator[bytes]:
    """Check who is asking and where they resume, before the first byte: every refusal
    is an ordinary error answer, not a broken stream."""
    c: Container = request.app.state.container
    raw = bearer_token(token, authorization)
    # The same rule as the kitchen stream: a seq an event could have (ASCII digits, 64 bits).
    after = resume_seq(last_event_id, last_event_id_query)
    account = await stream_account(c, raw)
    return _stream(c, request, after, account)


def _frame(message: dict[str, Any]) -> bytes:
    public = {k: message[k] for k in ("seq", "type", "at", "data") if k in message}
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (
        int(message["seq"]),
        str(message["type"]).encode(),
        orjson.dumps(public),
    )


def _resync(seq: int) -> bytes:
    return b"id: %d\nevent: menu.resync\ndata: %s\n\n" % (
        seq,
        orjson.dumps({"seq": seq, "type": "menu.resync", "data": {}}),
    )


async def _stream(
    c: Container, request: Request, after: int | None, account: Account
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LIFETIME_SECONDS
    pending: deque[dict[str, Any]] = deque()
    wakeup = asyncio.Event()
    overflow = False

    def offer(message: dict[str, Any]) -> None:
        nonlocal overflow
        if len(pending) >= MAX_PENDING:
            overflow = True
            pending.clear()
        pending.append(message)
        wakeup.set()

    ended: list[str] = []

    def end(reason: str) -> None:  # the account changed (realtime.accounts)
        ended.append(reason)
        wakeup.set()

    disconnected = asyncio.create_task(wait_disconnect(request))
    # Subscribe before reading the log: a change in between is held, not lost.
    with c.hub.menu_subscription(offer), c.hub.accounts.watch(*account, end):
        try:
            # Shielded: a client leaving mid-read must not leave the read's connection
            # unclosed (on SQLite, holding the database lock; see the kitchen stream).
            latest, missed = await asyncio.shield(asyncio.ensure_future(_position(c, after)))
            start = latest if after is None else min(after, latest)
            yield b"retry: %d\nid: %d\nevent: hello\ndata: %s\n\n" % (
                RETRY_MS,
                start,
                orjson.dumps({"last_event_id": start, "replay": after is not None}),
            )
            last = start
            if len(missed) > REPLAY_LIMIT:
                last = latest
                yield _resync(latest)
            else:
                for event in missed:
                    last = max(last, event.seq)
                    yield _frame(event.to_message())
                last = max(last, latest) if after is None else last
            sent_up_to = last  # live copies of what the replay already sent are dropped
            while loop.time() < deadline and not disconnected.done():
                if ended:
                    yield b": account changed (%s), stream closed\n\n" % ended[0].encode()
                    return
                wakeup.clear()
                if overflow:
                    overflow = False
                    pending.clear()
                    yield _resync(max(last, sent_up_to))
                while pending:
                    message = pending.popleft()
                    seq = int(message.get("seq") or 0)
                    if seq <= sent_up_to:
                        continue
                    last = max(last, seq)
                    yield _frame(message)
                woken = asyncio.create_task(wakeup.wait())
                timeout = min(HEARTBEAT_SECONDS, max(0.1, deadline - loop.time()))
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
    yield b"retry: %d\n: lifetime reached, reconnect\n\n" % RETRY_MS


async def _position(c: Container, after: int | None) -> tuple[int, list[Event]]:
    """The log's latest seq, and what a resuming client missed (one more than replayed)."""
    async with c.sessionmaker() as session:
        latest = await latest_seq(session)
        missed: list[Event] = []
        if after is not None and after < latest:
            missed = list(
                await session.scalars(
                    select(Event)
                    .where(Event.seq > after, Event.type.in_(MENU_TYPES))
                    .order_by(Event.seq)
                    .limit(REPLAY_LIMIT + 1)
                )
            )
    return latest, missed
