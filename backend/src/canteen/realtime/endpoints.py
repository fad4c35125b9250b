"""Live order tracking (WebSocket, design §7.1) and the kitchen feed (SSE, design §7.2)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from canteen.auth.deps import authenticate
from canteen.core.container import Container
from canteen.core.errors import (
    InsufficientRole,
    InvalidToken,
    NotFound,
    TokenExpired,
    ValidationFailed,
    field_error,
)
from canteen.events.models import Event
from canteen.events.service import latest_seq
from canteen.orders.models import Order
from canteen.orders.presenter import customer_order
from canteen.orders.state import TERMINAL
from canteen.realtime.accounts import DEACTIVATED
from canteen.realtime.hub import KITCHEN_TYPES
from canteen.realtime.order_window import WINDOW_CHECK_SECONDS, closing_time, read_closing_time
from canteen.realtime.sse import wait_disconnect
from canteen.realtime.station_filter import station_reader
from canteen.stations.models import Station
from canteen.users.models import Role

log = logging.getLogger("canteen.realtime")
router = APIRouter(tags=["realtime"])

WS_HEARTBEAT_SECONDS = 25.0
SSE_HEARTBEAT_SECONDS = 15.0
SSE_LIFETIME_SECONDS = 30 * 60.0
SSE_RETRY_MS = 2000
CLOSE_INVALID_TOKEN = 4401
# "Not yours" and "does not exist" close alike, so order ids cannot be probed.
CLOSE_NO_ORDER = 4404
CLOSE_ROLE_CHANGED = 4409  # the account's role changed: reconnect to be authorised anew
WS_MAX_PENDING = 100  # messages queued for one socket before it is dropped as too slow
# Event seqs are 64-bit, written in ASCII digits (int() also takes "+1", " 1", "1_0"
# and other scripts' digits).
_SEQ_RE = re.compile(r"[0-9]{1,19}")
_MAX_SEQ = 2**63 - 1


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    # A close code can only reach the client on an accepted socket; nothing has been
    # subscribed or sent before this point.
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


class _Close:
    """A close queued behind the messages already sent (not a message itself)."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class _Follower:
    """Sends one socket the hub's messages for its order, in order.

    Memory per idle socket is the budget here (10,000 open on one process): an idle
    socket is only its handler waiting for a client frame. Messages are queued by the
    hub's listener call and sent by a task that exists only while there is something
    to send, so every send (pings included) comes from one place, in order.
    """

    __slots__ = (
        "closing",
        "finished",
        "last_seq",
        "paused",
        "pending",
        "sender",
        "terminal",
        "turn",
        "websocket",
        "window",
    )

    def __init__(
        self,
        websocket: WebSocket,
        last_seq: int,
        closing: Callable[[], Awaitable[datetime | None]],
        now: Callable[[], datetime],
    ) -> None:
        self.websocket = websocket
        self.last_seq = last_seq
        self.pending: deque[dict[str, Any] | _Close] = deque()
        self.sender: asyncio.Task[None] | None = None
        self.paused = True  # until the snapshot has gone out
        self.finished = False
        # A finished order's socket closes when its status is final (realtime.order_window):
        # `window` waits for that while the order is terminal; `turn` tells it the
        # order moved again (a recall) since it started.
        self.closing = (closing, now)
        self.terminal = False
        self.turn = 0
        self.window: asyncio.Task[None] | None = None

    def offer(self, message: dict[str, Any]) -> None:
        if self.finished:
            return
        if len(self.pending) >= WS_MAX_PENDING:
            # A client this far behind is disconnected rather than buffered without end.
            self.pending.clear()
            self.pending.append(_TOO_SLOW)
        else:
            self.pending.append(message)
        self._wake()

    def revoke(self, reason: str) -> None:
        """The account changed (realtime.accounts): close now, sending nothing more."""
        if reason == DEACTIVATED:
            close = _Close(CLOSE_INVALID_TOKEN, InvalidToken.code)
        else:
            close = _Close(CLOSE_ROLE_CHANGED, "ROLE_CHANGED")
        self.pending.clear()
        self.pending.append(close)
        self._wake()

    def resume(self, last_seq: int) -> None:
        self.last_seq = max(self.last_seq, last_seq)
        self.paused = False
        self._wake()

    def _wake(self) -> None:
        if self.sender is None and not self.paused and self.pending:
            self.sender = asyncio.get_running_loop().create_task(self._send_pending())

    async def _send_pending(self) -> None:
        try:
            while self.pending and not self.finished:
                message = self.pending.popleft()
                if isinstance(message, _Close):
                    self.finished = True
                    await self.websocket.close(code=message.code, reason=message.reason)
                elif message is _PING:
                    await self.websocket.send_text('{"type":"ping"}')
                elif int(message.get("seq", 0)) > self.last_seq:  # else already in the snapshot
                    self.last_seq = int(message["seq"])
                    await self.websocket.send_text(orjson.dumps(message).decode())
                    self.status_seen(message.get("status"))
        except Exception:  # the client went away mid-send: the handler sees it and ends
            self.finished = True
        finally:
            self.sender = None

    def status_seen(self, status: Any) -> None:
        """A status went out: a terminal one starts waiting for it to be final."""
        if status is None or (status in TERMINAL) == self.terminal:
            return
        self.terminal = status in TERMINAL
        self.turn += 1
        if self.terminal:
            self.window = asyncio.get_running_loop().create_task(self._close_when_final())

    async def _close_when_final(self) -> None:
        closing, now = self.closing
        turn, until = self.turn, None
        while turn == self.turn and not self.finished:
            if until is None or now() >= until:
                try:  # shielded: a read cancelled half-way can leave SQLite locked
                    until = await asyncio.shield(asyncio.ensure_future(closing()))
                except Exception:
                    log.exception("order socket: could not read the recall window")
                    until = now()  # close as for any finished order
                if until is None or turn != self.turn:
                    return  # moved again (recalled): its events are on the way
                if now() >= until:
                    self.pending.append(_Close(1000, ""))
                    self._wake()
                    return
            await asyncio.sleep(WINDOW_CHECK_SECONDS)

    async def stop(self) -> None:
        self.finished = True
        for task in (self.sender, self.window):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


_PING: dict[str, Any] = {"type": "ping"}
_TOO_SLOW = _Close(1013, "too slow")


@router.websocket("/ws/orders/{order_id}")
async def track_order(websocket: WebSocket, order_id: str, token: str = "") -> None:
    c: Container = websocket.app.state.container
    try:
        oid = uuid.UUID(order_id)
    except ValueError:
        await _refuse(websocket, CLOSE_NO_ORDER, "no such order")
        return
    follower = _Follower(websocket, 0, partial(read_closing_time, c, oid), c.clock.now)
    # Subscribe first, then read the state: a change in between is not lost (the
    # follower holds it until the snapshot is out and drops what the snapshot covers).
    with c.hub.order_subscription(str(oid), follower.offer):
        async with c.sessionmaker() as session:
            try:
                user = await authenticate(c, session, token)
            except (InvalidToken, TokenExpired) as exc:
                await _refuse(websocket, CLOSE_INVALID_TOKEN, exc.code)
                return
            order = await session.get(Order, oid)
            if order is None or (
                order.customer_id != user.id and user.role not in (Role.kitchen, Role.admin)
            ):
                await _refuse(websocket, CLOSE_NO_ORDER, "no such order")
                return
            account = (user.id, str(user.role))
            last_seq = await latest_seq(session, order_id=oid)
            snapshot = orjson.dumps(
                {
                    "type": "order.snapshot",
                    "order_id": str(oid),
                    "seq": last_seq,
                    "status": order.status,
                    "payment_status": order.payment_status,
                    # As GET /orders/{id} shows it: with the payment (status, checkout
                    # URL, why it failed) and any refund, so a failed UPI payment is
                    # never shown as "waiting" (issue 14, point 2).
                    "order": (await customer_order(c, session, order)).model_dump(mode="json"),
                }
            ).decode()
            # A handover or staff cancel that may still be recalled is not final yet.
            closes_at = await closing_time(session, order, c.clock.now())
            finished = closes_at is not None and closes_at <= c.clock.now()
        try:
            await websocket.accept()
            await websocket.send_text(snapshot)
            if finished:
                await websocket.close(code=1000)
                return
            follower.resume(last_seq)
            follower.status_seen(order.status)
            # The handler only waits for the client: frames are ignored, a disconnect
            # ends it at once (and never holds up a server shutdown).
            with c.hub.accounts.watch(*account, follower.revoke):
                while not follower.finished:
                    try:
                        async with asyncio.timeout(WS_HEARTBEAT_SECONDS):
                            message = await websocket.receive()
                    except TimeoutError:
                        follower.offer(_PING)
                        continue
                    if message["type"] == "websocket.disconnect":
                        return
            # The follower closed the socket (order finished, too slow, account changed):
            # let its last send complete, then wait briefly for the client's close.
            if follower.sender is not None:
                await asyncio.wait({follower.sender}, timeout=WS_HEARTBEAT_SECONDS)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            await follower.stop()


@router.get(
    "/admin/orders/stream",
    tags=["kitchen"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def kitchen_stream(
    request: Request,
    token: str | None = None,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    authorization: Annotated[str | None, Header()] = None,
    station: Annotated[
        uuid.UUID | None, Query(description="Only the events of orders with a line there")
    ] = None,
) -> StreamingResponse:
    c: Container = request.app.state.container
    raw = token or (authorization or "").removeprefix("Bearer ").strip()
    if not raw:
        raise InvalidToken("Authentication is required")
    async with c.sessionmaker() as session:
        user = await authenticate(c, session, raw)
        if user.role not in (Role.kitchen, Role.admin):
            raise InsufficientRole(
                details=[{"required_roles": ["admin", "kitchen"], "role": user.role}]
            )
        resume = last_event_id if last_event_id is not None else last_event_id_query
        if last_event_id_query is not None:
            parse_seq(last_event_id_query)  # refused even when the header wins (contract)
        if resume is not None:
            after = parse_seq(resume)
        else:
            after = await latest_seq(session)
        account = (user.id, str(user.role))
        if station is not None and await session.get(Station, station) is None:
            raise NotFound("No such station", details=[field_error("station", "unknown")])
    return StreamingResponse(
        stream_log(
            c,
            request,
            after,
            partial(c.hub.accounts.watch, *account),
            replay=resume is not None,
            read=None if station is None else station_reader(station),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def parse_seq(raw: str) -> int:
    """A resume position, refused (400) unless it is a seq an event could have."""
    if _SEQ_RE.fullmatch(raw) is None or int(raw) > _MAX_SEQ:
        raise ValidationFailed(
            "Last-Event-ID must be an event sequence number",
            details=[field_error("Last-Event-ID", "invalid")],
        )
    return int(raw)


def _frame(event: Event) -> bytes:
    data = orjson.dumps(event.to_message())
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.seq, event.type.encode(), data)


# What a stream reads from the log after a seq (at most 500 events, in seq order), and
# how it writes one event: the kitchen's, or a filter of it (realtime.display_stream).
LogReader = Callable[[Container, int], Awaitable[list[Event]]]
Framer = Callable[[Event], bytes]
# Keeps watching the client's credentials while the stream is open; calls `end(reason)`.
Watch = Callable[[Callable[[str], None]], AbstractContextManager[None]]


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
